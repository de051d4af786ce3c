"""No role reaches another role's pages or actions; sessions, CSRF and lockout hold."""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from pensioncert.admin.roles import MATRIX, Permission, Role
from pensioncert.admin.routes import router
from pensioncert.storage.db import Database
from pensioncert.storage.models import AuditEntry
from tests.admin.conftest import CSRF_RE, PASSWORDS, USERS, login

P = Permission
# Every protected route with the permission it needs. Paths name real rows of the seeded database.
PROTECTED: list[tuple[str, str, Permission]] = [
    ("GET", "/admin/dashboard", P.DASHBOARD),
    ("GET", "/admin/retirees?q=张", P.RETIREE_VIEW),
    ("GET", "/admin/retirees/1", P.RETIREE_VIEW),
    ("POST", "/admin/retirees/1/reveal", P.RETIREE_REVEAL_ID),
    ("GET", "/admin/evidence/no-such-job", P.EVIDENCE_VIEW),
    ("GET", "/admin/registry/import", P.REGISTRY_IMPORT),
    ("POST", "/admin/registry/import", P.REGISTRY_IMPORT),
    ("GET", "/admin/review", P.REVIEW),
    ("GET", "/admin/review/1", P.REVIEW),
    ("POST", "/admin/review/1/decide", P.REVIEW),
    ("GET", "/admin/offline", P.OFFLINE_CERTIFY),
    ("POST", "/admin/offline", P.OFFLINE_CERTIFY),
    ("GET", "/admin/passive", P.PASSIVE_IMPORT),
    ("POST", "/admin/passive/import", P.PASSIVE_IMPORT),
    ("POST", "/admin/passive/types", P.PASSIVE_IMPORT),
    ("POST", "/admin/passive/types/no_such_type/toggle", P.PASSIVE_IMPORT),
    ("GET", "/admin/suspensions", P.SUSPENSIONS),
    ("POST", "/admin/suspensions/sweep", P.SUSPENSIONS),
    ("GET", "/admin/suspensions/export?kind=suspensions&format=csv", P.SUSPENSIONS),
    ("GET", "/admin/staff", P.STAFF_MANAGE),
    ("POST", "/admin/staff", P.STAFF_MANAGE),
    ("POST", "/admin/staff/9999/active", P.STAFF_MANAGE),
    ("POST", "/admin/staff/9999/password", P.STAFF_MANAGE),
    ("POST", "/admin/staff/9999/unlock", P.STAFF_MANAGE),
    ("GET", "/admin/audit", P.AUDIT_VIEW),
]
PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login"), ("GET", "/admin/lang/{code}"),
          ("GET", "/admin/static/admin.css")}
SIGNED_IN_ANY_ROLE = {("POST", "/admin/logout"), ("GET", "/admin/")}


def _template(path: str) -> str:
    """/admin/retirees/1/reveal → /admin/retirees/{retiree_id}/reveal, matched against the router."""
    bare = path.split("?")[0]
    for route in router.routes:
        assert isinstance(route, APIRoute)
        if route.path_regex.match(bare):
            return route.path
    raise AssertionError(f"no route for {path}")


def test_every_route_is_in_the_matrix() -> None:
    declared = {(method, _template(path)) for method, path, _ in PROTECTED} | PUBLIC | SIGNED_IN_ANY_ROLE
    actual = {(method, route.path) for route in router.routes if isinstance(route, APIRoute)
              for method in route.methods if method != "HEAD"}
    assert actual == declared


def test_separation_of_duties() -> None:
    """The administrator certifies and reviews nobody; the auditor sees no retiree's data."""
    assert not MATRIX[Role.ADMINISTRATOR] & {P.REVIEW, P.OFFLINE_CERTIFY, P.AUDIT_VIEW, P.EVIDENCE_VIEW}
    assert MATRIX[Role.AUDITOR] == {P.DASHBOARD, P.AUDIT_VIEW}
    assert [role for role in Role if P.REVIEW in MATRIX[role]] == [Role.REVIEWER]
    assert [role for role in Role if P.OFFLINE_CERTIFY in MATRIX[role]] == [Role.OPERATOR]


@pytest.mark.parametrize("role", list(Role))
def test_role_matrix(client: TestClient, seeded: Database, role: Role) -> None:
    csrf = login(client, role.value)
    for method, path, permission in PROTECTED:
        response = client.request(method, path, data={"csrf_token": csrf} if method == "POST" else None)
        if permission in MATRIX[role]:
            sent_to_login = response.headers.get("location", "").startswith("/admin/login")
            assert response.status_code not in (401, 403) and not sent_to_login, (role, method, path)
        else:
            assert response.status_code == 403, (role, method, path, response.status_code)
    with seeded.session() as session:
        denied = session.scalars(select(AuditEntry).where(AuditEntry.action == "admin.denied",
                                                          AuditEntry.actor == USERS[role.value])).all()
    assert len(denied) == sum(1 for _, _, permission in PROTECTED if permission not in MATRIX[role])


def test_signed_out_requests_go_to_login(client: TestClient) -> None:
    for method, path, _permission in PROTECTED:
        response = client.request(method, path)
        assert response.status_code == 303, (method, path)
        assert response.headers["location"].startswith("/admin/login")


def test_post_without_csrf_token_is_refused(client: TestClient, seeded: Database) -> None:
    login(client, "operator")
    response = client.post("/admin/retirees/1/reveal", data={"csrf_token": "forged"})
    assert response.status_code == 403
    assert "full-id" not in response.text
    with seeded.session() as session:
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("admin.%_id"))).all() == []
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "admin.csrf_failed")) is not None


def test_login_form_needs_its_csrf_cookie(client: TestClient) -> None:
    response = client.post("/admin/login", data={"username": "admin", "password": PASSWORDS["administrator"],
                                                 "csrf_token": "guess"})
    assert response.status_code == 403
    assert "pc_admin_session" not in response.cookies


def test_wrong_password_then_lockout(client: TestClient) -> None:
    for _ in range(5):
        page = client.get("/admin/login")
        token = CSRF_RE.search(page.text)
        assert token is not None
        response = client.post("/admin/login", data={"username": "reviewer", "password": "wrong-password",
                                                     "csrf_token": token.group(1)})
        assert response.status_code == 401
    page = client.get("/admin/login")
    token = CSRF_RE.search(page.text)
    assert token is not None
    response = client.post("/admin/login", data={"username": "reviewer", "password": PASSWORDS["reviewer"],
                                                 "csrf_token": token.group(1)})
    assert response.status_code == 401
    assert "15" in response.text  # the lockout message, not the wrong-password one


def test_logout_revokes_the_session(client: TestClient) -> None:
    csrf = login(client, "reviewer")
    token = client.cookies.get("pc_admin_session")
    assert client.get("/admin/review").status_code == 200
    assert client.post("/admin/logout", data={"csrf_token": csrf}).status_code == 303
    client.cookies.set("pc_admin_session", token or "", path="/admin")  # replaying the old cookie
    assert client.get("/admin/review").status_code == 303


def test_deactivated_account_loses_its_session(client: TestClient, seeded: Database) -> None:
    from pensioncert.storage.models import StaffUser

    operator = TestClient(client.app, follow_redirects=False)
    login(operator, "operator")
    csrf = login(client, "administrator")
    with seeded.session() as session:
        user_id = session.scalars(select(StaffUser.id).where(StaffUser.username == "operator")).one()
    assert client.post(f"/admin/staff/{user_id}/active", data={"csrf_token": csrf}).status_code == 303
    assert operator.get("/admin/offline").status_code == 303


def test_next_parameter_cannot_leave_the_back_office(client: TestClient) -> None:
    page = client.get("/admin/login?next=//evil.example/")
    token = CSRF_RE.search(page.text)
    assert token is not None
    response = client.post("/admin/login", data={"username": "auditor", "password": PASSWORDS["auditor"],
                                                 "csrf_token": token.group(1), "next": "https://evil.example/"})
    assert response.headers["location"] == "/admin/"


def test_pages_carry_security_headers(client: TestClient) -> None:
    login(client, "auditor")
    response = client.get("/admin/audit")
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    cookie = response.request.headers.get("cookie", "")
    assert "pc_admin_session" in cookie


@pytest.mark.parametrize("path", ["/admin/registry/import", "/admin/passive/import"])
def test_oversized_staff_upload_is_refused_and_audited(
    client: TestClient, seeded: Database, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_ADMIN__MAX_UPLOAD_BYTES", "100")
    get_settings.cache_clear()
    token = login(client, "administrator")
    response = client.post(path, data={"csrf_token": token},
                           files={"file": ("big.csv", b"x" * 101, "text/csv")})
    assert response.status_code == 400
    with seeded.session() as session:
        refused = session.scalars(select(AuditEntry.detail).where(AuditEntry.action.like("%refused"))).all()
    assert any(detail.get("code") == "admin.registry.too_large" for detail in refused), refused
