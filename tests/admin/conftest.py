"""Back-office fixtures: a seeded database (demo registry, one account per role, two review cases),
an app with only the admin router, and helpers to sign in through the real login form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pensioncert.admin import auth
from pensioncert.admin.demo import DEMO_STAFF, ensure_demo_staff
from pensioncert.admin.guard import admin_database
from pensioncert.admin.routes import router
from pensioncert.admin.views.common import admin_protector
from pensioncert.certification.demo_data import demo_retirees
from pensioncert.clock import agency_today
from pensioncert.jobs.overdue import suspend_overdue
from pensioncert.settings import CycleSettings
from pensioncert.storage.crypto import Protector
from pensioncert.storage.db import Database
from pensioncert.storage.repository import upsert_retiree

PASSWORDS = {role: password for _user, role, _name, password in DEMO_STAFF}
USERS = {role: user for user, role, _name, _password in DEMO_STAFF}
TEST_PROTECTOR = Protector("dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0=", "test-lookup")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Argon2 at production cost takes ~0.3 s per hash on the shared CI cores; the scheme is the same."""
    original = auth._hasher
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    auth._hasher = original


def seed(database: Database, protector: Protector, today: date) -> None:
    """The demo registry (every case), suspended overdue retirees, staff accounts and review cases."""
    with database.session() as session:
        for row in demo_retirees(today):
            upsert_retiree(session, protector, row)
        session.flush()
        suspend_overdue(session, today, CycleSettings())
        ensure_demo_staff(session)


def make_app(database: Database, protector: Protector) -> FastAPI:
    app = FastAPI()
    app.include_router(router)
    app.dependency_overrides[admin_database] = lambda: database
    app.dependency_overrides[admin_protector] = lambda: protector
    return app


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'admin.sqlite3'}")
    database.migrate()
    seed(database, TEST_PROTECTOR, agency_today())
    yield database
    database.dispose()


@pytest.fixture
def client(seeded: Database) -> Iterator[TestClient]:
    with TestClient(make_app(seeded, TEST_PROTECTOR), follow_redirects=False) as test_client:
        yield test_client


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


def login(client: TestClient, role: str) -> str:
    """Sign in through the form as the demo account of ``role``; return the session's CSRF token."""
    page = client.get("/admin/login")
    token = CSRF_RE.search(page.text)
    assert token is not None
    response = client.post("/admin/login", data={"username": USERS[role], "password": PASSWORDS[role],
                                                 "csrf_token": token.group(1)})
    assert response.status_code == 303, response.text
    landing = client.get("/admin/", follow_redirects=True)
    found = CSRF_RE.search(landing.text)
    assert found is not None
    return found.group(1)
