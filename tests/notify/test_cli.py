"""``pensioncert notify plan|send|export|list`` on the demo data of the settings' database."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from pensioncert.cli.main import app
from pensioncert.clock import agency_today
from pensioncert.demo.setup import load_demo
from pensioncert.settings import get_settings
from pensioncert.storage.db import get_database
from pensioncert.storage.models import AuditEntry, Notification

TODAY = agency_today()
IN_25_DAYS = (TODAY + timedelta(days=25)).isoformat()  # 张伟 and 王芳 are inside their 30-day reminder


@pytest.fixture
def runner() -> CliRunner:
    load_demo(TODAY)
    return CliRunner()


def test_plan_shows_reminders_and_queued_notices_masked_and_changes_nothing(runner: CliRunner) -> None:
    result = runner.invoke(app, ["notify", "plan", "--today", IN_25_DAYS, "--json"])
    assert result.exit_code == 0, result.output
    planned = json.loads(result.output)
    assert {(item["source"], item["name"], item["kind"]) for item in planned} >= {
        ("reminder", "张伟", "reminder"), ("reminder", "王芳", "reminder"),
        ("outbox", "陈静", "suspended"), ("outbox", "周秀英", "suspended")}
    assert "13800000000" not in result.output and all(item["phone"] == "138****0000" for item in planned)
    with get_database().session() as session:
        assert session.scalars(select(Notification).where(Notification.kind == "reminder")).all() == []
    table = runner.invoke(app, ["notify", "plan", "--today", IN_25_DAYS])
    assert table.exit_code == 0 and "到期提醒" in table.output and "13800000000" not in table.output


def test_send_then_export_hands_each_message_over_once(runner: CliRunner, tmp_path: Path) -> None:
    sent = runner.invoke(app, ["notify", "send", "--today", IN_25_DAYS])
    assert sent.exit_code == 0, sent.output
    assert "reminders queued: 2" in sent.output and "ready 4" in sent.output
    again = runner.invoke(app, ["notify", "send", "--today", IN_25_DAYS])
    assert "reminders queued: 0" in again.output
    exported = runner.invoke(app, ["notify", "export", "--format", "csv"])
    assert exported.exit_code == 0, exported.output
    rows = list(csv.reader(io.StringIO(exported.output)))
    assert rows[0] == ["手机号码", "短信内容", "业务编号", "类型"] and len(rows) == 5
    assert {row[3] for row in rows[1:]} == {"reminder", "suspended"} and rows[1][0] == "13800000000"
    empty = runner.invoke(app, ["notify", "export", "--format", "xlsx", "--output", str(tmp_path / "sms.xlsx")])
    assert empty.exit_code == 0 and "0 message(s)" in empty.output
    listed = runner.invoke(app, ["notify", "list"])
    assert listed.exit_code == 0 and "138****0" in listed.output and "13800000000" not in listed.output
    with get_database().session() as session:
        assert set(session.scalars(select(Notification.state))) == {"exported"}
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("notify.%"))
                                  .order_by(AuditEntry.id)).all()
    assert actions == ["notify.send", "notify.send", "notify.export", "notify.export"]


def test_export_xlsx_on_the_demo_data(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "sms.xlsx"
    result = runner.invoke(app, ["notify", "export", "--format", "xlsx", "--output", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["手机号码", "短信内容", "业务编号", "类型"]
    assert sorted(row[3] for row in values[1:]) == ["suspended", "suspended"]


def test_http_provider_without_a_gateway_refuses_to_run(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSIONCERT_NOTIFY__PROVIDER", "http")
    get_settings.cache_clear()
    result = runner.invoke(app, ["notify", "send"])
    assert result.exit_code == 2 and "GATEWAY_URL" in result.output


def test_reminder_offsets_come_from_the_environment(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSIONCERT_NOTIFY__REMINDER_DAYS", "[14]")
    get_settings.cache_clear()
    assert get_settings().notify.reminder_days == [14]
    result = runner.invoke(app, ["notify", "plan", "--today", TODAY.isoformat(), "--json"])
    assert [item for item in json.loads(result.output) if item["source"] == "reminder"] == []  # 28-31 days left
    later = runner.invoke(app, ["notify", "plan", "--today", IN_25_DAYS, "--json"])
    assert {item["key"].rsplit(":", 1)[-1] for item in json.loads(later.output) if item["source"] == "reminder"} \
        == {"14"}
