"""``pensioncert eval pilot`` on a small sample pilot: the three files, and the job's decision path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pensioncert.cli.main import app
from pensioncert.evaluation.pilot import load_manifest, run_pilot, write_report
from pensioncert.evaluation.pilot.sample import build_sample

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One synthetic volunteer following the schedule, and one printed photo of them."""
    return build_sample(tmp_path_factory.mktemp("pilot"), subjects=1, genuine_per_subject=1, attacks=1)


def test_eval_pilot_writes_report_json_html_and_decisions(manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["eval", "pilot", str(manifest), "--out", str(out), "--propose-thresholds"])
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["recordings"] == 2 and report["genuine"] == 1
    assert report["bpcer"]["errors"] == 0 and report["bpcer"]["n"] == 1
    assert report["apcer"]["print"]["errors"] == 0 and report["apcer"]["print"]["ci_high"] > 0.9
    assert report["match"]["genuine_pairs"] == 1 and report["decision_seconds"]["n"] == 2
    with (out / "decisions.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert (rows[0]["kind"], rows[0]["result"]) == ("genuine", "passed")
    assert rows[1]["kind"] == "print" and rows[1]["result"] != "passed" and rows[1]["reasons"]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'alt="APCER per species" src="data:image/png;base64,' in page
    proposal = json.loads((out / "proposed_thresholds.json").read_text(encoding="utf-8"))
    assert proposal["split"]["tuning"] + proposal["split"]["held_out"] == 2 and proposal["warnings"]


def test_the_pilot_is_decided_by_the_jobs_decision(manifest: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Change the worker job's decision and the pilot's result changes with it: no shortcut."""
    from pensioncert.jobs import verification

    rows = load_manifest(manifest).rows
    monkeypatch.setattr(verification, "_result_of", lambda analysis, error: "failed")
    decisions = run_pilot(rows)
    assert [d.result for d in decisions] == ["failed", "failed"]
    report = write_report(tmp_path, decisions)
    assert report["bpcer"]["errors"] == 1
