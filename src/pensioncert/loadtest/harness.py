"""The load test: concurrent phone sessions doing the whole API flow against a scaled-out stack.

Each virtual user loops over the flow a retiree's phone follows — start a session, identify,
get a challenge, upload the recording that answers it, poll the job, read the result — with
a fresh synthetic retiree each time, until the measured window closes. It is a closed loop
(a user starts its next certification when the previous one is decided), so the queue never
grows without bound and the throughput measured is what the workers sustain.

Why threads and httpx rather than locust: the flow is a fixed sequence with a long poll, the
figures we need are per certification (not per request), and the command must start and stop
its own services and finish in a bounded time; a thread per user does that in a page.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from pensioncert.clock import agency_today
from pensioncert.loadtest.clips import ACTION_SECONDS, SCHEDULE_ENV, ensure_clips
from pensioncert.loadtest.population import Person, make_retirees, png_bytes
from pensioncert.loadtest.stack import Stack, StackConfig


@dataclass
class LoadTestConfig:
    workers: int = 1
    duration: float = 60.0
    users: int = 3
    fork: bool = False
    pool: bool = False  # workers forked by one preloading process (``worker --processes``)
    work_dir: Path = Path("var/loadtest")
    quiet: bool = False
    clips: int = 20  # action pairs rendered (20 = every challenge the run can issue)
    grace: float = 120.0  # the longest a flow may still be waited for after the window closes
    redis_url: str = "redis://127.0.0.1:6379/12"
    postgres_admin_url: str = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Flow:
    """One certification as a virtual user lived it (seconds since the window opened)."""

    started: float
    finished: float
    upload_to_decided: float
    outcome: str
    challenges_asked: int


@dataclass
class LoadTestResult:
    workers: int
    users: int
    duration_s: float
    certifications: int
    certifications_per_s: float
    passed: int
    outcomes: dict[str, int]
    p50_ms: float
    p95_ms: float
    verify_p50_ms: float
    verify_p95_ms: float
    api_p50_ms: float
    api_p95_ms: float
    errors: int
    error_samples: list[str]
    per_worker: list[dict[str, Any]]
    fork: bool
    flows: list[Flow] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("flows")
        return data


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0–1) by linear interpolation; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


class _Shared:
    """What the virtual users share: the retiree pool, the clips, the figures (under one lock)."""

    def __init__(self, people: list[Person], clips: dict[tuple[str, ...], bytes], start: float, end: float,
                 hard_end: float) -> None:
        self.lock = threading.Lock()
        self.people: Iterator[Person] = iter(people)
        self.clips = clips
        self.start, self.end, self.hard_end = start, end, hard_end
        self.flows: list[Flow] = []
        self.request_ms: list[float] = []
        self.errors: list[str] = []

    def next_person(self) -> Person | None:
        with self.lock:
            return next(self.people, None)


class _Failed(Exception):
    """A request answered something the flow did not expect: counted as an error."""


def _user(shared: _Shared, base_url: str, index: int) -> None:
    device = f"loadtest-{index:04d}-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=base_url, timeout=120, headers={"X-Device-Id": device}) as client:

        def call(method: str, url: str, expect: int, **kwargs: Any) -> Any:
            began = time.monotonic()
            try:
                response = client.request(method, url, **kwargs)
            except httpx.HTTPError as failure:
                raise _Failed(f"{method} {url.split('/')[-1]}: {type(failure).__name__}") from failure
            with shared.lock:
                shared.request_ms.append((time.monotonic() - began) * 1000)
            if response.status_code != expect:
                raise _Failed(f"{method} {url.rsplit('/', 1)[-1]} -> {response.status_code} {response.text[:160]}")
            return response.json()

        while time.monotonic() < shared.end:
            person = shared.next_person()
            if person is None:
                return
            try:
                flow = _certify(call, shared, person)
            except _Failed as failure:
                with shared.lock:
                    if time.monotonic() <= shared.end:
                        shared.errors.append(str(failure))
                continue
            if flow is not None:
                with shared.lock:
                    shared.flows.append(flow)


def _certify(call: Any, shared: _Shared, person: Person) -> Flow | None:
    """One whole certification; None when the window closed before it was decided."""
    began = time.monotonic()
    session_id = call("POST", "/api/v1/sessions", 201, json={"channel": "alipay", "language": "en"})["id"]
    call("POST", f"/api/v1/sessions/{session_id}/identity", 200,
         json={"name": person.name, "id_number": person.id_number})
    asked = 0
    while True:
        asked += 1
        issued = call("POST", f"/api/v1/sessions/{session_id}/challenges", 201)
        # The actions are revealed only when recording starts (issue #12); a start is once per challenge.
        challenge = call("POST", f"/api/v1/sessions/{session_id}/challenges/{issued['id']}/start", 200,
                         json={"timed": True})
        video = shared.clips.get(tuple(challenge["actions"]))
        if video is not None:
            break
        if asked >= 400:
            raise _Failed("no clip matched 400 challenges")
    uploaded = time.monotonic()
    job = call("POST", f"/api/v1/sessions/{session_id}/recordings", 202,
               data={"challenge_id": challenge["id"]}, files={"video": ("recording.webm", video, "video/webm")})
    while job["state"] != "decided":
        if time.monotonic() > shared.hard_end:
            return None
        time.sleep(0.2)
        job = call("GET", f"/api/v1/jobs/{job['id']}", 200)
    decided = time.monotonic()
    result = call("GET", f"/api/v1/sessions/{session_id}/result", 200)
    finished = time.monotonic()
    return Flow(began - shared.start, finished - shared.start, decided - uploaded, str(result["outcome"]), asked)


def _per_worker(stack: Stack, since: datetime, until: datetime) -> list[dict[str, Any]]:
    """Jobs each worker process decided in the window and how long each took it (from the database)."""
    from sqlalchemy import select

    from pensioncert.storage.db import Database
    from pensioncert.storage.models import VerificationJob

    database = Database(stack.database_url)
    try:
        with database.session() as session:
            rows = session.execute(select(VerificationJob.worker, VerificationJob.started_at,
                                          VerificationJob.decided_at).where(
                VerificationJob.state == "decided", VerificationJob.decided_at >= since,
                VerificationJob.decided_at <= until)).all()
    finally:
        database.dispose()
    seconds = max(1e-9, (until - since).total_seconds())
    by_worker: dict[str, list[float]] = {}
    for worker, started, decided in rows:
        if started is not None and decided is not None:
            by_worker.setdefault(str(worker).rsplit(":", 1)[0], []).append((decided - started).total_seconds() * 1000)
    return [{"worker": worker, "jobs": len(times), "jobs_per_s": round(len(times) / seconds, 4),
             "run_p50_ms": round(percentile(times, 0.5)), "run_p95_ms": round(percentile(times, 0.95))}
            for worker, times in sorted(by_worker.items())]


def run_loadtest(config: LoadTestConfig) -> LoadTestResult:
    """Start the stack, run ``config.users`` virtual users for ``config.duration`` seconds, stop, report."""
    from pensioncert.keys import DATA_KEY_VARIABLE, LOOKUP_KEY_VARIABLE, generate_env_lines
    from pensioncert.storage.crypto import Protector
    from pensioncert.storage.db import Database
    from pensioncert.synth import load_photo

    say = (lambda _text: None) if config.quiet else (lambda text: print(text, flush=True))
    config.work_dir.mkdir(parents=True, exist_ok=True)
    clips = ensure_clips(config.clips, progress=not config.quiet)
    limits = {  # loopback is one IP and one device per virtual user: lift the abuse limits, keep their cost
        "PENSIONCERT_SECURITY__IP_REQUESTS_PER_MINUTE": "100000000",
        "PENSIONCERT_SECURITY__IP_UPLOADS_PER_HOUR": "100000000",
        "PENSIONCERT_SECURITY__DEVICE_SESSIONS_PER_HOUR": "100000000",
        "PENSIONCERT_SECURITY__IP_SESSIONS_PER_HOUR": "100000000",
        "PENSIONCERT_SECURITY__IP_IDENTITY_PER_HOUR": "100000000",
        # A user draws challenges until one matches a cached clip (20 pairs, --clips of them); every
        # start counts toward the retry caps (issue #12), so the caps go too, as the abuse limits do.
        "PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_SESSION": "100000",
        "PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_RETIREE_PER_DAY": "100000",
        "PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_RETIREE_PER_30_DAYS": "100000",
        "PENSIONCERT_LIVENESS__MIN_ACTIONS": "2",
        "PENSIONCERT_LIVENESS__MAX_ACTIONS": "2",
        "PENSIONCERT_FLOW__ACTION_RECORD_SECONDS": str(ACTION_SECONDS),
        **SCHEDULE_ENV,
    }
    # A throwaway stack gets throwaway keys (serve and worker refuse the development ones).
    keys = dict(line.split("=", 1) for line in generate_env_lines())
    limits.update(keys)
    stack_config = StackConfig(workers=config.workers, fork=config.fork, pool=config.pool,
                               work_dir=config.work_dir,
                               postgres_admin_url=config.postgres_admin_url, redis_url=config.redis_url,
                               extra_env=limits)
    say(f"starting PostgreSQL database, Redis queue, API and {config.workers} worker(s) …")
    with Stack(stack_config) as stack:
        protector = Protector(keys[DATA_KEY_VARIABLE], keys[LOOKUP_KEY_VARIABLE])
        database = Database(stack.database_url)
        count = max(100, config.users * int(config.duration / 2 + 10))
        today = agency_today()
        people = make_retirees(database, protector, count, today, png_bytes(load_photo("grace_hopper")))
        database.dispose()
        say(f"{count} retirees seeded; {config.users} users for {config.duration:.0f} s on {stack.base_url}")
        start = time.monotonic()
        wall_start = datetime.now(UTC)
        shared = _Shared(people, clips, start, start + config.duration, start + config.duration + config.grace)
        threads = [threading.Thread(target=_user, args=(shared, stack.base_url, i), daemon=True)
                   for i in range(config.users)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=max(1.0, shared.hard_end - time.monotonic() + 30))
        shared.end = shared.hard_end = 0.0  # stragglers (if any) stop at their next step
        per_worker = _per_worker(stack, wall_start, wall_start + timedelta(seconds=config.duration))
    in_window = [flow for flow in shared.flows if flow.finished <= config.duration]
    outcomes: dict[str, int] = {}
    for flow in in_window:
        outcomes[flow.outcome] = outcomes.get(flow.outcome, 0) + 1
    latencies = [(flow.finished - flow.started) * 1000 for flow in in_window]
    verify = [flow.upload_to_decided * 1000 for flow in in_window]
    return LoadTestResult(
        workers=config.workers, users=config.users, duration_s=config.duration,
        certifications=len(in_window), certifications_per_s=round(len(in_window) / config.duration, 4),
        passed=outcomes.get("passed", 0), outcomes=outcomes,
        p50_ms=round(percentile(latencies, 0.5)), p95_ms=round(percentile(latencies, 0.95)),
        verify_p50_ms=round(percentile(verify, 0.5)), verify_p95_ms=round(percentile(verify, 0.95)),
        api_p50_ms=round(percentile(shared.request_ms, 0.5), 1),
        api_p95_ms=round(percentile(shared.request_ms, 0.95), 1),
        errors=len(shared.errors), error_samples=list(dict.fromkeys(shared.errors))[:5],
        per_worker=per_worker, fork=config.fork, flows=sorted(shared.flows, key=lambda f: f.finished),
    )


