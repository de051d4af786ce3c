"""The Redis queue (RQ) on the real Redis: delivery, duplicate deliveries, retries, the sweeper."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from tests.scale.conftest import ScaleEnv, make_job

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def records(job_id: str) -> int:
    """How many decisions the audit log holds for ``job_id`` (exactly once means 1)."""
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import AuditEntry

    with get_database().session() as session:
        details = session.scalars(select(AuditEntry.detail).where(AuditEntry.action.like("verification.%"))).all()
    return sum(1 for detail in details if detail.get("job_id") == job_id)


def _job(job_id: str):  # type: ignore[no-untyped-def]
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import VerificationJob

    with get_database().session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None
        session.expunge(job)
        return job


def _burst(queue) -> None:  # type: ignore[no-untyped-def]
    from rq import SimpleWorker

    SimpleWorker([queue.queue], connection=queue.connection).work(burst=True, with_scheduler=False)


def test_make_queue_selects_redis_and_duplicates_are_harmless(scale_env: ScaleEnv) -> None:
    from pensioncert.jobs.queue import make_queue
    from pensioncert.jobs.redis_queue import ACTOR, RedisQueue

    job_id = make_job(b"\x1a\x45\xdf\xa3not really a video", reference=None)
    queue = make_queue()
    assert isinstance(queue, RedisQueue)
    queue.enqueue(job_id)
    queue.enqueue(job_id)  # the API's start-up recovery on a second replica: skipped
    assert queue.depth() == 1
    queue.queue.enqueue(ACTOR, job_id)  # a duplicate delivery anyway
    assert queue.depth() == 2
    _burst(queue)
    job = _job(job_id)
    assert job.state == "decided" and job.result == "failed" and job.reasons == ["flow.no_reference"]
    assert job.attempts == 1  # the second delivery found it decided and did nothing
    assert records(job_id) == 1
    queue.shutdown()


def test_unexpected_error_is_retried_by_rq_then_decided_once(scale_env: ScaleEnv) -> None:
    from pensioncert.jobs.redis_queue import RedisQueue
    from pensioncert.settings import get_settings
    from pensioncert.storage.media_store import media_store_from_settings

    job_id = make_job(b"\x1a\x45\xdf\xa3whatever", reference=None)
    media_store_from_settings().delete(_job(job_id).media_path or "")  # every run now fails unexpectedly
    queue = RedisQueue()
    queue.enqueue(job_id)
    _burst(queue)
    job = _job(job_id)
    assert job.state == "decided" and job.result == "error"
    assert job.attempts == get_settings().jobs.max_runs
    assert records(job_id) == 1
    queue.shutdown()


def test_sweep_requeues_dead_and_lost_jobs_only(scale_env: ScaleEnv) -> None:
    from pensioncert.certification.flow import utcnow
    from pensioncert.jobs.redis_queue import RedisQueue, sweep
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import VerificationJob

    dead, lost, fresh, done = (make_job(b"\x1a\x45\xdf\xa3x", None, index=i) for i in range(4))
    now = utcnow()
    with get_database().session() as session:
        session.execute(update(VerificationJob).where(VerificationJob.id == dead).values(
            state="running", worker="gone:1:1", lease_until=now - timedelta(seconds=1), attempts=1))
        session.execute(update(VerificationJob).where(VerificationJob.id == lost).values(
            created_at=now - timedelta(hours=1)))
        session.execute(update(VerificationJob).where(VerificationJob.id == done).values(
            state="decided", created_at=now - timedelta(hours=1)))
    queue = RedisQueue()
    assert sorted(sweep(queue)) == sorted([dead, lost])
    assert fresh not in sweep(queue)  # locked for one interval anyway: a fleet sweeps once
    queue.connection.delete(f"{queue.prefix}:sweep-lock")
    assert sweep(queue) == []  # both were enqueued less than a lease ago
    assert queue.depth() == 2
    _burst(queue)
    with get_database().session() as session:
        states: dict[str, str] = {row.id: row.state for row in session.execute(
            select(VerificationJob.id, VerificationJob.state))}
        decided = session.scalar(select(func.count()).select_from(VerificationJob).where(
            VerificationJob.state == "decided"))
    assert states[dead] == "decided" and states[lost] == "decided" and states[fresh] == "pending"
    assert decided == 3
    assert records(dead) == 1 and records(lost) == 1
    queue.shutdown()
