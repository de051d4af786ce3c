"""Abuse controls: security headers, body limits, strict content types, rate limits, no secrets in logs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import assert_error
from tests.api.support import IN_WINDOW, IN_WINDOW_2, AppFactory, app_clients


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    yield from app_clients(monkeypatch)


def _session(client: TestClient, device: str | None = None) -> Any:
    headers = {"X-Device-Id": device} if device else {}
    return client.post("/api/v1/sessions", json={"channel": "alipay"}, headers=headers)


def test_security_headers_on_api_pages_and_errors(make_client: AppFactory) -> None:
    client, _ = make_client()
    for path, status in (("/health", 200), ("/api/v1/jobs/nope", 404), ("/", 200)):
        response = client.get(path)
        assert response.status_code == status
        headers = response.headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert "camera=(self)" in headers["permissions-policy"]
    assert client.get("/api/v1/jobs/nope").headers["cache-control"] == "no-store"
    assert "strict-transport-security" not in client.get("/health").headers  # plain HTTP: HSTS means nothing
    assert "strict-transport-security" in client.get("https://testserver/health").headers
    assert "content-security-policy" not in client.get("/docs").headers


def test_bodies_are_refused_by_declared_size_type_and_actual_size(make_client: AppFactory) -> None:
    client, _ = make_client(UPLOAD__MAX_VIDEO_BYTES="1000", SECURITY__MAX_JSON_BYTES="200")
    session_id = _session(client).json()["id"]
    big = b"\x1a\x45\xdf\xa3" + b"0" * (1024 * 1024 + 2000)
    response = client.post(f"/api/v1/sessions/{session_id}/recordings", data={"challenge_id": "x"},
                           files={"video": ("r.webm", big, "video/webm")})
    assert_error(response, 413, "protection.body_too_large")

    def chunked() -> Iterator[bytes]:  # no Content-Length: counted while read
        yield b"{" + b" " * 300 + b"}"

    response = client.post("/api/v1/sessions", content=chunked(), headers={"Content-Type": "application/json"})
    assert_error(response, 413, "protection.body_too_large")
    response = client.post("/api/v1/sessions", content=b'{"channel":"alipay"}', headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "protection.unsupported_media_type")
    response = client.post(f"/api/v1/sessions/{session_id}/recordings", json={"challenge_id": "x"})
    assert_error(response, 415, "protection.unsupported_media_type")
    # A chunked JSON body under the limit goes through untouched.
    response = client.post("/api/v1/sessions", content=iter([b'{"channel":', b'"alipay"}']),
                           headers={"Content-Type": "application/json"})
    assert response.status_code == 201, response.text
    # A route without a body needs no content type.
    assert client.post(f"/api/v1/sessions/{session_id}/challenges").status_code == 409


def test_per_ip_limit_answers_429_with_retry_after(make_client: AppFactory) -> None:
    client, _ = make_client(SECURITY__IP_REQUESTS_PER_MINUTE="5")
    codes = [client.get("/api/v1/channels").status_code for _ in range(5)]
    assert codes == [200] * 5
    response = client.get("/api/v1/channels")
    error = assert_error(response, 429, "protection.rate_limited")
    assert int(response.headers["retry-after"]) in range(1, 62) and error["params"]["retry_after"] >= 1
    assert client.get("/health").status_code == 200  # pages and health are not API calls


def test_per_device_session_limit(make_client: AppFactory) -> None:
    client, _ = make_client(SECURITY__DEVICE_SESSIONS_PER_HOUR="2")
    assert [_session(client, "device-aaaaaaaa").status_code for _ in range(2)] == [201, 201]
    assert_error(_session(client, "device-aaaaaaaa"), 429, "protection.too_many_sessions")
    assert _session(client, "device-bbbbbbbb").status_code == 201  # another phone
    assert_error(_session(client, "bad id!"), 400, "protection.bad_device_id")
    assert [_session(client).status_code for _ in range(3)] == [201, 201, 429]  # no header: IP + User-Agent


def test_per_retiree_identity_limit_whoever_asks(make_client: AppFactory) -> None:
    client, numbers = make_client(SECURITY__RETIREE_IDENTITY_PER_HOUR="2")

    def identify(name: str, number: str) -> Any:
        session_id = _session(client).json()["id"]
        return client.post(f"/api/v1/sessions/{session_id}/identity", json={"name": name, "id_number": number})

    assert identify(IN_WINDOW, numbers[IN_WINDOW]).status_code == 200
    assert identify("某人", numbers[IN_WINDOW].lower()).status_code == 200  # wrong name still counts
    assert_error(identify(IN_WINDOW, numbers[IN_WINDOW]), 429, "protection.too_many_identity_attempts")
    query = client.post("/api/v1/queries/period", json={"name": IN_WINDOW, "id_number": numbers[IN_WINDOW]})
    assert_error(query, 429, "protection.too_many_identity_attempts")
    assert identify(IN_WINDOW_2, numbers[IN_WINDOW_2]).status_code == 200  # somebody else


def test_per_retiree_upload_limit(make_client: AppFactory) -> None:
    client, numbers = make_client(SECURITY__RETIREE_UPLOADS_PER_DAY="1")
    sessions = []
    for _ in range(2):
        session_id = _session(client).json()["id"]
        client.post(f"/api/v1/sessions/{session_id}/identity",
                    json={"name": IN_WINDOW, "id_number": numbers[IN_WINDOW]}).raise_for_status()
        sessions.append(session_id)

    def upload(session_id: str) -> Any:
        return client.post(f"/api/v1/sessions/{session_id}/recordings", data={"challenge_id": "x" * 32},
                           files={"video": ("r.webm", b"\x1a\x45\xdf\xa3data", "video/webm")})

    assert upload(sessions[0]).status_code == 409  # through the limiter: the route refuses the challenge
    assert_error(upload(sessions[1]), 429, "protection.too_many_uploads")  # same retiree, new session


@pytest.mark.redis
def test_redis_counters_are_shared_by_replicas(make_client: AppFactory) -> None:
    import uuid

    import redis

    queue_name = f"pc-test-{uuid.uuid4().hex[:10]}"
    env = {"JOBS__BACKEND": "redis", "JOBS__REDIS_URL": "redis://127.0.0.1:6379/11", "JOBS__QUEUE_NAME": queue_name,
           "SECURITY__IP_REQUESTS_PER_MINUTE": "4"}
    try:
        first, _ = make_client(**env)
        second, _ = make_client(**env)
        codes = [(first if i % 2 else second).get("/api/v1/channels").status_code for i in range(5)]
        assert codes[:4] == [200] * 4 and codes[4] == 429
    finally:
        connection = redis.Redis.from_url("redis://127.0.0.1:6379/11")
        keys = list(connection.scan_iter(f"{queue_name}:*"))
        if keys:
            connection.delete(*keys)
        connection.close()


def test_logs_never_carry_id_numbers_or_keys(caplog: pytest.LogCaptureFixture) -> None:
    from pensioncert.api.protection import install_log_redaction, redact
    from pensioncert.settings import get_settings

    assert redact("id 11010519491231002X ok") == "id 110105********X ok"
    assert redact("session 0f6f51aa-6b38-4975-8ae4-2b07f2e866a9") == "session 0f6f51aa-6b38-4975-8ae4-2b07f2e866a9"
    install_log_redaction()
    key = get_settings().security.data_key
    with caplog.at_level(logging.INFO):
        logging.getLogger("pensioncert.test").info("lookup %s with key %s", "440304195803120171", key)
    assert "440304195803120171" not in caplog.text and key not in caplog.text
    assert "440304********1" in caplog.text
