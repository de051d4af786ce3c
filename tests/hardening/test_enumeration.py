"""Issue 13.3: the public API does not tell a registered ID number from an unknown one, and name +
number guesses are capped per session and per client address, with Retry-After."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pensioncert.domain.idnumber import check_character
from tests.api.conftest import assert_error
from tests.api.support import IN_WINDOW, AppFactory, app_clients


def unregistered(serial: int) -> str:
    """A valid ID number of someone born in 1950 in Shenzhen whom the demo registry does not hold."""
    first17 = f"44030419500101{700 + serial:03d}"
    return first17 + check_character(first17)


@pytest.fixture
def make_client(monkeypatch: pytest.MonkeyPatch) -> Iterator[AppFactory]:
    yield from app_clients(monkeypatch)


def _session(client: TestClient) -> str:
    response = client.post("/api/v1/sessions", json={"channel": "alipay"})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _identify(client: TestClient, session_id: str, name: str, number: str) -> Any:
    return client.post(f"/api/v1/sessions/{session_id}/identity", json={"name": name, "id_number": number})


def test_wrong_name_and_unknown_number_get_the_same_answer(make_client: AppFactory) -> None:
    client, numbers = make_client()
    registered = numbers[IN_WINDOW]
    wrong_name = _identify(client, _session(client), "张三", registered)
    unknown = _identify(client, _session(client), "张三", unregistered(1))
    assert wrong_name.status_code == unknown.status_code == 200
    assert wrong_name.json() == unknown.json()
    assert wrong_name.json()["code"] == "decision.no_match"
    assert "记录不符" in wrong_name.json()["message"]["zh"] and "our records" in wrong_name.json()["message"]["en"]
    for path in ("/api/v1/queries/period", "/api/v1/queries/history"):
        first = client.post(path, json={"name": "张三", "id_number": registered})
        second = client.post(path, json={"name": "张三", "id_number": unregistered(2)})
        assert first.status_code == second.status_code == 200
        assert first.json() == second.json()
    # The session's own page says the same later on.
    session_id = _session(client)
    _identify(client, session_id, "张三", registered)
    assert client.get(f"/api/v1/sessions/{session_id}").json()["decision"]["code"] == "decision.no_match"


def test_identity_attempts_are_capped_per_session(make_client: AppFactory) -> None:
    client, _ = make_client(SECURITY__SESSION_IDENTITY_ATTEMPTS="3")
    session_id = _session(client)
    codes = [_identify(client, session_id, "张三", unregistered(serial)).status_code for serial in range(3)]
    assert codes == [200, 200, 200]
    response = _identify(client, session_id, "张三", unregistered(9))  # another number: still this session
    assert_error(response, 429, "protection.too_many_identity_attempts")
    assert int(response.headers["retry-after"]) > 60 * 60  # the window outlives the session
    assert _identify(client, _session(client), "张三", unregistered(10)).status_code == 200


def test_identity_attempts_are_capped_per_client_address(make_client: AppFactory) -> None:
    client, numbers = make_client(SECURITY__IP_IDENTITY_PER_HOUR="4")
    codes = [_identify(client, _session(client), "张三", unregistered(serial)).status_code for serial in range(3)]
    codes.append(client.post("/api/v1/queries/period", json={"name": "张三", "id_number": unregistered(3)})
                 .status_code)
    assert codes == [200] * 4
    response = _identify(client, _session(client), IN_WINDOW, numbers[IN_WINDOW])
    error = assert_error(response, 429, "protection.too_many_identity_attempts")
    assert 1 <= int(response.headers["retry-after"]) <= 3600 and error["params"]["retry_after"] >= 1
    query = client.post("/api/v1/queries/history", json={"name": "张三", "id_number": unregistered(5)})
    assert_error(query, 429, "protection.too_many_identity_attempts")
