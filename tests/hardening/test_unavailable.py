"""Issue 13.9 without the real servers: an unreachable database is 503 + Retry-After everywhere, never 500
(tests/scale/test_outages.py cuts a real PostgreSQL for 10 s)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from tests.api.conftest import ManualQueue, assert_error


@pytest.fixture
def down(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The app, started while the database was up; then every new unit of work fails to connect."""
    from pensioncert.api.app import create_app
    from pensioncert.storage.db import get_database

    with TestClient(create_app(queue=ManualQueue()), raise_server_exceptions=False) as client:

        def unreachable() -> None:
            raise OperationalError("connect", {}, ConnectionRefusedError("connection refused"))

        monkeypatch.setattr(get_database(), "sessions", unreachable)
        yield client


def test_api_answers_503_with_retry_after(down: TestClient) -> None:
    response = down.get("/api/v1/sessions/0123456789abcdef")
    error = assert_error(response, 503, "api.unavailable")
    assert response.headers["retry-after"] == "10" and error["params"]["retry_after"] == 10
    upload = down.post("/api/v1/sessions/0123456789abcdef/recordings", data={"challenge_id": "x"},
                       files={"video": ("r.webm", b"\x1a\x45\xdf\xa3data", "video/webm")})
    assert_error(upload, 503, "api.unavailable")  # the per-retiree limit's own lookup
    assert down.get("/health").status_code == 200  # the process itself is fine


def test_back_office_answers_503_too(down: TestClient) -> None:
    page = down.post("/admin/staff", data={"csrf_token": "x"}, cookies={"pc_admin_session": "some-token"},
                     follow_redirects=False)
    assert page.status_code == 503 and page.headers["retry-after"] == "10"
    login = down.get("/admin/retirees", cookies={"pc_admin_session": "some-token"}, follow_redirects=False)
    assert login.status_code == 503
