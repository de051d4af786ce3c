"""Abuse controls in front of every route: body limits, strict content types, rate limits, security headers.

One pure ASGI middleware, so that a refusal costs no parsing: an oversized upload is
refused from its ``Content-Length`` before a byte is spooled, a wrong content type before
the multipart parser runs, a rate-limited caller before the database is touched. Every
route that takes a body has a limit (API, back office, pages); a chunked body is counted
while it streams and the request is answered 413 the moment it passes the limit. A
back-office ``POST`` without a live staff session is sent to the login page before a
byte of its body is read (FastAPI parses form bodies before it runs the guard).

Rate limits (settings.security, docs/security.md) count hits in a window that opens at a key's
first hit (``Retry-After`` is the rest of it), in Redis when the job backend is Redis (shared
by all API replicas) and in the process otherwise:

- per client address (``X-Forwarded-For`` believed only from ``security.trusted_proxies``):
  every API request (per minute), uploads and sessions started (per hour) — generous, for NATs;
- per device (``X-Device-Id``, else address + User-Agent): sessions started per hour, on top of
  the address's budget (the client chooses its device id: it may add a limit, never relax one);
- identity and query attempts (name + ID number): per session, per client address, and per
  retiree, keyed by the keyed hash of the ID number (guessing someone's number or name is
  throttled for that person whoever asks); and
  recordings per day, keyed by the session's retiree.

A Redis outage fails open (logged): refusing every retiree because a counter store is down
would be worse than a few minutes without limits.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

import anyio

from pensioncert.settings import Settings, get_settings

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    # The phone page records with the camera and microphone of its own origin, nothing else.
    "Permissions-Policy": "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
                               "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
                               "base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
}
# The interactive API docs load their own inline script; they get every header but the CSP.
_NO_CSP = ("/docs", "/redoc")
_HSTS = "max-age=31536000; includeSubDomains"

_UPLOAD = re.compile(r"^/api/v1/sessions/([^/]+)/(recordings|id-card)$")
_IDENTITY = re.compile(r"^/api/v1/(sessions/(?P<session>[^/]+)/identity|queries/[^/]+)$")
_SESSIONS = "/api/v1/sessions"
_DEVICE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_MULTIPART_SLACK = 1024 * 1024  # multipart framing and the small form fields around the file
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
_ADMIN_UPLOAD = re.compile(r"^/admin/(registry|passive)/import$")
_ADMIN_OPEN = ("/admin/login",)  # back-office POSTs that need no staff session

# Says whether the Cookie header of a request carries a live staff session (admin.guard provides it).
StaffGate = Callable[[str], bool]


class Limiter(Protocol):
    """Counts hits of ``key`` in a window that opens at its first hit; says how long to wait (0: allowed)."""

    def hit(self, key: str, limit: int, window: int) -> int: ...


class MemoryLimiter:
    """Counters in this process: the embedded (single server) deployment."""

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (hits, end of its window)
        self._lock = threading.Lock()
        self._pruned = 0.0

    def hit(self, key: str, limit: int, window: int) -> int:
        now = time.time()
        with self._lock:
            if now - self._pruned > 60:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._pruned = now
            count, ends = self._counts.get(key, (0, 0.0))
            if ends <= now:
                count, ends = 0, now + window
            count += 1
            self._counts[key] = (count, ends)
        return 0 if count <= limit else max(1, int(ends - now) + 1)


class RedisLimiter:
    """Counters in Redis (``SET NX EX`` + ``INCR``): one budget across every API replica."""

    def __init__(self, connection: Any, prefix: str) -> None:
        self.connection = connection
        self.prefix = prefix

    def hit(self, key: str, limit: int, window: int) -> int:
        name = f"{self.prefix}:rl:{key}"
        try:
            pipe = self.connection.pipeline(transaction=True)
            pipe.set(name, 0, ex=window, nx=True)  # the window opens at the first hit
            pipe.incr(name)
            pipe.ttl(name)
            _, count, ttl = pipe.execute()
        except Exception as failure:  # fail open: see the module docstring
            log.warning("rate limiter unavailable (%s): request allowed", type(failure).__name__)
            return 0
        return 0 if int(count) <= limit else max(1, int(ttl))


def make_limiter(settings: Settings) -> Limiter:
    if settings.jobs.backend == "redis":
        from pensioncert.jobs.redis_queue import connect

        return RedisLimiter(connect(settings.jobs), settings.jobs.queue_name)
    return MemoryLimiter()


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    params: dict[str, Any]
    retry_after: int = 0


class ProtectionMiddleware:
    """Security headers on every response; limits and rate limits on ``/api/``."""

    def __init__(self, app: ASGIApp, settings: Settings | None = None, limiter: Limiter | None = None,
                 staff_gate: StaffGate | None = None) -> None:
        self.app = app
        self.settings = settings or get_settings()
        self.limiter = limiter or make_limiter(self.settings)
        self.staff_gate = staff_gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        secure = scope.get("scheme") == "https"
        no_store = path.startswith("/api/")
        csp = not path.startswith(_NO_CSP)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = dict(SECURITY_HEADERS)
                if not csp:
                    extra.pop("Content-Security-Policy")
                if no_store:
                    extra["Cache-Control"] = "no-store"
                if secure:
                    extra["Strict-Transport-Security"] = _HSTS
                headers += [(k.lower().encode(), v.encode()) for k, v in extra.items()
                            if k.lower().encode() not in present]
                message["headers"] = headers
            await send(message)

        try:
            if not path.startswith("/api/"):
                await self._page(scope, receive, send_with_headers)
                return
            receive, refusal = await self._check(scope, receive)
        except _ClientGone:
            return
        except _DatabaseDown:
            await _unavailable(path, scope, receive, send_with_headers)
            return
        if refusal is not None:
            await _refuse(refusal, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)

    async def _page(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pages and the back office: the staff session first, then the body limit, then the route."""
        method: str = scope["method"]
        if method not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        gate = self.staff_gate if path.startswith("/admin/") and path not in _ADMIN_OPEN else None
        if gate is not None and not await _with_database(gate, headers.get("cookie", "")):
            await _redirect("/admin/login", send)
            return
        limit = self.body_limit(path)
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            await _refuse(_too_large(limit), send)
            return
        await _streamed_within(self.app, scope, receive, send, limit)

    def body_limit(self, path: str) -> int:
        """The largest body a non-API route accepts: registry/evidence files, else a form."""
        if _ADMIN_UPLOAD.match(path):
            return self.settings.admin.max_upload_bytes + _MULTIPART_SLACK
        return self.settings.security.max_form_bytes

    async def _check(self, scope: Scope, receive: Receive) -> tuple[Receive, Refusal | None]:
        """The first rule the request breaks, if any (and a receive that replays a buffered body)."""
        settings = self.settings
        security = settings.security
        path: str = scope["path"]
        method: str = scope["method"]
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        ip = scope_client_address(scope, headers, security.trusted_proxies)
        upload = _UPLOAD.match(path) if method == "POST" else None

        if security.rate_limit_enabled:
            refusal = await self._limit(f"ip:{ip}", security.ip_requests_per_minute, 60, "protection.rate_limited")
            if refusal is not None:
                return receive, refusal

        if method in ("POST", "PUT", "PATCH"):
            if upload is not None:
                size = settings.upload.max_video_bytes if upload.group(2) == "recordings" \
                    else 2 * settings.upload.max_image_bytes
                limit, expected = size + _MULTIPART_SLACK, "multipart/form-data"
            else:
                limit, expected = security.max_json_bytes, "application/json"
            refusal = _check_type(headers, expected)
            if refusal is not None:
                return receive, refusal
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > limit):
                return receive, _too_large(limit)
            if length is None or _IDENTITY.match(path):
                body, receive = await _buffer(receive, limit)
                if body is None:
                    return receive, _too_large(limit)
            else:
                body = b""
        else:
            body = b""

        if not security.rate_limit_enabled:
            return receive, None
        if upload is not None:
            refusal = await self._limit(f"ip-upload:{ip}", security.ip_uploads_per_hour, 3600,
                                        "protection.rate_limited")
            if refusal is None and upload.group(2) == "recordings":
                retiree = await _with_database(_retiree_of_session, upload.group(1))
                if retiree is not None:
                    refusal = await self._limit(f"retiree-upload:{retiree}", security.retiree_uploads_per_day,
                                                86400, "protection.too_many_uploads")
            return receive, refusal
        if method == "POST" and path == _SESSIONS:
            device = headers.get("x-device-id")
            if device is not None and not _DEVICE_ID.match(device):
                return receive, Refusal(400, "protection.bad_device_id", {})
            # The address's budget first: a new X-Device-Id on every request must not buy new sessions.
            refusal = await self._limit(f"ip-sessions:{ip}", security.ip_sessions_per_hour, 3600,
                                        "protection.too_many_sessions")
            if refusal is not None:
                return receive, refusal
            if device is None:
                device = hashlib.sha256(f"{ip}|{headers.get('user-agent', '')}".encode()).hexdigest()[:24]
            return receive, await self._limit(f"device:{device}", security.device_sessions_per_hour, 3600,
                                              "protection.too_many_sessions")
        identity = _IDENTITY.match(path) if method == "POST" else None
        if identity is not None:
            return receive, await self._limit_identity(identity.group("session"), ip, _id_number_of(body))
        return receive, None

    async def _limit_identity(self, session_id: str | None, ip: str, number: str) -> Refusal | None:
        """Name + ID number guesses: capped per session, per client address, and per ID number."""
        security = self.settings.security
        code = "protection.too_many_identity_attempts"
        if session_id:  # the window outlives the session, so a session never gets a second allowance
            refusal = await self._limit(f"identity-session:{session_id[:64]}", security.session_identity_attempts,
                                        2 * 60 * self.settings.flow.session_ttl_minutes, code)
            if refusal is not None:
                return refusal
        refusal = await self._limit(f"identity-ip:{ip}", security.ip_identity_per_hour, 3600, code)
        if refusal is not None or not number:
            return refusal
        from pensioncert.storage.crypto import protector_from_settings

        digest = protector_from_settings().lookup_hash(number)[:32]
        return await self._limit(f"retiree-id:{digest}", security.retiree_identity_per_hour, 3600, code)

    async def _limit(self, key: str, limit: int, window: int, code: str) -> Refusal | None:
        if limit <= 0:
            return None
        wait = await anyio.to_thread.run_sync(self.limiter.hit, key, limit, window)
        if not wait:
            return None
        log.info("rate limit %s hit (scope %s)", code, key.split(":", 1)[0])  # never the key: it may be an IP
        return Refusal(429, code, {"retry_after": wait}, wait)


def scope_client_address(scope: Scope, headers: dict[str, str], trusted_proxies: list[str]) -> str:
    """The address limits are keyed on: the peer, or X-Forwarded-For's nearest untrusted hop behind our proxies."""
    from pensioncert.clientaddr import client_address

    client = scope.get("client")
    return client_address(client[0] if client else "", headers.get("x-forwarded-for"), trusted_proxies)


class _ClientGone(Exception):
    """The client disconnected while its body was being read."""


class _DatabaseDown(Exception):
    """A check that needs the database could not reach it (answered 503, like the routes)."""


async def _with_database(function: Callable[..., Any], *args: Any) -> Any:
    """Run a database check in a thread; an unreachable database is ``_DatabaseDown``, never a 500."""
    from pensioncert.api.errors import DATABASE_UNAVAILABLE

    try:
        return await anyio.to_thread.run_sync(function, *args)
    except DATABASE_UNAVAILABLE as down:
        log.warning("database unavailable in a protection check (%s): 503", type(down).__name__)
        raise _DatabaseDown from down


async def _unavailable(path: str, scope: Scope, receive: Receive, send: Send) -> None:
    from pensioncert.api.errors import unavailable_response

    await unavailable_response(path)(scope, receive, send)


def _check_type(headers: dict[str, str], expected: str) -> Refusal | None:
    """Refuse a body declared as anything but what the route parses (no body is fine: e.g. new challenge)."""
    declared = headers.get("content-type", "").split(";")[0].strip().lower()
    if not declared and headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        return None
    if declared == expected:
        return None
    return Refusal(415, "protection.unsupported_media_type", {"expected": expected})


def _too_large(limit: int) -> Refusal:
    return Refusal(413, "protection.body_too_large", {"limit_mb": round(limit / 1024 / 1024, 1)})


async def _buffer(receive: Receive, limit: int) -> tuple[bytes | None, Receive]:
    """Read the whole body (at most ``limit`` bytes) and return a receive that replays it."""
    chunks: list[bytes] = []
    total = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGone
        chunk = message.get("body", b"")
        total += len(chunk)
        if total > limit:
            return None, receive
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


def _id_number_of(body: bytes) -> str:
    """The normalised ID number of an identity/query body; empty if there is none (the route will refuse)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    number = payload.get("id_number") if isinstance(payload, dict) else None
    return "".join(number.split()).upper()[:32] if isinstance(number, str) else ""


def _retiree_of_session(session_id: str) -> int | None:
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import CertSession

    if len(session_id) > 64:
        return None
    with get_database().session() as session:
        row = session.get(CertSession, session_id)
        return row.retiree_id if row is not None else None


async def _streamed_within(app: ASGIApp, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    """Run ``app`` on a body counted as it streams; past ``limit`` the route sees a disconnect and the
    client gets 413 in place of whatever the route answers (nothing beyond the limit is read)."""
    total = 0
    over = False
    started = False

    async def counted() -> Message:
        nonlocal total, over
        if over:
            return {"type": "http.disconnect"}
        message = await receive()
        if message["type"] == "http.request":
            total += len(message.get("body", b""))
            if total > limit:
                over = True
                return {"type": "http.disconnect"}
        return message

    async def guarded(message: Message) -> None:
        nonlocal started
        if over:
            if not started:
                started = True
                await _refuse(_too_large(limit), send)
            return
        started = started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, counted, guarded)
    except Exception:
        if not over:
            raise
    if over and not started:
        await _refuse(_too_large(limit), send)


async def _redirect(location: str, send: Send) -> None:
    headers = [(b"location", location.encode()), (b"content-length", b"0"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": 303, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _refuse(refusal: Refusal, send: Send) -> None:
    from pensioncert.api.errors import error_body

    payload = json.dumps(error_body(refusal.code, refusal.params), ensure_ascii=False).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if refusal.retry_after:
        headers.append((b"retry-after", str(refusal.retry_after).encode()))
    await send({"type": "http.response.start", "status": refusal.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


# ---------------------------------------------------------------- no secrets in logs

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
_installed_redaction = False


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Mask ID numbers (keep region and check digit, like the stored masked form) and remove key material."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[redacted]")
    return _ID_NUMBER.sub(lambda m: f"{m.group(1)}********{m.group(2)[-1]}", text)


def install_log_redaction(settings: Settings | None = None) -> None:
    """Every log record, whoever logs it, goes through ``redact`` (idempotent; survives handler changes)."""
    global _installed_redaction
    if _installed_redaction:
        return
    security = (settings or get_settings()).security
    secrets = tuple(s for s in (security.data_key, security.lookup_key) if len(s) >= 8)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a malformed log call: leave it to the handler to report
            return record
        cleaned = redact(message, secrets)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return record

    logging.setLogRecordFactory(factory)
    _installed_redaction = True


def install_protection(app: Any, settings: Settings | None = None, staff_gate: StaffGate | None = None) -> None:
    """What ``create_app`` calls: the middleware (with the back office's session check) and log redaction."""
    install_log_redaction(settings)
    app.add_middleware(ProtectionMiddleware, settings=settings, staff_gate=staff_gate)
