import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pensioncert.certification.demo_data import demo_id_number
from pensioncert.cli.main import app
from pensioncert.clock import agency_today

runner = CliRunner()
VALID = demo_id_number("440304", date(1958, 3, 12), 17)


def test_id_check_valid_json() -> None:
    result = runner.invoke(app, ["id", "check", VALID.lower(), "--json"])
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload == {"valid": True, "normalized": VALID, "birth_date": "1958-03-12", "sex": "male",
                       "region_code": "440304", "error": None}


@pytest.mark.parametrize(("number", "code"), [("123", "id.bad_length"), (VALID[:-1] + "0", "id.bad_checksum")])
def test_id_check_invalid_json(number: str, code: str) -> None:
    result = runner.invoke(app, ["id", "check", number, "--json"])
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert payload["valid"] is False and payload["error"] == code and payload["message_en"]


@pytest.mark.parametrize(
    ("last", "today", "state"),
    [
        ("2025-12-20", "2026-11-27", "open"),
        ("2026-06-01", "2026-11-27", "already_certified"),
        ("2025-09-01", "2026-11-27", "overdue"),
    ],
)
def test_window_json(last: str, today: str, state: str) -> None:
    result = runner.invoke(app, ["window", "--last-certified", last, "--today", today, "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["state"] == state
    assert set(payload) >= {"state", "window_start", "window_end", "due_date", "message_zh", "message_en"}


def test_window_not_yet_for_new_retiree() -> None:
    result = runner.invoke(app, ["window", "--first-payment", "2026-06-01", "--today", "2026-11-27", "--json"])
    payload = json.loads(result.stdout)
    assert payload["state"] == "not_yet"
    assert payload["message_zh"] == "认证时间未到，可认证时间为2027年3月至2027年6月"


def test_window_rejects_bad_date() -> None:
    result = runner.invoke(app, ["window", "--last-certified", "2026-02-30", "--json"])
    assert result.exit_code == 2


def test_import_then_status(tmp_path: Path) -> None:
    registry = tmp_path / "registry.csv"
    registry.write_text(
        "姓名,身份证号码,养老保险类型,首次发放日期,上次认证日期\n"
        f"张伟,{VALID},企业职工,2018-04-01,{agency_today().replace(day=1).isoformat()}\n"
        "李四,440304195803120178,企业职工,2018-04-01,\n",
        encoding="utf-8",
    )
    result = runner.invoke(app, ["import-registry", str(registry), "--partial"])
    assert result.exit_code == 0  # one bad row, skipped on purpose
    assert "Line 3" in result.output and "created 1" in result.output
    status = runner.invoke(app, ["status", VALID, "--lang", "en"])
    assert status.exit_code == 0
    assert "decision.already_certified" in status.output
    unknown = runner.invoke(app, ["status", demo_id_number("440304", date(1960, 1, 1), 11)])
    assert unknown.exit_code == 1 and "decision.not_found" in unknown.output


def test_console_script_entry_point() -> None:
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "pensioncert"), "id", "check", VALID, "--json"],
        capture_output=True, text=True, check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["valid"] is True
