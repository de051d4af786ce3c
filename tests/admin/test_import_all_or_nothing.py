"""Issue 13.6: a registry file with any rejected row changes nothing (CLI exit 1, the row report printed,
back office likewise); ``--partial`` / the back office's box imports the good rows on purpose."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from pensioncert.certification.demo_data import demo_id_number
from pensioncert.storage.db import Database, get_database
from pensioncert.storage.models import Retiree
from tests.admin.conftest import TEST_PROTECTOR, login, make_app

GOOD = demo_id_number("440304", date(1958, 3, 12), 17)
BAD = GOOD[:-1] + ("0" if GOOD[-1] != "0" else "1")  # wrong check digit
FILE = ("姓名,身份证号码,养老保险类型,首次发放日期\n"
        f"张伟,{GOOD},企业职工,2018-04-01\n"
        f"李四,{BAD},企业职工,2018-04-01\n")


def _retirees(database: Database) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).select_from(Retiree)) or 0)


def test_cli_import_with_one_bad_row_changes_nothing(tmp_path: Path) -> None:
    from pensioncert.cli.main import app

    registry = tmp_path / "registry.csv"
    registry.write_text(FILE, encoding="utf-8")
    result = CliRunner().invoke(app, ["import-registry", str(registry)])
    assert result.exit_code == 1
    assert "Line 3" in result.output and "nothing imported" in result.output
    assert _retirees(get_database()) == 0
    partial = CliRunner().invoke(app, ["import-registry", str(registry), "--partial"])
    assert partial.exit_code == 0 and "created 1" in partial.output and "Line 3" in partial.output
    assert _retirees(get_database()) == 1


def test_back_office_upload_with_one_bad_row_changes_nothing(seeded: Database) -> None:
    before = _retirees(seeded)
    with TestClient(make_app(seeded, TEST_PROTECTOR), follow_redirects=False) as client:
        csrf = login(client, "administrator")
        file = {"file": ("registry.csv", FILE.replace("张伟", "张新").replace(GOOD, _new_number()).encode(),
                         "text/csv")}
        refused = client.post("/admin/registry/import", data={"csrf_token": csrf}, files=file)
        assert refused.status_code == 422
        assert 'id="import-refused"' in refused.text and re.search(r"\b3\b", refused.text)
        assert _retirees(seeded) == before
        applied = client.post("/admin/registry/import", data={"csrf_token": csrf, "partial": "true"}, files=file)
        assert applied.status_code == 200 and 'id="import-refused"' not in applied.text
        assert _retirees(seeded) == before + 1


def _new_number() -> str:
    """A valid number the demo registry (seeded for the back office) does not hold."""
    return demo_id_number("440305", date(1955, 5, 5), 91)
