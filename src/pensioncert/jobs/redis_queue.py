"""Verification jobs on Redis: RQ delivers job ids to worker processes on any number of machines.

The database is the truth (``VerificationJob``: pending → running → decided, with a lease);
Redis only carries "please run job X" messages, at least once. So:

- ``verify`` is the one actor; it calls the idempotent ``run_verification``: a duplicate
  delivery finds the job claimed or decided and does nothing.
- ``RedisQueue.enqueue`` skips a job enqueued less than a lease ago (a Redis ``SET NX``
  marker), so the API's start-up recovery on many replicas does not flood the queue.
- ``sweep`` (run by every worker, one at a time under a Redis lock) re-enqueues jobs whose
  lease expired — their worker died mid-verification (SIGKILL, OOM, machine lost) — and
  pending jobs older than a lease whose message was lost (API killed between commit and
  enqueue, Redis restarted without persistence). Nothing depends on RQ's own registries.
- A run that released its job after an unexpected error raises ``VerificationReleased``;
  RQ's ``Retry`` delivers it again, and the job's own run cap (``jobs.max_runs``) ends it.

Why RQ (docs/scaling.md): one Redis, plain functions as jobs, a worker that is one command,
and nothing to configure; Celery's broker/result-backend/ack settings buy nothing here
because delivery guarantees come from the database lease, not from the broker.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from redis import Redis
from rq import Queue, Retry, SimpleWorker, Worker
from sqlalchemy import select

from pensioncert.settings import JobSettings, Settings, get_settings

log = logging.getLogger(__name__)

ACTOR = "pensioncert.jobs.redis_queue.verify"


class VerificationReleased(Exception):
    """The run met an unexpected error and handed the job back: RQ should deliver it again."""


def verify(job_id: str) -> str:
    """The RQ actor: run (or resume) verification ``job_id``; safe to deliver any number of times."""
    from pensioncert.jobs.verification import run_verification

    state = run_verification(job_id)
    if state == "pending":
        raise VerificationReleased(job_id)
    return state


def connect(settings: JobSettings) -> Redis:
    """A Redis client for ``settings.redis_url`` (one per process; redis-py pools connections)."""
    return Redis.from_url(settings.redis_url, socket_timeout=30, socket_connect_timeout=5,
                          health_check_interval=30)


class RedisQueue:
    """The ``JobQueue`` of scaled-out deployments: an RQ queue named ``settings.queue_name``."""

    def __init__(self, settings: JobSettings | None = None, connection: Redis | None = None) -> None:
        self.settings = settings or get_settings().jobs
        self.connection = connection or connect(self.settings)
        self.queue = Queue(self.settings.queue_name, connection=self.connection)
        self.prefix = self.settings.queue_name

    def marker(self, job_id: str) -> str:
        return f"{self.prefix}:enqueued:{job_id}"

    def enqueue(self, job_id: str) -> None:
        """Ask a worker to run ``job_id`` (skipped when it was already asked less than a lease ago)."""
        self.offer(job_id)

    def offer(self, job_id: str) -> bool:
        """``enqueue``, saying whether a message was sent (False: one was sent less than a lease ago)."""
        ttl = max(1, int(self.settings.lease_seconds))
        if not self.connection.set(self.marker(job_id), "1", nx=True, ex=ttl):
            return False
        runs = max(0, self.settings.max_runs - 1)
        self.queue.enqueue(
            ACTOR, job_id,
            job_timeout=self.settings.job_timeout_seconds,
            retry=Retry(max=runs) if runs else None,
            result_ttl=3600, failure_ttl=7 * 24 * 3600,
            description=f"verify {job_id}",
        )
        return True

    def depth(self) -> int:
        """Messages waiting (not counting the ones workers are running)."""
        return int(self.queue.count)

    def shutdown(self, wait: bool = True) -> None:
        """Nothing runs in the API process; just release the connection pool."""
        self.connection.close()


def sweep(queue: RedisQueue, database: Any = None) -> list[str]:
    """Re-enqueue jobs whose worker died (lease expired) or whose message was lost; return their ids.

    Only one process sweeps at a time (a Redis lock that lives one sweep interval), so a
    fleet of workers does not multiply the database queries.
    """
    from pensioncert.certification.flow import utcnow
    from pensioncert.storage.db import get_database
    from pensioncert.storage.models import VerificationJob

    settings = queue.settings
    lock_ttl = max(1, int(settings.sweep_seconds))
    if not queue.connection.set(f"{queue.prefix}:sweep-lock", socket.gethostname(), nx=True, ex=lock_ttl):
        return []
    database = database or get_database()
    now = utcnow()
    stale = now - timedelta(seconds=settings.lease_seconds)
    with database.session() as session:
        dead = list(session.scalars(select(VerificationJob.id).where(
            VerificationJob.state == "running", VerificationJob.lease_until < now)))
        lost = list(session.scalars(select(VerificationJob.id).where(
            VerificationJob.state == "pending", VerificationJob.created_at < stale)))
    # The enqueue marker lives one lease, so each of these is re-enqueued at most once per lease.
    requeued = [job_id for job_id in dead + lost if queue.offer(job_id)]
    if requeued:
        log.warning("re-enqueued %d verification job(s): %s", len(requeued), ", ".join(requeued))
    return requeued


class Sweeper(threading.Thread):
    """Runs ``sweep`` every ``jobs.sweep_seconds`` beside the worker loop (a daemon thread)."""

    def __init__(self, queue: RedisQueue) -> None:
        super().__init__(name="pensioncert-sweeper", daemon=True)
        self.queue = queue
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.queue.settings.sweep_seconds):
            try:
                sweep(self.queue)
            except Exception:  # a database or Redis hiccup: try again next interval
                log.exception("sweep failed")

    def stop(self) -> None:
        self.stopped.set()


def preload_models(fork: bool) -> None:
    """Load the models once, before any job, so no job pays for it.

    dlib's HOG and shape models and the ResNet's weights (numpy arrays) are plain memory and
    survive ``fork`` (copy-on-write: N forked workers share one copy); so does the ResNet's
    onnxruntime session, which runs on the calling thread only. MediaPipe and TFLite
    start thread pools that do not survive a fork, so a process that will fork imports them
    but leaves building the graphs to the forked processes (``preload_graphs``).
    """
    from pensioncert.biometrics import engines

    engines.hog_detector()
    engines.shape_predictor_5()
    engines.face_encoder()
    import cv2  # noqa: F401
    import mediapipe  # noqa: F401

    if not fork:
        preload_graphs()


def preload_graphs() -> None:
    """Build the MediaPipe detection graphs of this process (after any fork)."""
    from pensioncert.biometrics import engines

    engines.blazeface(0)
    engines.blazeface(1)


def worker_name() -> str:
    return f"pensioncert-{socket.gethostname()}-{os.getpid()}"


def run_worker(settings: Settings | None = None, *, burst: bool = False, fork: bool = False,
               preload: bool = True, on_ready: Callable[[], None] | None = None) -> None:
    """Work the verification queue until SIGTERM (finishes the job in hand) or, with ``burst``, until empty.

    ``fork=False`` (default) runs jobs in this process (RQ ``SimpleWorker``): models stay
    loaded between jobs. ``fork=True`` is RQ's classic fork-per-job ``Worker``: a leaking or
    crashing decoder cannot take the worker down, at the cost of a fork per job.
    """
    settings = settings or get_settings()
    from pensioncert.storage.db import get_database

    get_database()  # migrate (or wait for the migration) before taking jobs
    queue = RedisQueue(settings.jobs)
    if preload:
        preload_models(fork)
    worker_class: type[_SimpleWorker | _ForkingWorker] = _ForkingWorker if fork else _SimpleWorker
    sweeper = Sweeper(queue)
    sweeper.start()
    if on_ready is not None:
        on_ready()
    try:
        for incarnation in itertools.count():
            # A fresh name per incarnation: the previous one's Redis key may outlive it.
            name = worker_name() + (f"-{incarnation}" if incarnation else "")
            worker = worker_class([queue.queue], connection=queue.connection, name=name)
            worker.max_connection_wait_time = settings.jobs.redis_retry_max_seconds
            if not _work_until_stopped(worker, burst, settings):
                return
    finally:
        sweeper.stop()


class _StopAtHeartbeat:
    """Honour a recorded stop request at every pass of RQ's dequeue loop.

    RQ's SIGTERM handler records the request, then raises ``StopRequested`` wherever the main
    thread happens to be. Raised inside a logging call (RQ logs every failed reconnect while
    Redis is down) it is swallowed by ``logging`` as a "logging error", and the worker went on
    retrying Redis for ever (CI: a worker still alive 30 s after SIGTERM). The heartbeat
    opens every pass of the dequeue loop, retries included, so checking there stops it;
    during a job (busy) the job is finished first, as RQ does.
    """

    _shutdown_requested_date: Any

    def stop_requested(self) -> bool:
        """Whether a SIGTERM/SIGINT arrived: RQ's handler records when, before anything else."""
        return self._shutdown_requested_date is not None

    def heartbeat(self, *args: Any, **kwargs: Any) -> Any:
        from rq.worker import StopRequested, WorkerStatus

        if self.stop_requested() and self.get_state() != WorkerStatus.BUSY:  # type: ignore[attr-defined]
            raise StopRequested()
        return super().heartbeat(*args, **kwargs)  # type: ignore[misc]


class _SimpleWorker(_StopAtHeartbeat, SimpleWorker):
    pass


class _ForkingWorker(_StopAtHeartbeat, Worker):
    pass


def _work_until_stopped(worker: _SimpleWorker | _ForkingWorker, burst: bool, settings: Settings) -> bool:
    """Run RQ's loop; True when it quit on its own (the caller starts another), False when asked to stop.

    RQ's loop quits, and its teardown raises, when Redis goes away while it is not waiting for
    a job: a verification that ends during a Redis restart fails RQ's own bookkeeping after the
    decision is in the database ("found an unhandled exception, quitting"). A worker process
    that died there would leave the queue unserved until something restarted it, so the loop
    is started again; only a stop request (SIGTERM/SIGINT: RQ records when) or ``burst`` ends it.
    """
    from redis.exceptions import RedisError
    from rq.worker import StopRequested

    stop_requested = worker.stop_requested
    try:
        worker.work(burst=burst, logging_level=settings.log_level, with_scheduler=False)
    except RedisError:
        if burst:
            raise
        if stop_requested():  # stopping, and RQ's teardown could not reach Redis: nothing left to do
            log.warning("stopped without Redis to unregister from", exc_info=True)
            return False
        log.warning("lost Redis outside a job; starting the worker loop again", exc_info=True)
    else:
        if burst or stop_requested():
            return False
        log.warning("the worker loop quit without a stop request; starting it again")
    finally:
        pubsub = getattr(worker, "pubsub_thread", None)  # RQ's teardown leaves it running when Redis is down
        if pubsub is not None and pubsub.is_alive():
            pubsub.stop()
    with contextlib.suppress(StopRequested, RedisError):  # RQ's handler, still installed, may raise here
        time.sleep(settings.jobs.redis_retry_max_seconds)
    return not stop_requested()


def run_worker_pool(settings: Settings | None = None, *, processes: int, burst: bool = False,
                    on_ready: Callable[[], None] | None = None) -> int:
    """``processes`` preloaded workers forked from this process, each restarted if it dies.

    The models are loaded once here, before the fork, so the workers share one copy of
    dlib's and the ResNet's weights (copy-on-write) and start in a fraction of a second;
    each worker then builds its own MediaPipe graphs and database/Redis connections and
    runs RQ's ``SimpleWorker`` (models stay loaded between jobs). One process per core:
    docs/scaling.md has the measurements. SIGTERM/SIGINT stop the workers (each finishes
    the job in hand). Returns the number of worker restarts.
    """
    import signal

    settings = settings or get_settings()
    from pensioncert.storage.db import get_database

    get_database().dispose()  # migrate (or wait for it) here, then no connection crosses the fork
    preload_models(fork=True)
    children: dict[int, int] = {}  # pid -> slot
    stopping = False
    restarts = 0

    def spawn(slot: int) -> None:
        pid = os.fork()
        if pid == 0:  # the worker: its own signals, graphs and connections
            code = 0
            try:
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                get_database.cache_clear()
                run_worker(settings, burst=burst, fork=False, preload=True, on_ready=on_ready)
            except BaseException:  # the parent logs the exit and starts another
                log.exception("worker process %d failed", os.getpid())
                code = 1
            finally:
                os._exit(code)
        children[pid] = slot

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for slot in range(processes):
            spawn(slot)
        while children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            except InterruptedError:  # pragma: no cover - PEP 475 retries os.wait
                continue
            if pid not in children:
                continue
            slot = children.pop(pid)
            if stopping or (burst and os.waitstatus_to_exitcode(status) == 0):
                continue
            log.warning("worker process %d exited (%s); starting another", pid, os.waitstatus_to_exitcode(status))
            restarts += 1
            time.sleep(0.5)  # a worker that cannot start must not spin the machine
            spawn(slot)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return restarts
