"""Issue 13.9: faults around the queue, on real servers.

- Redis restarted (without persistence) while jobs are queued and one is running: none is lost,
  every recording is decided exactly once after it comes back.
- PostgreSQL unreachable for 10 s: the API answers 503 with Retry-After (never 500) and recovers
  by itself; the worker resumes and decides the job it was handed during the outage.

Neither test stops the servers other tests share: Redis is a private ``redis-server`` on its own
port, and PostgreSQL is reached through a TCP proxy in this process that the test cuts.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.scale.conftest import ScaleEnv, free_port, make_job, wait_for, wait_for_line
from tests.scale.test_kill import READY, _state
from tests.scale.test_queue import records

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.slow]


class PrivateRedis:
    """A redis-server of this test only (no persistence, like the production queue), killable and restartable."""

    def __init__(self, work_dir: Path) -> None:
        self.port = free_port()
        self.work_dir = work_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        import redis

        log = (self.work_dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.work_dir)], stdout=log, stderr=subprocess.STDOUT)

        def up() -> bool:
            try:
                return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
            except redis.RedisError:
                return False

        wait_for(up, 30, "the private redis-server", 0.1)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class TcpProxy:
    """Forwards a local port to PostgreSQL; ``cut`` drops every connection and refuses new ones."""

    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.port = free_port()
        self.lock = threading.Lock()
        self.connections: set[socket.socket] = set()
        self.listener: socket.socket | None = None
        self.restore()

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)
            self.listener.close()
            self.listener = None
        with self.lock:
            for connection in self.connections:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
                connection.close()
            self.connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self.lock:
                self.connections.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, sink):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


def _use_redis(scale_env: ScaleEnv, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    from pensioncert.settings import get_settings

    scale_env.env["PENSIONCERT_JOBS__REDIS_URL"] = url
    monkeypatch.setenv("PENSIONCERT_JOBS__REDIS_URL", url)
    get_settings.cache_clear()


@pytest.mark.parametrize("outage", ["brief", "past_the_running_job"])
def test_redis_restart_loses_no_queued_or_running_job(
        scale_env: ScaleEnv, private_redis: PrivateRedis, still_video: bytes, reference_png: bytes,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outage: str) -> None:
    """Redis restarts without persistence while one job runs and two wait. ``brief``: back after
    2 s (the running job usually ends after it); ``past_the_running_job``: back only once the
    running job is decided, so RQ's bookkeeping of that job meets no Redis (the worker process
    used to quit there, leaving the other two jobs unserved)."""
    from pensioncert.jobs.redis_queue import RedisQueue

    _use_redis(scale_env, monkeypatch, private_redis.url)
    jobs = [make_job(still_video, reference_png, index=n) for n in range(3)]
    worker = scale_env.start("worker", log=tmp_path / "worker.log")
    wait_for_line(tmp_path / "worker.log", READY, worker, timeout=300)
    queue = RedisQueue()
    for job_id in jobs:
        queue.enqueue(job_id)
    wait_for(lambda: any(_state(job_id)[0] == "running" for job_id in jobs), 180, "a job to start")
    states = [_state(job_id)[0] for job_id in jobs]
    assert states.count("running") == 1 and states.count("pending") == 2, states  # one running, two queued
    queue.connection.close()

    running = next(job_id for job_id in jobs if _state(job_id)[0] == "running")
    private_redis.kill()  # every queued message and marker is gone (no persistence)
    time.sleep(2)
    if outage == "past_the_running_job":
        wait_for(lambda: _state(running)[0] == "decided", 300, "the running job to be decided without Redis", 0.2)
        time.sleep(1)  # and RQ's bookkeeping after it to fail
    private_redis.start()

    wait_for(lambda: all(_state(job_id)[0] == "decided" for job_id in jobs), 900,
             "every job to be decided after Redis came back", 0.5)
    assert worker.poll() is None, "the worker did not survive the Redis restart"
    assert [records(job_id) for job_id in jobs] == [1, 1, 1]  # each decided exactly once


def test_postgres_outage_answers_503_and_recovers_by_itself(
        scale_env: ScaleEnv, private_redis: PrivateRedis, still_video: bytes, reference_png: bytes,
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.jobs.redis_queue import RedisQueue

    _use_redis(scale_env, monkeypatch, private_redis.url)
    proxy = TcpProxy()
    # The API and the worker reach PostgreSQL through the proxy; this test process goes direct.
    scale_env.env["PENSIONCERT_STORAGE__DATABASE_URL"] = scale_env.database_url.replace(
        ":5432/", f":{proxy.port}/")
    job_id = make_job(still_video, reference_png)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api = scale_env.start("serve", "--port", str(port), log=tmp_path / "api.log")
    worker = scale_env.start("worker", log=tmp_path / "worker.log")

    def api_up() -> bool:
        assert api.poll() is None, (tmp_path / "api.log").read_text()[-3000:]
        try:
            return httpx.get(f"{base}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(api_up, 180, "the API", 0.3)
    wait_for_line(tmp_path / "worker.log", READY, worker, timeout=300)
    with httpx.Client(base_url=base, timeout=30) as client:
        created = client.post("/api/v1/sessions", json={"channel": "alipay"})
        assert created.status_code == 201, created.text
        session_path = f"/api/v1/sessions/{created.json()['id']}"

        proxy.cut()
        cut_at = time.monotonic()
        RedisQueue().enqueue(job_id)  # handed to the worker while the database is down
        answers = []
        while time.monotonic() - cut_at < 10:
            response = client.get(session_path)
            is_json = response.headers.get("content-type", "").startswith("application/json")
            code = response.json().get("error", {}).get("code") if is_json else response.text[:40]
            answers.append((response.status_code, response.headers.get("retry-after"), code))
            time.sleep(0.5)
        proxy.restore()

        assert answers and set(answers) == {(503, "10", "api.unavailable")}, answers
        wait_for(lambda: client.get(session_path).status_code == 200, 60, "the API to recover by itself", 0.5)
    wait_for(lambda: _state(job_id)[0] == "decided", 600, "the worker to resume and decide the job", 0.5)
    assert api.poll() is None and worker.poll() is None
    assert records(job_id) == 1
    proxy.cut()
