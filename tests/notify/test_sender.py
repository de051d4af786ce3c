"""The sender and its providers, the HTTP one against a real local HTTP server in a thread."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select, update

from pensioncert.clock import agency_today
from pensioncert.notify.providers import (
    ExportProvider,
    GatewayConfigError,
    HttpProvider,
    RateLimiter,
    provider_from_settings,
)
from pensioncert.notify.sender import send_pending, take_ready
from pensioncert.settings import NotifySettings
from pensioncert.storage.db import Database
from pensioncert.storage.models import Notification, Retiree
from pensioncert.storage.repository import enqueue_notification, utcnow
from tests.admin.conftest import TEST_PROTECTOR, seed


class Gateway:
    """A local SMS gateway: records every request and answers from a script of status codes."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[int] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                gateway.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                         "body": json.loads(body)})
                status = gateway.script.pop(0) if gateway.script else 200
                self.send_response(status)
                if status == 429:
                    self.send_header("Retry-After", "7")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: object) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms/send"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    server = Gateway()
    yield server
    server.close()


@pytest.fixture
def db(database: Database) -> Database:
    """The demo registry on SQLite and PostgreSQL: the claim is an UPDATE … WHERE state, on both."""
    seed(database, TEST_PROTECTOR, agency_today())  # queues the two suspension notices of the demo registry
    return database


def _settings(url: str, **changes: Any) -> NotifySettings:
    return NotifySettings(provider="http", gateway_url=url, gateway_token="t0ken", per_minute=6000,
                          tries_per_run=3, backoff_seconds=1.5, max_attempts=3).model_copy(update=changes)


def _rows(db: Database) -> list[Notification]:
    with db.session() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def _provider(settings: NotifySettings, sleeps: list[float]) -> HttpProvider:
    """Back-off pauses are recorded, not slept; the rate limiter is tested on its own below."""
    return HttpProvider(settings, limiter=RateLimiter(settings.per_minute, sleep=lambda _s: None),
                        sleep=sleeps.append)


def test_http_provider_posts_with_idempotency_key_and_token(db: Database, gateway: Gateway,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    settings = _settings(gateway.url)
    caplog.set_level(logging.INFO, logger="pensioncert.notify")
    report = send_pending(db, _provider(settings, []), settings)
    rows = _rows(db)
    assert report.outcomes == {"sent": 2} and [row.state for row in rows] == ["sent", "sent"]
    assert all(row.sent_at is not None and row.attempts == 1 for row in rows)
    assert [r["headers"]["Idempotency-Key"] for r in gateway.requests] == [row.idempotency_key for row in rows]
    assert all(r["headers"]["Authorization"] == "Bearer t0ken" for r in gateway.requests)
    assert [r["body"]["text"] for r in gateway.requests] == [row.text for row in rows]
    assert gateway.requests[0]["body"]["to"] == "13800000000"  # the gateway alone gets the full number
    assert "13800000000" not in caplog.text and "138****0000" in caplog.text
    again = send_pending(db, _provider(settings, []), settings)
    assert again.outcomes == {} and len(gateway.requests) == 2


def test_a_busy_gateway_is_retried_with_backoff_and_the_same_key(db: Database, gateway: Gateway) -> None:
    settings = _settings(gateway.url)
    gateway.script = [503, 429]  # first message: two refusals, then accepted; second: accepted
    sleeps: list[float] = []
    report = send_pending(db, _provider(settings, sleeps), settings)
    assert report.outcomes == {"sent": 2}
    keys = [r["headers"]["Idempotency-Key"] for r in gateway.requests]
    assert keys[0] == keys[1] == keys[2] != keys[3]
    assert sleeps[:2] == [1.5, 7.0]  # exponential back-off, then the gateway's Retry-After
    assert _rows(db)[0].attempts == 1  # one claim by the sender, three HTTP tries within it


def test_a_refusal_is_final(db: Database, gateway: Gateway) -> None:
    settings = _settings(gateway.url)
    gateway.script = [400]
    report = send_pending(db, _provider(settings, []), settings)
    first = _rows(db)[0]
    assert report.outcomes == {"failed": 1, "sent": 1}
    assert (first.state, first.last_error) == ("failed", "notify.error.refused")
    assert len(gateway.requests) == 2  # no retry of the refused one


def test_an_unreachable_gateway_leaves_the_message_for_a_later_run_then_gives_up(db: Database,
                                                                                 gateway: Gateway) -> None:
    url = gateway.url
    gateway.close()  # nothing listens on the port any more
    settings = _settings(url, tries_per_run=2, max_attempts=2)
    sleeps: list[float] = []
    report = send_pending(db, _provider(settings, sleeps), settings)
    assert report.outcomes == {"pending": 2} and sleeps == [1.5, 1.5]
    row = _rows(db)[0]
    assert row.attempts == 1 and row.last_error == "notify.error.unreachable"
    assert row.next_attempt_at is not None
    # Not before its time; then the second run is the last one allowed.
    assert send_pending(db, _provider(settings, []), settings).outcomes == {}
    later = utcnow() + timedelta(hours=1)
    report = send_pending(db, _provider(settings, []), settings, now=later)
    assert report.outcomes == {"failed": 2}
    assert {(row.state, row.last_error, row.attempts) for row in _rows(db)} == {("failed", "notify.error.gave_up", 2)}


def test_a_message_left_sending_by_a_crash_is_sent_again_after_the_lease(db: Database, gateway: Gateway) -> None:
    settings = _settings(gateway.url)
    with db.session() as session:
        session.execute(update(Notification).values(state="sending", updated_at=utcnow() - timedelta(minutes=5)))
    assert send_pending(db, _provider(settings, []), settings).outcomes == {}  # maybe still being sent
    with db.session() as session:
        session.execute(update(Notification).values(updated_at=utcnow() - timedelta(hours=1)))
    assert send_pending(db, _provider(settings, []), settings).outcomes == {"sent": 2}


def test_no_mobile_number_means_undeliverable_and_no_request(db: Database, gateway: Gateway) -> None:
    settings = _settings(gateway.url)
    with db.session() as session:
        session.execute(update(Retiree).values(phone="0755-8888888"))
    assert send_pending(db, _provider(settings, []), settings).outcomes == {"undeliverable": 2}
    assert gateway.requests == [] and {row.last_error for row in _rows(db)} == {"notify.error.no_phone"}


def test_export_provider_marks_ready_and_the_export_takes_each_row_once(db: Database) -> None:
    settings = NotifySettings()
    assert isinstance(provider_from_settings(settings), ExportProvider)
    assert send_pending(db, ExportProvider(), settings).outcomes == {"ready": 2}
    with db.session() as session:
        rows = take_ready(session)
        assert take_ready(session) == []
    assert [row[0] for row in rows] == ["13800000000", "13800000000"]
    assert {row.state for row in _rows(db)} == {"exported"}
    with db.session() as session:  # a new event after the export
        retiree_id = session.scalars(select(Retiree.id).where(Retiree.name == "张伟")).one()
        enqueue_notification(session, retiree_id, "certified", "notify.certified", {"certified_on": agency_today()},
                             key="certified:test")
    send_pending(db, ExportProvider(), settings)
    with db.session() as session:
        assert [row[2] for row in take_ready(session)] == ["certified:test"]


def test_rate_limiter_spaces_calls_evenly() -> None:
    now = [100.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(30, clock=lambda: now[0], sleep=sleep)  # one call every 2 s
    for _ in range(3):
        limiter.wait()
    now[0] += 10  # a pause longer than the interval earns no burst credit beyond one call
    limiter.wait()
    limiter.wait()
    assert sleeps == [2.0, 2.0, 2.0]


@pytest.mark.parametrize(("changes", "code"), [
    ({"gateway_url": ""}, "notify.error.no_gateway"),
    ({"gateway_url": "file:///etc/passwd"}, "notify.error.bad_gateway"),
    ({"provider": "carrier-pigeon"}, "notify.error.unknown_provider"),
])
def test_misconfigured_providers_fail_closed(changes: dict[str, str], code: str) -> None:
    with pytest.raises(GatewayConfigError) as refused:
        provider_from_settings(_settings("http://127.0.0.1:9/", **changes))
    assert refused.value.code == code
