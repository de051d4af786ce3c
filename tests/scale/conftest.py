"""Scale-out fixtures: a fresh PostgreSQL database, a private Redis queue, real worker/API processes."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import _create_postgres_database, _drop_postgres_database

REDIS_URL = "redis://127.0.0.1:6379/{db}"
REDIS_DB = 11  # scale tests only; each test also has its own queue name (key prefix)
PENSIONCERT = str(Path(sys.executable).parent / "pensioncert")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class ScaleEnv:
    """Environment shared by this test process and the processes it starts."""

    env: dict[str, str]
    database_url: str
    redis_url: str
    queue_name: str
    data_dir: Path
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    def start(self, *args: str, log: Path) -> subprocess.Popen[str]:
        """Start ``pensioncert *args`` in its own process group (so a SIGKILL takes its children too)."""
        handle = log.open("w")
        process = subprocess.Popen([PENSIONCERT, *args], env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen[str], sig: int = signal.SIGKILL) -> None:
        """Signal the process group and wait for the process; one that outlives a SIGTERM by 30 s is
        killed (so no stray process outlives the test) and fails the test."""
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            if sig == signal.SIGKILL:
                raise
            self.kill(process)
            pytest.fail(f"{' '.join(process.args)} did not stop within 30 s of signal {sig}")  # type: ignore[arg-type]

    def stop_all(self) -> None:
        """SIGTERM every process still running (each finishes its job in hand and stops)."""
        slow = []
        for process in self.processes:
            if process.poll() is None:
                try:
                    self.kill(process, signal.SIGTERM)
                except pytest.fail.Exception as failure:
                    slow.append(str(failure))
        if slow:
            pytest.fail("; ".join(slow))


def wait_for(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.05) -> object:
    """Poll ``predicate`` until it is truthy; fail the test with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def wait_for_line(log: Path, line: str, process: subprocess.Popen[str], timeout: float) -> None:
    def seen() -> bool:
        if process.poll() is not None:
            pytest.fail(f"process exited with {process.returncode} before {line!r}:\n{log.read_text()[-3000:]}")
        return log.exists() and line in log.read_text(errors="replace")

    wait_for(seen, timeout, f"{line!r} in {log.name}", interval=0.2)


@pytest.fixture
def scale_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ScaleEnv]:
    """PostgreSQL + Redis settings for this test and its child processes; everything removed afterwards."""
    import redis

    from pensioncert.settings import get_settings
    from pensioncert.storage import db

    name, url = _create_postgres_database()
    queue_name = f"pc-test-{uuid.uuid4().hex[:10]}"
    redis_url = REDIS_URL.format(db=REDIS_DB)
    values = {
        "PENSIONCERT_DATA_DIR": str(tmp_path / "data"),
        "PENSIONCERT_STORAGE__DATABASE_URL": url,
        "PENSIONCERT_JOBS__BACKEND": "redis",
        "PENSIONCERT_JOBS__REDIS_URL": redis_url,
        "PENSIONCERT_JOBS__QUEUE_NAME": queue_name,
        "PENSIONCERT_JOBS__LEASE_SECONDS": "4",
        "PENSIONCERT_JOBS__SWEEP_SECONDS": "1",
        "PENSIONCERT_LOG_LEVEL": "INFO",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    db.get_database.cache_clear()
    env = dict(os.environ, **values)
    scale = ScaleEnv(env, url, redis_url, queue_name, tmp_path / "data")
    try:
        yield scale
    finally:
        scale.stop_all()
        db.get_database.cache_clear()
        connection = redis.Redis.from_url(redis_url)
        keys = list(connection.scan_iter(f"*{queue_name}*", count=1000))
        if keys:
            connection.delete(*keys)
        connection.close()
        _drop_postgres_database(name)


def today_cst() -> date:
    from datetime import UTC, datetime

    return (datetime.now(UTC) + timedelta(hours=8)).date()


@pytest.fixture(scope="session")
def still_video(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 12 s WebM of a real face photo held still: cheap to make, seconds of real analysis to verify."""
    import numpy as np
    from PIL import Image

    from pensioncert.media.encode import encode_video
    from pensioncert.synth import load_photo

    photo = Image.fromarray(load_photo("grace_hopper")).convert("RGB").resize((480, 640))
    frames = np.repeat(np.asarray(photo, dtype=np.uint8)[None], 12 * 15, axis=0)
    path = encode_video(tmp_path_factory.mktemp("video") / "still.webm", frames, 15.0)
    return path.read_bytes()


@pytest.fixture(scope="session")
def reference_png() -> bytes:
    from pensioncert.loadtest.population import png_bytes
    from pensioncert.synth import load_photo

    return png_bytes(load_photo("grace_hopper"))


def make_job(video: bytes, reference: bytes | None, index: int = 0) -> str:
    """A pending verification job made the way the API makes one (retiree, session, challenge, media)."""
    import uuid as _uuid

    from pensioncert.certification import flow
    from pensioncert.loadtest.population import make_retirees
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.media_store import media_store_from_settings
    from pensioncert.storage.models import Challenge
    from pensioncert.storage.repository import find_retiree

    database = get_database()
    protector = protector_from_settings()
    [someone] = make_retirees(database, protector, 1, today_cst(), reference, start=index)
    now = flow.utcnow()
    with database.session() as session:
        retiree = find_retiree(session, protector, someone.id_number)
        assert retiree is not None
        cert_session = flow.start_session(session, channel="alipay", mode="self", language="en", helper=None)
        cert_session.retiree_id = retiree.id
        challenge = Challenge(id=_uuid.uuid4().hex, session_id=cert_session.id, kind="actions",
                              payload={"digits": None, "actions": ["blink", "nod"], "language": "en"},
                              issued_at=now, expires_at=now + timedelta(minutes=5))
        session.add(challenge)
        session.flush()
        job = flow.accept_recording(session, cert_session, challenge, media_store_from_settings(), data=video,
                                    content_type="video/webm", now=now)
        return job.id
