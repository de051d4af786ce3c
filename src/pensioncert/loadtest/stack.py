"""Everything the load test needs, started and stopped by itself on loopback.

A fresh PostgreSQL database, a private Redis queue (its own key prefix), one API process
(uvicorn) and N worker processes, all with the same settings through the environment.
``Stack`` is a context manager: on the way out every process it started is stopped (SIGTERM,
then SIGKILL), the database dropped, the Redis keys and the media files removed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx

READY_LINE = "pensioncert worker ready"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class StackConfig:
    workers: int
    fork: bool
    work_dir: Path
    pool: bool = False  # one ``pensioncert worker --processes N`` (models loaded once, forked) instead of N
    postgres_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"
    redis_url: str = "redis://127.0.0.1:6379/12"
    start_timeout: float = 240.0
    extra_env: dict[str, str] = field(default_factory=dict)


class StackError(RuntimeError):
    """A service did not come up; the message carries the end of its log."""


class Stack:
    """PostgreSQL database + Redis queue + API + workers for one load-test run."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.run_id = uuid.uuid4().hex[:10]
        self.run_dir = config.work_dir / f"run-{self.run_id}"
        self.database_name = f"pensioncert_loadtest_{self.run_id}"
        self.database_url = config.postgres_admin_url.rsplit("/", 1)[0] + f"/{self.database_name}"
        self.queue_name = f"pc-loadtest-{self.run_id}"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: list[subprocess.Popen[bytes]] = []
        self.worker_pids: list[int] = []
        self.env = dict(os.environ, **{
            "PENSIONCERT_DATA_DIR": str(self.run_dir / "data"),
            "PENSIONCERT_STORAGE__DATABASE_URL": self.database_url,
            "PENSIONCERT_JOBS__BACKEND": "redis",
            "PENSIONCERT_JOBS__REDIS_URL": config.redis_url,
            "PENSIONCERT_JOBS__QUEUE_NAME": self.queue_name,
            "PENSIONCERT_LOG_LEVEL": "WARNING",
        }, **config.extra_env)

    # ------------------------------------------------------------ lifecycle

    def __enter__(self) -> Stack:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._create_database()
            self._start_api()
            if self.config.pool:
                process = self._spawn("worker-pool", "worker", "--processes", str(self.config.workers))
                self.worker_pids.append(process.pid)
            else:
                for index in range(self.config.workers):
                    self._start_worker(index)
            self._wait_ready()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                _signal(process, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal(process, signal.SIGKILL)
                process.wait(timeout=10)
        self._drop_redis_keys()
        self._drop_database()
        shutil.rmtree(self.run_dir / "data", ignore_errors=True)

    # ------------------------------------------------------------ services

    def _create_database(self) -> None:
        import psycopg

        with psycopg.connect(self.config.postgres_admin_url, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{self.database_name}"')
        from pensioncert.storage.db import Database

        database = Database(self.database_url)
        database.migrate()
        database.dispose()

    def _drop_database(self) -> None:
        import psycopg

        try:
            with psycopg.connect(self.config.postgres_admin_url, autocommit=True) as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{self.database_name}" WITH (FORCE)')
        except psycopg.Error:
            pass

    def _drop_redis_keys(self) -> None:
        import redis

        try:
            connection = redis.Redis.from_url(self.config.redis_url)
            keys = list(connection.scan_iter(f"*{self.queue_name}*", count=1000))
            if keys:
                connection.delete(*keys)
            connection.close()
        except redis.RedisError:
            pass

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = (self.run_dir / f"{name}.log").open("wb")
        command = [str(Path(sys.executable).parent / "pensioncert"), *args]
        process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def _start_api(self) -> None:
        self._spawn("api", "serve", "--host", "127.0.0.1", "--port", str(self.port))

    def _start_worker(self, index: int) -> None:
        process = self._spawn(f"worker-{index}", "worker", *(["--fork"] if self.config.fork else []))
        self.worker_pids.append(process.pid)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.config.start_timeout
        api_up = False
        while time.monotonic() < deadline:
            for process in self.processes:
                if process.poll() is not None:
                    raise StackError(f"a service exited early (pid {process.pid}):\n{self._tail()}")
            if not api_up:
                with contextlib.suppress(httpx.TransportError):
                    api_up = httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200
            if self.config.pool:
                pool_log = self.run_dir / "worker-pool.log"
                ready = pool_log.read_text(errors="replace").count(READY_LINE) if pool_log.exists() else 0
            else:
                ready = sum(1 for i in range(self.config.workers)
                            if READY_LINE in (self.run_dir / f"worker-{i}.log").read_text(errors="replace"))
            if api_up and ready == self.config.workers:
                return
            time.sleep(0.3)
        raise StackError(f"services not ready after {self.config.start_timeout:.0f} s; logs in {self.run_dir}")

    def _tail(self) -> str:
        return "\n".join(log.read_text(errors="replace")[-1500:] for log in sorted(self.run_dir.glob("*.log")))


def _signal(process: subprocess.Popen[bytes], sig: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
