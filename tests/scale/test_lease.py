"""A long analysis keeps its lease: no second worker starts the same job while the first is alive."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from pensioncert.jobs import verification
from pensioncert.storage.db import Database
from pensioncert.storage.models import CertSession, Challenge, VerificationJob


def test_lease_is_renewed_during_a_long_analysis(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENSIONCERT_JOBS__LEASE_SECONDS", "0.6")
    from pensioncert.settings import get_settings

    get_settings.cache_clear()
    now = datetime.now(UTC)
    with database.session() as session:
        session.add(CertSession(id="s1", channel="cityapp"))
        session.flush()
        session.add(Challenge(id="c1", session_id="s1", kind="actions", payload={}, issued_at=now, expires_at=now))
        session.flush()
        session.add(VerificationJob(id="j1", session_id="s1", challenge_id="c1", state="pending", media_path="x"))

    analysing = threading.Event()

    def slow_analysis(*_: object) -> verification.Analysis:
        analysing.set()
        time.sleep(2.0)  # more than three leases of 0.6 s
        return verification.Analysis(False, ["test.slow"])

    decided: list[str] = []
    monkeypatch.setattr(verification, "_analyse", slow_analysis)

    def decide(*args: Any, **kwargs: Any) -> str:
        decided.append(args[3])
        return "decided"

    monkeypatch.setattr(verification, "_decide", decide)
    outcome: list[str] = []
    first = threading.Thread(target=lambda: outcome.append(
        verification.run_verification("j1", database=database, worker="worker-a")))
    first.start()
    assert analysing.wait(10)
    time.sleep(1.2)  # two leases later: without renewal the job would look abandoned
    assert verification.run_verification("j1", database=database, worker="worker-b") == "running"
    first.join(10)
    assert outcome == ["decided"] and decided == ["worker-a"]
    with database.session() as session:
        job = session.get(VerificationJob, "j1")
        assert job is not None and job.attempts == 1 and job.worker == "worker-a"
