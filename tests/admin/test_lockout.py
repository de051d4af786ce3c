"""Issue 13.5: wrong passwords back off per (username, address); nobody can lock a reviewer out from
elsewhere; a per-username ceiling only slows down; an administrator unlocks; all of it is audited."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from pensioncert.admin import auth
from pensioncert.storage.db import Database
from pensioncert.storage.models import AuditEntry, StaffUser
from tests.admin.conftest import CSRF_RE, PASSWORDS, USERS, login

REVIEWER = USERS["reviewer"]
ATTACKER = "203.0.113.66"
OFFICE = "10.20.30.40"


def _try(database: Database, password: str, ip: str, username: str = REVIEWER) -> auth.LoginResult:
    with database.session() as session:
        return auth.login(session, username, password, ip)


def _actions(database: Database, action: str) -> list[AuditEntry]:
    with database.session() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))
        session.expunge_all()
        return entries


def test_failures_from_elsewhere_do_not_lock_the_reviewer_out(seeded: Database) -> None:
    for _ in range(8):
        assert _try(seeded, "wrong-password", ATTACKER).token is None
    assert _try(seeded, PASSWORDS["reviewer"], ATTACKER).code == "admin.login.locked"  # that address is locked
    assert _try(seeded, PASSWORDS["reviewer"], OFFICE).token is not None  # the reviewer's own is not
    [lock] = _actions(seeded, "admin.login_lockout")
    assert (lock.actor, lock.ip, lock.detail["scope"]) == (REVIEWER, ATTACKER, "address")


def test_a_username_ceiling_only_slows_down(seeded: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_ADMIN__LOCKOUT_USERNAME_CEILING", "6")
    monkeypatch.setenv("PENSIONCERT_ADMIN__LOCKOUT_SLOW_SECONDS", "600")
    get_settings.cache_clear()
    for n in range(6):  # a distributed guesser: one try from each of six addresses
        assert _try(seeded, "wrong-password", f"198.51.100.{n}").code == "admin.login.failed"
    again = _try(seeded, "wrong-password", "198.51.100.0")
    assert again.code == "admin.login.slow_down" and 1 <= again.params["seconds"] <= 600
    assert _try(seeded, PASSWORDS["reviewer"], OFFICE).token is not None  # slowed, never locked
    [slowdown] = _actions(seeded, "admin.login_slowdown")
    assert slowdown.detail["scope"] == "username"


def test_an_administrator_unlocks_and_it_is_audited(client: TestClient, seeded: Database) -> None:
    def reviewer_sign_in(password: str) -> int:
        page = client.get("/admin/login")
        token = CSRF_RE.search(page.text)
        assert token is not None
        return client.post("/admin/login", data={"username": REVIEWER, "password": password,
                                                 "csrf_token": token.group(1)}).status_code

    assert [reviewer_sign_in("wrong-password") for _ in range(5)] == [401] * 5
    assert reviewer_sign_in(PASSWORDS["reviewer"]) == 401  # locked at this address
    csrf = login(client, "administrator")
    with seeded.session() as session:
        reviewer_id = session.scalar(select(StaffUser.id).where(StaffUser.username == REVIEWER))
    assert client.post(f"/admin/staff/{reviewer_id}/unlock", data={"csrf_token": csrf}).status_code == 303
    [unlock] = _actions(seeded, "admin.staff_unlock")
    assert unlock.actor == USERS["administrator"] and unlock.detail["username"] == REVIEWER
    [lifted] = _actions(seeded, "admin.login_unlocked")
    assert lifted.actor == REVIEWER and lifted.detail["by"] == USERS["administrator"]
    assert reviewer_sign_in(PASSWORDS["reviewer"]) == 303


def test_only_an_administrator_may_unlock(client: TestClient, seeded: Database) -> None:
    csrf = login(client, "reviewer")
    with seeded.session() as session:
        reviewer_id = session.scalar(select(StaffUser.id).where(StaffUser.username == REVIEWER))
    assert client.post(f"/admin/staff/{reviewer_id}/unlock", data={"csrf_token": csrf}).status_code == 403
    assert _actions(seeded, "admin.login_unlocked") == []
