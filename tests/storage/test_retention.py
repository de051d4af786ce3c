from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.certification.models import SessionMedia
from pensioncert.jobs.retention import RetentionTimer, purge_expired_media
from pensioncert.storage.crypto import Protector
from pensioncert.storage.db import Database
from pensioncert.storage.media_store import MediaStore
from pensioncert.storage.models import AuditEntry, CertSession, Challenge, VerificationJob

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def make_job(session: Session, store: MediaStore, job_id: str, state: str, decided_days_ago: int | None) -> str:
    session.add(CertSession(id=f"s-{job_id}", channel="wechat"))
    session.add(Challenge(id=f"c-{job_id}", session_id=f"s-{job_id}", kind="digits", payload={"digits": "1234"},
                          issued_at=NOW, expires_at=NOW))
    key = store.put(b"video", "recordings")
    decided = None if decided_days_ago is None else NOW - timedelta(days=decided_days_ago)
    session.add(VerificationJob(id=job_id, session_id=f"s-{job_id}", challenge_id=f"c-{job_id}", state=state,
                                media_path=key, decided_at=decided, result="passed" if decided else None))
    return key


def test_only_old_decided_media_is_purged(database: Database, protector: Protector, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media", protector)
    with database.session() as session:
        old = make_job(session, store, "old", "decided", 40)
        recent = make_job(session, store, "recent", "decided", 5)
        running = make_job(session, store, "running", "running", None)
    with database.session() as session:
        assert purge_expired_media(session, store, NOW, retention_days=30) == 1
    with database.session() as session:
        jobs = {job.id: job for job in session.scalars(select(VerificationJob))}
        assert jobs["old"].media_path is None and jobs["old"].result == "passed"
        assert jobs["recent"].media_path == recent and jobs["running"].media_path == running
        assert session.scalars(select(AuditEntry.action)).all() == ["purge_media"]
    assert not (tmp_path / "media" / old).exists()
    assert store.get(recent) == b"video"
    with database.session() as session:
        assert purge_expired_media(session, store, NOW, retention_days=30) == 0


def test_session_media_past_retention_is_purged(database: Database, protector: Protector, tmp_path: Path) -> None:
    store = MediaStore(tmp_path / "media", protector)
    with database.session() as session:
        session.add(CertSession(id="s1", channel="wechat"))
        session.flush()
        old_key, new_key = store.put(b"portrait", "portraits"), store.put(b"frame", "frames")
        session.add(SessionMedia(session_id="s1", kind="id_card_portrait", media_key=old_key,
                                 created_at=NOW - timedelta(days=31)))
        session.add(SessionMedia(session_id="s1", kind="best_frame", media_key=new_key,
                                 created_at=NOW - timedelta(days=1)))
    with database.session() as session:
        assert purge_expired_media(session, store, NOW, retention_days=30) == 1
    with database.session() as session:
        assert session.scalars(select(SessionMedia.kind)).all() == ["best_frame"]
    assert not (tmp_path / "media" / old_key).exists() and store.get(new_key) == b"frame"


def test_motion_traces_are_kept_a_cycle_then_purged(database: Database, protector: Protector,
                                                     tmp_path: Path) -> None:
    """The replay check's memory: kept (encrypted) for its own, longer retention, then deleted."""
    import numpy as np

    from pensioncert.certification.flow import keep_motion_trace, kept_motion_traces
    from pensioncert.liveness.replay import MotionTrace
    from pensioncert.storage.models import MotionTraceRow
    from pensioncert.storage.repository import find_retiree, upsert_retiree
    from tests.storage.test_storage import a_retiree

    store = MediaStore(tmp_path / "media", protector)
    trace = MotionTrace(np.arange(70, dtype=np.float32).reshape(10, 7))
    with database.session() as session:
        upsert_retiree(session, protector, a_retiree())
        session.flush()
        retiree = find_retiree(session, protector, a_retiree().id_number)
        assert retiree is not None
        for days_ago, job in ((401, "old"), (200, "half"), (1, "new")):
            keep_motion_trace(session, protector, retiree.id, job, trace.to_bytes(), NOW - timedelta(days=days_ago))
        rid = retiree.id
    with database.session() as session:
        stored = session.scalars(select(MotionTraceRow.trace_encrypted)).all()
        assert all(trace.to_bytes() not in row for row in stored)  # encrypted at rest
        kept = kept_motion_traces(session, protector, rid, NOW)
        assert len(kept) == 2 and np.array_equal(kept[0].values, trace.values)  # 401 days: past retention
        assert purge_expired_media(session, store, NOW, retention_days=30, trace_retention_days=400) == 1
    with database.session() as session:
        assert sorted(session.scalars(select(MotionTraceRow.job_id))) == ["half", "new"]


def test_retention_timer_runs_and_survives_a_failure() -> None:
    import threading

    calls: list[int] = []
    done = threading.Event()

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database briefly unavailable")
        done.set()

    timer = RetentionTimer(flaky, timedelta(milliseconds=10))
    timer.start()
    assert done.wait(10)
    timer.stop()
    assert len(calls) >= 2
