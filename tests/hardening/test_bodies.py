"""Issue 13.1: no body is read before the back office knows who sends it, and every route has a body limit."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.hardening.asgi import call

MB = 1024 * 1024
BOUNDARY = "hardeningboundary"


def multipart(megabytes: int) -> Iterator[bytes]:
    """A well-formed multipart body carrying a ``megabytes`` MB file, produced one chunk at a time."""
    yield (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"registry.csv\"\r\n"
           "Content-Type: text/csv\r\n\r\n").encode()
    for _ in range(megabytes):
        yield b"x" * MB
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


def _headers(size_mb: int | None, cookie: str = "") -> dict[str, str]:
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    if size_mb is not None:
        headers["content-length"] = str(size_mb * MB + 400)
    if cookie:
        headers["cookie"] = cookie
    return headers


@pytest.fixture
def app() -> object:
    from pensioncert.api.app import create_app

    return create_app()


@pytest.fixture
def staff_cookie() -> str:
    """A live administrator session in the app's database, as the browser's Cookie header."""
    from pensioncert.admin import auth
    from pensioncert.storage.db import get_database

    with get_database().session() as session:
        auth.create_staff(session, "admin1", "a-long-enough-password", "administrator")
    with get_database().session() as session:
        result = auth.login(session, "admin1", "a-long-enough-password", "127.0.0.1")
    assert result.token is not None
    return f"pc_admin_session={result.token}"


@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_anonymous_upload_is_sent_to_login_before_a_byte_is_read(app: object, declared: bool) -> None:
    exchange = call(app, "POST", "/admin/registry/import", _headers(60 if declared else None), multipart(60))
    assert exchange.status == 303
    assert exchange.headers["location"] == "/admin/login"
    assert exchange.bytes_read == 0


def test_a_forged_cookie_is_no_session(app: object) -> None:
    exchange = call(app, "POST", "/admin/staff", _headers(1, "pc_admin_session=forged"), multipart(1))
    assert (exchange.status, exchange.bytes_read) == (303, 0)


def test_signed_in_upload_over_the_limit_is_refused_from_its_length(app: object, staff_cookie: str) -> None:
    exchange = call(app, "POST", "/admin/registry/import", _headers(60, staff_cookie), multipart(60))
    assert exchange.status == 413
    assert json.loads(exchange.body)["error"]["code"] == "protection.body_too_large"
    assert exchange.bytes_read == 0


def test_signed_in_chunked_upload_is_cut_at_the_limit(app: object, staff_cookie: str) -> None:
    from pensioncert.settings import get_settings

    limit = get_settings().admin.max_upload_bytes
    exchange = call(app, "POST", "/admin/registry/import", _headers(None, staff_cookie), multipart(60))
    assert exchange.status == 413
    assert json.loads(exchange.body)["error"]["code"] == "protection.body_too_large"
    assert exchange.bytes_read <= limit + 2 * MB  # the limit, the multipart slack and one chunk


def test_back_office_forms_and_pages_have_a_small_limit(app: object, staff_cookie: str) -> None:
    form = {"content-type": "application/x-www-form-urlencoded", "content-length": str(2 * MB),
            "cookie": staff_cookie}
    exchange = call(app, "POST", "/admin/staff", form, iter([b"x" * MB, b"x" * MB]))
    assert (exchange.status, exchange.bytes_read) == (413, 0)
    exchange = call(app, "POST", "/admin/login", form, iter([b"x" * MB, b"x" * MB]))
    assert (exchange.status, exchange.bytes_read) == (413, 0)
    exchange = call(app, "POST", "/", dict(form, cookie=""), iter([b"x" * MB, b"x" * MB]))
    assert (exchange.status, exchange.bytes_read) == (413, 0)


def test_a_small_signed_in_upload_still_reaches_the_route(app: object, staff_cookie: str) -> None:
    """The gate lets a live session through: the route's own CSRF check answers (403), not the gate."""
    exchange = call(app, "POST", "/admin/registry/import", _headers(1, staff_cookie), multipart(1))
    assert exchange.status == 403
    assert exchange.bytes_read > MB
