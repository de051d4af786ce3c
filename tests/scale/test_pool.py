"""``pensioncert worker --processes N``: models loaded once, N forked workers, a dead one replaced."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.scale.conftest import ScaleEnv, make_job, wait_for

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

READY = "pensioncert worker ready"


def _children(pid: int) -> set[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return {int(child) for child in text.split()}


def _decided_by(job_id: str) -> str | None:
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import VerificationJob

    with get_database().session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None
        return job.worker if job.state == "decided" else None


def test_pool_forks_workers_replaces_a_dead_one_and_stops_cleanly(scale_env: ScaleEnv, tmp_path: Path) -> None:
    from pensioncert.jobs.redis_queue import RedisQueue

    log = tmp_path / "pool.log"
    pool = scale_env.start("worker", "--processes", "2", log=log)
    wait_for(lambda: log.read_text(errors="replace").count(READY) >= 2 or pool.poll() is not None, 240,
             "two workers ready")
    assert pool.poll() is None, log.read_text()[-3000:]
    workers = _children(pool.pid)
    assert len(workers) == 2

    queue = RedisQueue()
    jobs = [make_job(b"\x1a\x45\xdf\xa3not a video", reference=None, index=i) for i in range(4)]
    for job_id in jobs:
        queue.enqueue(job_id)
    wait_for(lambda: all(_decided_by(j) for j in jobs), 120, "the jobs to be decided")
    deciders = {int(str(_decided_by(j)).split(":")[1]) for j in jobs}
    assert deciders <= workers  # decided by the forked workers, not by the parent

    victim = min(workers)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: log.read_text(errors="replace").count(READY) >= 3, 120, "a replacement worker")
    replaced = _children(pool.pid)
    assert len(replaced) == 2 and victim not in replaced
    job_id = make_job(b"\x1a\x45\xdf\xa3not a video", reference=None, index=9)
    queue.enqueue(job_id)
    wait_for(lambda: _decided_by(job_id), 120, "a job after the replacement")

    pool.send_signal(signal.SIGTERM)
    assert pool.wait(timeout=60) == 0
    for pid in replaced:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
    queue.shutdown()


def test_processes_refuses_fork_per_job(scale_env: ScaleEnv, tmp_path: Path) -> None:
    log = tmp_path / "refused.log"
    process = scale_env.start("worker", "--processes", "2", "--fork", log=log)
    assert process.wait(timeout=120) != 0
