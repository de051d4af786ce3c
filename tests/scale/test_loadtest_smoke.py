"""The load-test command end to end, briefly: it starts and stops everything and reports the figures."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.scale.conftest import PENSIONCERT

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


def test_loadtest_runs_one_worker_and_reports_json(tmp_path: Path) -> None:
    completed = subprocess.run(
        [PENSIONCERT, "loadtest", "--workers", "1", "--users", "2", "--duration", "30", "--clips", "1", "--json",
         "--work-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    figures = json.loads(completed.stdout)
    assert {"certifications_per_s", "p50_ms", "p95_ms", "errors"} <= set(figures)
    assert figures["certifications"] >= 1 and figures["certifications_per_s"] > 0
    assert figures["errors"] == 0, figures["error_samples"]
    assert 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert [worker["jobs"] >= 1 for worker in figures["per_worker"]] == [True]
    # Everything it started is gone: no database left behind, no process still running.
    import psycopg

    from tests.conftest import POSTGRES_ADMIN_URL

    with psycopg.connect(POSTGRES_ADMIN_URL) as connection:
        left = connection.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'pensioncert_loadtest_%'").fetchall()
    run_dirs = [path.name for path in tmp_path.glob("run-*")]
    assert len(run_dirs) == 1 and not any(name.endswith(run_dirs[0].removeprefix("run-")) for (name,) in left)
    assert not (tmp_path / run_dirs[0] / "data").exists()  # media removed
