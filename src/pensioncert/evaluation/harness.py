"""One recording through exactly the production decision path, in process.

Every figure the project quotes about attacks (``eval attacks``) and every figure an agency
computes on its pilot (``eval pilot``) comes through this harness, so that a figure can
never be about a shortcut that production does not take. It builds the real application
(``api.app.create_app``) on a temporary SQLite database, seeds retirees the way the registry
import does, and then plays the phone: open a session on a channel, identify (or read an ID
card first), ask for a challenge, start it (which reveals the schedule, as it does to the
page), upload the recording, and run the worker's job (``jobs.verification.run_verification``)
on the in-process queue. The decision, reasons and scores are read back from the job.

Two things differ from a deployment, both outside the decision: the abuse controls
(rate limits per IP and device) are off, since one evaluation opens hundreds of sessions
from one address; and each attempt gets a fresh retiree, so the per-retiree retry caps and
"already certified" never hide what the checks would have said.
"""

from __future__ import annotations

import io
import itertools
import os
import random
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pensioncert.clock import agency_today
from pensioncert.liveness.challenges import Challenge, ChallengeKind

# Environment the harness sets while it runs (restored afterwards).
_ENV_DATA_DIR = "PENSIONCERT_DATA_DIR"
_ENV_RATE_LIMIT = "PENSIONCERT_SECURITY__RATE_LIMIT_ENABLED"
_ENV_BACKEND = "PENSIONCERT_JOBS__BACKEND"

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰"
# Region codes of the demo city (Shenzhen districts): the registry requires a valid region.
_REGIONS = ("440303", "440304", "440305", "440306", "440307", "440308", "440309")

_FILENAMES = {"video/mp4": "recording.mp4", "video/quicktime": "recording.mov", "video/webm": "recording.webm"}
REFUSED = "refused"  # the API refused a step before any decision (the attempt did not pass)


class StepRefused(Exception):
    """The API answered a step with an error: the attempt ends there, not passed."""

    def __init__(self, step: str, status: int, code: str) -> None:
        super().__init__(f"{step}: {status} {code}")
        self.step, self.status, self.code = step, status, code


@dataclass(frozen=True)
class Person:
    """A retiree seeded into the harness's registry (``photo`` names the face of the reference)."""

    name: str
    id_number: str
    birth_date: date
    sex: str
    has_reference: bool


@dataclass(frozen=True)
class Revealed:
    """What the start of a challenge told the page: content and schedule (as the API sent them)."""

    challenge_id: str
    kind: str
    language: str
    digits: str
    actions: tuple[str, ...]
    schedule: tuple[float, ...]
    timed: bool
    record_seconds: float
    started_at: datetime

    @classmethod
    def of(cls, challenge: Challenge, record_seconds: float) -> Revealed:
        """What the start would reveal for ``challenge`` (the sample pilot renders answers to its own)."""
        return cls(challenge.challenge_id, challenge.kind.value, challenge.language, challenge.digits,
                   challenge.actions, challenge.schedule, challenge.timed, record_seconds,
                   challenge.started_at or challenge.issued_at)

    def as_challenge(self) -> Challenge:
        """The pure-rules view, for renderers that make a clip answering this challenge."""
        started = self.started_at
        return Challenge(
            kind=ChallengeKind(self.kind), session_id="harness", issued_at=started,
            expires_at=started + timedelta(minutes=5), challenge_id=self.challenge_id, digits=self.digits,
            actions=self.actions, language=self.language, schedule=self.schedule, started_at=started,
        )


@dataclass
class Outcome:
    """How one attempt ended. ``result``: passed / failed / review / error, or ``refused``."""

    result: str
    reasons: list[str] = field(default_factory=list)
    scores: dict[str, Any] = field(default_factory=dict)
    refused_step: str | None = None
    decision_seconds: float = 0.0
    challenge: str = ""  # the CLI spelling of the challenge answered (empty when refused earlier)

    @property
    def passed(self) -> bool:
        return self.result == "passed"

    @classmethod
    def refused(cls, error: StepRefused) -> Outcome:
        return cls(REFUSED, [error.code], refused_step=error.step)


class ManualQueue:
    """The in-process queue, drained by the harness itself: the job runs when the harness says."""

    def __init__(self) -> None:
        self.jobs: list[str] = []

    def enqueue(self, job_id: str) -> None:
        self.jobs.append(job_id)

    def shutdown(self, wait: bool = True) -> None:
        return None


def png_bytes(image: NDArray[np.uint8]) -> bytes:
    """An RGB image as PNG bytes (the form every stored reference takes)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG")
    return buffer.getvalue()


class Harness:
    """The application on a temporary database, driven like the phone page drives it.

    Use as a context manager; ``workdir`` (default: a temporary folder) holds the database
    and the encrypted media. ``settings_env`` adds ``PENSIONCERT_…`` variables (e.g. to
    evaluate a candidate threshold) for the harness's lifetime.
    """

    def __init__(self, workdir: str | Path | None = None, *, settings_env: Mapping[str, str] | None = None,
                 challenge_rng: random.Random | None = None) -> None:
        self._workdir = Path(workdir) if workdir is not None else None
        self._settings_env = dict(settings_env or {})
        self._challenge_rng = challenge_rng
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._saved: dict[str, str | None] = {}
        self._client: Any = None
        self._queue = ManualQueue()
        self._ids = itertools.count(1)
        self._today = agency_today()

    # -------------------------------------------------------------- lifetime

    def __enter__(self) -> Harness:
        from fastapi.testclient import TestClient

        from pensioncert.api.app import create_app

        if self._workdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="pensioncert-harness-")
            self._workdir = Path(self._tmp.name)
        self._workdir.mkdir(parents=True, exist_ok=True)
        env = {_ENV_DATA_DIR: str(self._workdir / "data"), _ENV_RATE_LIMIT: "false", _ENV_BACKEND: "inprocess",
               **self._settings_env}
        for key, value in env.items():
            self._saved[key] = os.environ.get(key)
            os.environ[key] = value
        _clear_caches()
        self._client = TestClient(create_app(queue=self._queue, challenge_rng=self._challenge_rng))
        self._client.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        from pensioncert.storage.db import get_database

        try:
            if self._client is not None:
                self._client.__exit__(None, None, None)
            get_database().dispose()
        finally:
            for key, value in self._saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            _clear_caches()
            if self._tmp is not None:
                self._tmp.cleanup()

    @property
    def client(self) -> Any:
        assert self._client is not None, "use the harness as a context manager"
        return self._client

    # -------------------------------------------------------------- registry

    @contextmanager
    def shifted(self, days: int) -> Iterator[None]:
        """Run the application ``days`` away from today (negative: in the past) for a while.

        Everything that asks ``pensioncert.clock`` moves: the windows, challenge clocks, job
        decisions and what they store. The replay attacks make the victim's earlier session a
        year ago this way, so today's attempt meets it as next year's would.
        """
        from pensioncert import clock

        real = clock.now
        clock.now = lambda: real() + timedelta(days=days)
        try:
            yield
        finally:
            clock.now = real

    def enrol(self, reference: bytes | NDArray[np.uint8] | None, *, birth_date: date | None = None,
              sex: str | None = None, name: str | None = None, last_certified_months_ago: int = 11) -> Person:
        """Seed one retiree inside their certification window; ``reference`` becomes the registry photo.

        ``None``: no registry photo (the ID-card flows). Each call makes a new person with a
        valid, unique ID number, so attempts never share retry caps or a certification.
        ``last_certified_months_ago`` 23: due again a year ago too (``shifted(-365)``).
        """
        from pensioncert.certification.flow import store_reference_photo
        from pensioncert.domain.calendar import add_months
        from pensioncert.domain.idnumber import check_character
        from pensioncert.storage.crypto import protector_from_settings
        from pensioncert.storage.db import get_database
        from pensioncert.storage.repository import RetireeInput, find_retiree, upsert_retiree

        k = next(self._ids)
        born = birth_date or date(1950 + k % 12, 1 + k % 12, 1 + k % 27)
        sex = sex or ("male" if k % 2 else "female")
        parity = 1 if sex == "male" else 0
        sequence = (2 * k + parity) % 1000 or 2 + parity
        region = _REGIONS[k % len(_REGIONS)]
        first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
        number = first17 + check_character(first17)
        name = name or _SURNAMES[k % len(_SURNAMES)] + _GIVEN[(k // len(_SURNAMES)) % len(_GIVEN)] + \
            _GIVEN[k % len(_GIVEN)]
        row = RetireeInput(
            id_number=number, name=name, sex=sex, birth_date=born, region_code=region, pension_type="employee",
            retired_locally=True, status="normal", first_payment=add_months(self._today, -120),
            last_certified=add_months(self._today, -last_certified_months_ago), district="福田区",
            phone="13800000000",
        )
        protector = protector_from_settings()
        with get_database().session() as session:
            upsert_retiree(session, protector, row)
            session.flush()
            if reference is not None:
                retiree = find_retiree(session, protector, number)
                assert retiree is not None
                data = reference if isinstance(reference, bytes) else png_bytes(reference)
                store_reference_photo(protector, retiree, data)
        return Person(name, number, born, sex, reference is not None)

    # -------------------------------------------------------------- the phone's steps

    def _call(self, step: str, method: str, url: str, ok: tuple[int, ...], **kwargs: Any) -> dict[str, Any]:
        response = self.client.request(method, url, **kwargs)
        if response.status_code not in ok:
            try:
                code = str(response.json()["error"]["code"])
            except Exception:  # an error without the project's error shape is itself a finding
                code = f"http.{response.status_code}"
            raise StepRefused(step, response.status_code, code)
        body: dict[str, Any] = response.json()
        return body

    def open_session(self, channel: str, language: str = "zh-CN") -> str:
        body = self._call("session", "POST", "/api/v1/sessions", (201,),
                          json={"channel": channel, "language": language})
        return str(body["id"])

    def read_card(self, session_id: str, front: bytes, back: bytes | None = None) -> dict[str, Any]:
        """Upload ID-card photos (JPEG); returns the reading (fields, problems)."""
        files = {"front": ("front.jpg", front, "image/jpeg")}
        if back is not None:
            files["back"] = ("back.jpg", back, "image/jpeg")
        return self._call("id_card", "POST", f"/api/v1/sessions/{session_id}/id-card", (200,), files=files)

    def identify(self, session_id: str, person: Person, *, source: str = "typed") -> None:
        body = self._call("identity", "POST", f"/api/v1/sessions/{session_id}/identity", (200,),
                          json={"name": person.name, "id_number": person.id_number, "source": source})
        if not body.get("may_certify"):
            raise StepRefused("identity", 200, str(body.get("code")))

    def challenge(self, session_id: str) -> dict[str, Any]:
        return self._call("challenge", "POST", f"/api/v1/sessions/{session_id}/challenges", (201,))

    def start(self, session_id: str, issued: dict[str, Any], *, timed: bool = True) -> Revealed:
        """Start the challenge: the API reveals content and schedule and starts its clock."""
        body = self._call("start", "POST", f"/api/v1/sessions/{session_id}/challenges/{issued['id']}/start",
                          (200,), json={"timed": timed})
        steps = body.get("steps") or []
        times = [s.get("at") for s in steps]
        schedule = tuple(float(t) for t in times) if times and all(t is not None for t in times) else ()
        return Revealed(
            challenge_id=str(body["id"]), kind=str(body["kind"]), language=str(body.get("language")
                                                                                 or issued.get("language") or "en"),
            digits=str(body.get("digits") or ""), actions=tuple(body.get("actions") or ()), schedule=schedule,
            timed=bool(body.get("timed", bool(schedule))), record_seconds=float(body["record_seconds"]),
            started_at=datetime.now(UTC),
        )

    def upload(self, session_id: str, revealed: Revealed, video: bytes, *, filename: str = "recording.webm",
               content_type: str = "video/webm") -> Outcome:
        """Upload the recording and run the worker's job on it; the job's decision is the outcome."""
        from pensioncert.jobs.verification import run_verification

        self._arrive_as_a_phone_would(revealed)
        body = self._call("upload", "POST", f"/api/v1/sessions/{session_id}/recordings", (202,),
                          data={"challenge_id": revealed.challenge_id},
                          files={"video": (filename, video, content_type)})
        job_id = str(body["id"])
        started = time.perf_counter()
        while self._queue.jobs:
            queued = self._queue.jobs.pop(0)
            for _ in range(3):  # an unexpected error hands the job back for another run (jobs.max_runs)
                if run_verification(queued) != "pending":
                    break
        seconds = time.perf_counter() - started
        return self.job_outcome(job_id, seconds, revealed.as_challenge().describe() if revealed.timed else "")

    def _arrive_as_a_phone_would(self, revealed: Revealed) -> None:
        """Put the challenge's start ``record_seconds`` + 1 s before now, as for a phone's upload.

        A phone records for ``record_seconds`` of wall time and then uploads; the harness renders
        the recording in however long the CPU takes (a minute on a busy machine), which says
        nothing about the user. So the start is moved to where a phone's would be: the answer
        deadline is judged as for a real upload, neither helped nor hurt by the renderer.
        """
        from sqlalchemy import update

        from pensioncert.storage.db import get_database
        from pensioncert.storage.models import Challenge as ChallengeRow

        started = datetime.now(UTC) - timedelta(seconds=revealed.record_seconds + 1.0)
        with get_database().session() as session:
            session.execute(update(ChallengeRow).where(ChallengeRow.id == revealed.challenge_id,
                                                       ChallengeRow.started_at.is_not(None))
                            .values(started_at=started).execution_options(synchronize_session=False))

    def job_outcome(self, job_id: str, seconds: float = 0.0, challenge: str = "") -> Outcome:
        from pensioncert.storage.db import get_database
        from pensioncert.storage.models import VerificationJob

        with get_database().session() as session:
            job = session.get(VerificationJob, job_id)
            assert job is not None
            if job.state != "decided":
                return Outcome("undecided", [f"job.{job.state}"], decision_seconds=seconds, challenge=challenge)
            return Outcome(str(job.result), list(job.reasons or []), dict(job.scores or {}),
                           decision_seconds=seconds, challenge=challenge)

    def pin_challenge(self, challenge_id: str, challenge: Challenge) -> None:
        """Make the issued challenge ``challenge_id`` ask what ``challenge`` asks, schedule included.

        A pilot recording answered a challenge the page showed back then; to run it through
        today's decision path the server's challenge must be that one. Only content and
        schedule change; issue time, expiry, start and use stay the server's own.
        """
        from pensioncert.storage.db import get_database
        from pensioncert.storage.models import Challenge as ChallengeRow

        with get_database().session() as session:
            row = session.get(ChallengeRow, challenge_id)
            assert row is not None
            row.kind = challenge.kind.value
            row.payload = dict(row.payload or {}) | {
                "digits": challenge.digits, "actions": list(challenge.actions), "language": challenge.language,
                "schedule": list(challenge.schedule)}

    # -------------------------------------------------------------- one whole attempt

    def attempt(
        self,
        person: Person,
        respond: Callable[[Revealed], bytes],
        *,
        channel: str = "cityapp",
        language: str = "zh-CN",
        card: tuple[bytes, bytes | None] | None = None,
        timed: bool = True,
        content_type: str = "video/webm",
        pin: Challenge | None = None,
    ) -> Outcome:
        """Session → (ID card) → identity → challenge → start → ``respond(revealed)`` → upload → job.

        ``respond`` makes the recording once the schedule is known, as the page (or an
        attacker holding the phone) would. ``pin`` replaces the issued challenge's content and
        schedule (a recording made earlier for that challenge, as in a pilot). A refusal at
        any step is an outcome, not an error.
        """
        try:
            session_id = self.open_session(channel, language)
            if card is not None:
                self.read_card(session_id, *card)
            self.identify(session_id, person, source="id_card" if card is not None else "typed")
            issued = {"language": "en" if language == "en" else "zh"} | self.challenge(session_id)
            if pin is not None:
                self.pin_challenge(str(issued["id"]), pin)
                issued = issued | {"kind": pin.kind.value, "digits": pin.digits, "actions": list(pin.actions),
                                   "language": pin.language, "schedule": list(pin.schedule)}
            revealed = self.start(session_id, issued, timed=timed)
            video = respond(revealed)
            name = _FILENAMES.get(content_type, "recording.webm")
            return self.upload(session_id, revealed, video, filename=name, content_type=content_type)
        except StepRefused as refused:
            return Outcome.refused(refused)


def _clear_caches() -> None:
    from pensioncert.settings import get_settings
    from pensioncert.storage import db

    get_settings.cache_clear()
    db.get_database.cache_clear()


@contextmanager
def harness(**kwargs: Any) -> Iterator[Harness]:
    """``with harness() as h:`` — the same as ``with Harness() as h:``."""
    with Harness(**kwargs) as h:
        yield h
