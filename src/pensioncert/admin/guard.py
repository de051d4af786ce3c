"""FastAPI dependencies: the request's database session, the signed-in staff member, and the
permission check (with CSRF on every POST) that each view declares.

Every refusal is audited (``admin.denied``) and committed although the request fails, so the
auditor sees attempts to reach another role's pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from pensioncert.admin.auth import csrf_matches, peek_session, resolve_session
from pensioncert.admin.models import StaffSession
from pensioncert.admin.roles import Permission, allows
from pensioncert.admin.web import CsrfFailed, Denied, KeepChanges, NeedLogin, language_of
from pensioncert.storage.db import Database, get_database
from pensioncert.storage.models import StaffUser
from pensioncert.storage.repository import audit

SESSION_COOKIE = "pc_admin_session"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


def admin_database() -> Database:
    """The database the back office works on; tests override this dependency."""
    return get_database()


def db_session(database: Annotated[Database, Depends(admin_database)]) -> Iterator[Session]:
    """One transaction per request: committed on success and after audited refusals, else rolled back."""
    session = database.sessions()
    try:
        yield session
        session.commit()
    except KeepChanges:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def has_live_session(cookie_header: str) -> bool:
    """The protection middleware's gate: does this Cookie header carry a live staff session?

    Runs before any back-office body is read, so an anonymous 100 MB upload costs nothing
    (docs/security.md). Read-only; the route's own guard still checks role and CSRF."""
    from http.cookies import CookieError, SimpleCookie

    cookies: SimpleCookie = SimpleCookie()
    try:
        cookies.load(cookie_header)
    except CookieError:
        return False
    morsel = cookies.get(SESSION_COOKIE)
    if morsel is None or not morsel.value:
        return False
    with admin_database().session() as session:
        return peek_session(session, morsel.value) is not None


def client_ip(request: Request) -> str:
    """The staff member's address for the audit log and login back-off (X-Forwarded-For only from trusted
    proxies, pensioncert.clientaddr)."""
    from pensioncert.clientaddr import client_address
    from pensioncert.settings import get_settings

    peer = request.client.host if request.client else ""
    return client_address(peer, request.headers.get("x-forwarded-for"), get_settings().security.trusted_proxies)


@dataclass
class Staff:
    """The signed-in staff member and what a view needs to act and audit on their behalf."""

    user: StaffUser
    staff_session: StaffSession
    db: Session
    ip: str
    lang: str

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def csrf_token(self) -> str:
        return self.staff_session.csrf_token

    def can(self, permission: Permission | str) -> bool:
        return allows(self.role, Permission(permission))

    def audit(self, action: str, retiree_id: int | None = None, **detail: Any) -> None:
        audit(self.db, actor=self.username, role=self.role, action=action, retiree_id=retiree_id, detail=detail,
              ip=self.ip)


def current_staff(request: Request, db: Annotated[Session, Depends(db_session)]) -> Staff:
    resolved = resolve_session(db, request.cookies.get(SESSION_COOKIE))
    if resolved is None:
        raise NeedLogin(request.url.path if request.method == "GET" else "")
    staff_session, user = resolved
    return Staff(user=user, staff_session=staff_session, db=db, ip=client_ip(request), lang=language_of(request))


def require(permission: Permission) -> Callable[..., Awaitable[Staff]]:
    """Dependency: the staff member, if their role holds ``permission`` (and, on POST, the CSRF token matches)."""

    async def dependency(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
        if not staff.can(permission):
            staff.audit("admin.denied", path=request.url.path, method=request.method, permission=permission.value)
            raise Denied()
        if request.method not in ("GET", "HEAD"):
            given = request.headers.get(CSRF_HEADER)
            if given is None:
                form = await request.form()
                value = form.get(CSRF_FIELD)
                given = value if isinstance(value, str) else None
            if not csrf_matches(staff.csrf_token, given):
                staff.audit("admin.csrf_failed", path=request.url.path)
                raise CsrfFailed()
        return staff

    return dependency


def signed_in(request: Request, staff: Annotated[Staff, Depends(current_staff)]) -> Staff:
    """Any signed-in staff member (pages every role has, e.g. logout), CSRF-checked on POST by the view."""
    return staff
