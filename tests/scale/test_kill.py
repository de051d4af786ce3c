"""Nothing lost, for real: SIGKILL a worker mid-verification, SIGKILL the API with a session open."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from tests.scale.conftest import ScaleEnv, free_port, make_job, today_cst, wait_for, wait_for_line
from tests.scale.test_queue import records

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]

READY = "pensioncert worker ready"


def _state(job_id: str) -> tuple[str, int, str | None]:
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import VerificationJob

    with get_database().session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None
        return job.state, job.attempts, job.worker


def _session_records(job_id: str) -> int:
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import CertificationRecord, VerificationJob

    with get_database().session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None
        return int(session.scalar(select(func.count()).select_from(CertificationRecord).where(
            CertificationRecord.session_id == job.session_id)) or 0)


def test_worker_killed_mid_verification_is_retried_and_decided_once(
        scale_env: ScaleEnv, still_video: bytes, reference_png: bytes, tmp_path: Path) -> None:
    from pensioncert.jobs.redis_queue import RedisQueue

    job_id = make_job(still_video, reference_png)
    first = scale_env.start("worker", log=tmp_path / "worker-1.log")
    wait_for_line(tmp_path / "worker-1.log", READY, first, timeout=180)
    RedisQueue().enqueue(job_id)
    wait_for(lambda: _state(job_id)[0] == "running" or _state(job_id)[0] == "decided", 120, "the job to start")
    assert _state(job_id)[0] == "running", "the verification finished before it could be killed"
    os.killpg(first.pid, signal.SIGKILL)  # the whole worker: as if its machine died
    first.wait(timeout=30)
    state, attempts, dead_worker = _state(job_id)
    assert (state, attempts) == ("running", 1)  # the lease is still held by a dead worker
    assert dead_worker is not None and f":{first.pid}:" in dead_worker

    second = scale_env.start("worker", log=tmp_path / "worker-2.log")
    wait_for(lambda: _state(job_id)[0] == "decided", 300, "the job to be decided by the second worker", 0.2)
    state, attempts, worker = _state(job_id)
    assert attempts == 2 and worker is not None and f":{second.pid}:" in worker
    assert records(job_id) == 1 and _session_records(job_id) == 1
    assert "re-enqueued 1 verification job(s)" in (tmp_path / "worker-2.log").read_text()

    # Delivering it yet again (a late duplicate) changes nothing.
    RedisQueue().queue.enqueue("pensioncert.jobs.redis_queue.verify", job_id)
    from pensioncert.jobs.verification import run_verification

    assert run_verification(job_id) == "decided"
    assert records(job_id) == 1 and _session_records(job_id) == 1 and _state(job_id)[1] == 2


def test_api_killed_keeps_sessions_and_queued_jobs(
        scale_env: ScaleEnv, still_video: bytes, reference_png: bytes, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.jobs.redis_queue import RedisQueue
    from pensioncert.loadtest.population import make_retirees
    from pensioncert.settings import get_settings
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database

    # A production-length lease: the restarted API's recovery must find the job already queued.
    scale_env.env["PENSIONCERT_JOBS__LEASE_SECONDS"] = "300"
    monkeypatch.setenv("PENSIONCERT_JOBS__LEASE_SECONDS", "300")
    get_settings.cache_clear()

    [someone] = make_retirees(get_database(), protector_from_settings(), 1, today_cst(), reference_png)
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def start_api(log_name: str) -> subprocess.Popen[str]:
        process = scale_env.start("serve", "--port", str(port), log=tmp_path / log_name)

        def up() -> bool:
            assert process.poll() is None, (tmp_path / log_name).read_text()[-3000:]
            try:
                return httpx.get(f"{base}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(up, 180, "the API", 0.3)
        return process

    api = start_api("api-1.log")
    with httpx.Client(base_url=base, timeout=60) as client:
        session_id = client.post("/api/v1/sessions", json={"channel": "alipay", "language": "en"}).json()["id"]
        identified = client.post(f"/api/v1/sessions/{session_id}/identity",
                                 json={"name": someone.name, "id_number": someone.id_number})
        assert identified.status_code == 200 and identified.json()["may_certify"], identified.text
        challenge = client.post(f"/api/v1/sessions/{session_id}/challenges")
        assert challenge.status_code == 201, challenge.text
        started = client.post(f"/api/v1/sessions/{session_id}/challenges/{challenge.json()['id']}/start",
                              json={"timed": True})
        assert started.status_code == 200, started.text
        upload = client.post(f"/api/v1/sessions/{session_id}/recordings", data={"challenge_id": challenge.json()["id"]},
                             files={"video": ("r.webm", still_video, "video/webm")})
        assert upload.status_code == 202, upload.text
        job_id = upload.json()["id"]
    os.killpg(api.pid, signal.SIGKILL)
    api.wait(timeout=30)

    start_api("api-2.log")  # no worker runs: the job must still be waiting, in the database and in Redis
    with httpx.Client(base_url=base, timeout=60) as client:
        session = client.get(f"/api/v1/sessions/{session_id}")
        assert session.status_code == 200 and session.json()["state"] == "verifying", session.text
        job = client.get(f"/api/v1/jobs/{job_id}")
        assert job.status_code == 200 and job.json()["state"] == "pending"
    queued = [job.args for job in RedisQueue().queue.get_jobs()]
    assert queued == [(job_id,)]  # the restart's recovery did not enqueue a duplicate
