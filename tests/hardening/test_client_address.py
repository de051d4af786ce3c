"""Issue 13.4: limits are keyed on what the client cannot choose: its address (X-Forwarded-For only from
configured proxies), never relaxed by a new X-Device-Id."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pensioncert.clientaddr import client_address
from tests.api.conftest import ManualQueue, assert_error
from tests.api.support import load_demo_registry

AppFactory = Callable[..., TestClient]
PROXY = "10.0.0.1"


def behind(app: Any, peer: str) -> Any:
    """The app as reached from ``peer`` (the TCP peer a reverse proxy would be)."""

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = dict(scope, client=(peer, 40000))
        await app(scope, receive, send)

    return wrapped


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    from pensioncert.api.app import create_app
    from pensioncert.settings import get_settings

    clients: list[TestClient] = []

    def make(peer: str = "203.0.113.9", **env: str) -> TestClient:
        for key, value in env.items():
            monkeypatch.setenv(f"PENSIONCERT_{key}", value)
        get_settings.cache_clear()
        load_demo_registry()
        client = TestClient(behind(create_app(queue=ManualQueue()), peer))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def _session(client: TestClient, **headers: str) -> Any:
    return client.post("/api/v1/sessions", json={"channel": "alipay"}, headers=headers)


def test_a_new_device_id_per_request_buys_no_sessions(make_client: AppFactory) -> None:
    client = make_client(SECURITY__IP_SESSIONS_PER_HOUR="3", SECURITY__DEVICE_SESSIONS_PER_HOUR="2")
    codes = [_session(client, **{"X-Device-Id": f"device-{n:08d}"}).status_code for n in range(3)]
    assert codes == [201, 201, 201]
    response = _session(client, **{"X-Device-Id": "device-99999999"})
    assert_error(response, 429, "protection.too_many_sessions")
    assert int(response.headers["retry-after"]) >= 1


def test_the_device_id_still_adds_its_own_limit(make_client: AppFactory) -> None:
    client = make_client(SECURITY__IP_SESSIONS_PER_HOUR="10", SECURITY__DEVICE_SESSIONS_PER_HOUR="2")
    assert [_session(client, **{"X-Device-Id": "device-aaaaaaaa"}).status_code for _ in range(3)] == [201, 201, 429]


def test_forwarded_for_from_an_untrusted_peer_is_ignored(make_client: AppFactory) -> None:
    client = make_client(SECURITY__IP_REQUESTS_PER_MINUTE="3")
    codes = [client.get("/api/v1/channels", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
             for n in range(4)]
    assert codes == [200, 200, 200, 429]


def test_forwarded_for_from_a_trusted_proxy_names_the_client(make_client: AppFactory) -> None:
    client = make_client(PROXY, SECURITY__IP_REQUESTS_PER_MINUTE="2",
                         SECURITY__TRUSTED_PROXIES=f'["{PROXY}/32"]')

    def get(forwarded: str) -> int:
        return client.get("/api/v1/channels", headers={"X-Forwarded-For": forwarded}).status_code

    assert [get("198.51.100.7") for _ in range(3)] == [200, 200, 429]
    assert get("198.51.100.8") == 200  # another phone behind the same proxy has its own budget
    # A client prepending a made-up address gets nothing: the proxy's own entry is the rightmost.
    assert get("192.0.2.1, 198.51.100.7") == 429


def test_client_address_walks_the_header_from_the_right() -> None:
    proxies = ["10.0.0.0/8"]
    assert client_address("10.0.0.1", "1.2.3.4, 10.0.0.2", proxies) == "1.2.3.4"
    assert client_address("10.0.0.1", "9.9.9.9, 1.2.3.4", proxies) == "1.2.3.4"
    assert client_address("1.2.3.4", "9.9.9.9", proxies) == "1.2.3.4"  # untrusted peer
    assert client_address("10.0.0.1", "garbage", proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", None, proxies) == "10.0.0.1"
    assert client_address("10.0.0.1", "1.2.3.4", []) == "10.0.0.1"  # no proxies configured


def test_served_app_does_not_believe_forwarded_for_from_loopback(tmp_path: Path) -> None:
    """uvicorn trusts X-Forwarded-For from 127.0.0.1 by default; ``pensioncert serve`` must not."""
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = dict(os.environ, PENSIONCERT_SECURITY__IP_REQUESTS_PER_MINUTE="3")
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen([str(Path(sys.executable).parent / "pensioncert"), "serve", "--port", str(port)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(240):
            try:
                httpx.get(f"{base}/health", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, (tmp_path / "serve.log").read_text()
                time.sleep(0.25)
        codes = [httpx.get(f"{base}/api/v1/channels", headers={"X-Forwarded-For": f"198.51.100.{n}"},
                           timeout=10).status_code for n in range(4)]
        assert codes == [200, 200, 200, 429]
    finally:
        process.terminate()
        process.wait(timeout=30)
