"""Shared fixtures: databases (SQLite and the real PostgreSQL), settings isolation."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pensioncert.storage.crypto import Protector
    from pensioncert.storage.db import Database

TEST_KEYS = {
    "PENSIONCERT_SECURITY__DATA_KEY": "dGVzdHN1aXRlLWRhdGEta2V5LTMyLWJ5dGVzLWxvbmc=",
    "PENSIONCERT_SECURITY__LOOKUP_KEY": "test-suite-lookup-key-not-for-production",
}
POSTGRES_ADMIN_URL = os.environ.get("PENSIONCERT_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own data directory, fresh settings and test keys (serve and worker refuse the
    development keys; the processes the tests start inherit these)."""
    from pensioncert.settings import get_settings
    from pensioncert.storage import db

    monkeypatch.setenv("PENSIONCERT_DATA_DIR", str(tmp_path / "data"))
    for name, value in TEST_KEYS.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    db.get_database.cache_clear()
    yield
    get_settings.cache_clear()
    db.get_database.cache_clear()


def _create_postgres_database() -> tuple[str, str]:
    import psycopg

    name = f"pensioncert_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(name: str) -> None:
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each kind the product supports."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        return
    name, url = _create_postgres_database()
    try:
        yield url
    finally:
        _drop_postgres_database(name)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    from pensioncert.storage.db import Database

    database = Database(database_url)
    database.migrate()
    yield database
    database.dispose()


@pytest.fixture
def protector() -> Protector:
    from pensioncert.storage.crypto import Protector

    return Protector("dGVzdC1rZXktdGVzdC1rZXktdGVzdC1rZXktdGVzdC0=", "test-lookup")
