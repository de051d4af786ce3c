"""Where messages go: the provider interface, the export provider (the default) and the HTTP gateway.

A provider delivers one message and says what became of it; the sender (``sender.py``) owns the
outbox rows and their states. Nothing here touches the database.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol
from urllib.parse import urlsplit

from pensioncert.notify.rules import mask_phone
from pensioncert.settings import NotifySettings

log = logging.getLogger(__name__)

Outcome = Literal["sent", "ready", "retry", "failed"]


@dataclass(frozen=True)
class OutgoingMessage:
    """One SMS as a provider sees it. ``phone`` is the full number: never log it, log ``masked``."""

    key: str
    phone: str
    text: str
    kind: str

    @property
    def masked(self) -> str:
        return mask_phone(self.phone)


@dataclass(frozen=True)
class Delivery:
    """What became of one message: sent, ready (for the export file), retry later, or failed for good."""

    outcome: Outcome
    error: str | None = None  # a message code notify.error.*


class Provider(Protocol):
    name: str

    def deliver(self, message: OutgoingMessage) -> Delivery: ...


class ExportProvider:
    """The default: nothing leaves this machine. Messages are marked ready and
    ``pensioncert notify export`` writes the file the agency's SMS platform imports."""

    name = "export"

    def deliver(self, message: OutgoingMessage) -> Delivery:
        return Delivery("ready")


class RateLimiter:
    """At most ``per_minute`` calls a minute, evenly spaced (gateways count per second too)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if per_minute <= 0:
            raise ValueError("per_minute must be positive")
        self.interval = 60.0 / per_minute
        self._clock = clock
        self._sleep = sleep
        self._next_at: float | None = None

    def wait(self) -> None:
        now = self._clock()
        if self._next_at is not None and now < self._next_at:
            self._sleep(self._next_at - now)
            now = self._next_at
        self._next_at = now + self.interval


class GatewayConfigError(ValueError):
    """The HTTP provider is selected but its gateway address is missing or not http(s)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


Post = Callable[[urllib.request.Request, float], tuple[int, dict[str, str]]]


def _urllib_post(request: urllib.request.Request, timeout: float) -> tuple[int, dict[str, str]]:
    """POST through urllib: (status, headers); HTTP errors come back as a status, not an exception."""
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
            return response.status, dict(response.headers.items())
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers.items()) if refused.headers else {}


class HttpProvider:
    """POST each message as JSON to the agency's SMS gateway.

    Body ``{"to", "text", "kind", "idempotency_key"}``; header ``Idempotency-Key`` (the outbox key,
    so a resend after a crash or a lost response is dropped by the gateway) and, when configured,
    ``Authorization: Bearer``. 2xx = sent. 429, 5xx, timeouts and refused connections are tried
    again within the run with exponential back-off (``Retry-After`` honoured up to a minute), then
    left for the next run; any other 4xx is the gateway saying no for good (bad number, bad text).
    """

    name = "http"

    def __init__(self, settings: NotifySettings, limiter: RateLimiter | None = None,
                 sleep: Callable[[float], None] = time.sleep, post: Post = _urllib_post) -> None:
        parts = urlsplit(settings.gateway_url)
        if not settings.gateway_url:
            raise GatewayConfigError("notify.error.no_gateway")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise GatewayConfigError("notify.error.bad_gateway")
        self.settings = settings
        self.limiter = limiter or RateLimiter(settings.per_minute, sleep=sleep)
        self._sleep = sleep
        self._post = post

    def _request(self, message: OutgoingMessage) -> urllib.request.Request:
        body = json.dumps({"to": message.phone, "text": message.text, "kind": message.kind,
                           "idempotency_key": message.key}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": message.key}
        if self.settings.gateway_token:
            headers["Authorization"] = f"Bearer {self.settings.gateway_token}"
        return urllib.request.Request(self.settings.gateway_url, data=body, headers=headers, method="POST")

    def deliver(self, message: OutgoingMessage) -> Delivery:
        tries = max(1, self.settings.tries_per_run)
        error = "notify.error.unreachable"
        for attempt in range(tries):
            self.limiter.wait()
            retry_after: float | None = None
            try:
                status, headers = self._post(self._request(message), self.settings.timeout_seconds)
            except OSError as down:  # URLError, refused connections and timeouts are all OSErrors
                log.warning("sms %s to %s: gateway unreachable (%s), try %d/%d", message.key, message.masked,
                            type(down).__name__, attempt + 1, tries)
                error = "notify.error.unreachable"
            else:
                if 200 <= status < 300:
                    log.info("sms %s to %s: sent (HTTP %d)", message.key, message.masked, status)
                    return Delivery("sent")
                if status != 429 and status < 500:
                    log.warning("sms %s to %s: refused by the gateway (HTTP %d)", message.key, message.masked,
                                status)
                    return Delivery("failed", "notify.error.refused")
                error = "notify.error.busy" if status == 429 else "notify.error.gateway_error"
                retry_after = _retry_after(headers)
                log.warning("sms %s to %s: HTTP %d, try %d/%d", message.key, message.masked, status, attempt + 1,
                            tries)
            if attempt + 1 < tries:
                pause = self.settings.backoff_seconds * 2 ** attempt
                self._sleep(min(60.0, retry_after) if retry_after is not None else pause)
        return Delivery("retry", error)


def _retry_after(headers: dict[str, str]) -> float | None:
    for name, value in headers.items():
        if name.lower() == "retry-after":
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def provider_from_settings(settings: NotifySettings) -> Provider:
    """The configured provider; an unknown name or an HTTP provider without a gateway fails closed."""
    if settings.provider == "export":
        return ExportProvider()
    if settings.provider == "http":
        return HttpProvider(settings)
    raise GatewayConfigError("notify.error.unknown_provider")
