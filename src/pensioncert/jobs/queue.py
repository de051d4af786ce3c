"""Where verification jobs run: a small protocol and the in-process implementation.

The job's state lives in the database (``VerificationJob``), so a queue only has
to deliver job ids, at least once. The in-process queue is a thread pool; a
Redis/RQ queue (``settings.jobs.backend = "redis"``) can implement the same
protocol by enqueueing ``pensioncert.jobs.verification.run_verification``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from pensioncert.settings import Settings, get_settings

log = logging.getLogger(__name__)

Runner = Callable[[str], str]


class JobQueue(Protocol):
    """Delivers job ids to ``run_verification``, at least once."""

    def enqueue(self, job_id: str) -> None: ...

    def shutdown(self, wait: bool = True) -> None: ...


class InProcessQueue:
    """A thread pool in the API process: fine for one server, nothing to install.

    A run that returns ``"pending"`` (an unexpected error it released) is submitted again;
    the job's own run cap stops that from looping.
    """

    def __init__(self, runner: Runner, workers: int = 1) -> None:
        self._runner = runner
        # One worker by default: the face models are CPU-bound and share the machine with the API.
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify")
        self._lock = threading.Lock()
        self._futures: set[Future[str]] = set()
        self._closed = False

    def enqueue(self, job_id: str) -> None:
        with self._lock:
            if self._closed:
                raise RuntimeError("queue is shut down")
            future = self._pool.submit(self._run, job_id)
            self._futures.add(future)
            future.add_done_callback(self._futures.discard)

    def _run(self, job_id: str) -> str:
        try:
            state = self._runner(job_id)
        except Exception:
            log.exception("verification job %s raised", job_id)
            return "error"
        if state == "pending":
            with self._lock:
                if not self._closed:
                    future = self._pool.submit(self._run, job_id)
                    self._futures.add(future)
                    future.add_done_callback(self._futures.discard)
        return state

    def idle(self) -> bool:
        """True when nothing is queued or running (tests and shutdown wait for it)."""
        with self._lock:
            return not self._futures

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
        self._pool.shutdown(wait=wait)


def make_queue(settings: Settings | None = None, runner: Runner | None = None) -> JobQueue:
    """The queue named by ``settings.jobs.backend``."""
    settings = settings or get_settings()
    if runner is None:
        from pensioncert.jobs.verification import run_verification

        runner = run_verification
    backend = settings.jobs.backend
    if backend == "inprocess":
        return InProcessQueue(runner)
    if backend == "redis":  # workers run pensioncert.jobs.redis_queue.verify, which calls run_verification
        from pensioncert.jobs.redis_queue import RedisQueue

        return RedisQueue(settings.jobs)
    raise ValueError(f"unknown job backend {backend!r} (this build knows: inprocess, redis)")
