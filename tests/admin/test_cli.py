"""``pensioncert staff …`` and ``pensioncert export suspensions`` against the settings' database."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from pensioncert.admin.auth import verify_password
from pensioncert.cli.main import app
from pensioncert.clock import agency_today
from pensioncert.storage.crypto import protector_from_settings
from pensioncert.storage.db import get_database
from pensioncert.storage.models import AuditEntry, StaffUser
from tests.admin.conftest import seed


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_staff_add_with_password_from_environment(runner: CliRunner) -> None:
    result = runner.invoke(app, ["staff", "add", "li.counter", "--role", "operator", "--name", "李窗口"],
                           env={"PENSIONCERT_STAFF_PASSWORD": "counter-pass-1"})
    assert result.exit_code == 0, result.output
    with get_database().session() as session:
        user = session.scalars(select(StaffUser).where(StaffUser.username == "li.counter")).one()
        assert user.role == "operator" and verify_password(user.password_hash, "counter-pass-1")
        assert "counter-pass-1" not in user.password_hash
    refused = runner.invoke(app, ["staff", "add", "x", "--role", "janitor"],
                            env={"PENSIONCERT_STAFF_PASSWORD": "x" * 12})
    assert refused.exit_code == 1 and "Unknown role" in refused.output


def test_export_suspensions_xlsx(runner: CliRunner, tmp_path: Path) -> None:
    seed(get_database(), protector_from_settings(), agency_today())
    target = tmp_path / "suspended.xlsx"
    result = runner.invoke(app, ["export", "suspensions", "--format", "xlsx", "--output", str(target)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(target).active
    assert sheet is not None
    names = sorted(row[0] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert names == ["周秀英", "陈静"]
    with get_database().session() as session:
        assert session.scalar(select(AuditEntry).where(AuditEntry.action == "admin.export_suspensions")) is not None
