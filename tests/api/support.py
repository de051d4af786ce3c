"""Shared by the API and browser tests: demo registry, reference photos, cached synthetic clips.

Clips are rendered once per test session (the synthetic head costs ~20 s of CPU per clip)
into one directory; ``PENSIONCERT_TEST_CLIP_CACHE`` names a directory to keep them across runs.
Challenges are made predictable by seeding the server's challenge RNG, so a clip can be
rendered before the page asks for its challenge; the analysis of the recording is the real one.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

from pensioncert.clock import agency_today
from pensioncert.liveness.challenges import Challenge, ChallengeKind, issue_challenge, start_challenge
from pensioncert.settings import get_settings

SUBJECT = "grace_hopper"  # the synthetic retiree's face; the registry photo is the same photo

# Demo retirees (certification.demo_data) by the case they show.
IN_WINDOW = "张伟"
IN_WINDOW_NO_PHOTO = "王芳"
ALREADY = "李娜"
NOT_YET = "刘洋"
OVERDUE = "陈静"
ABNORMAL = "杨军"
OUT_OF_SCOPE = "赵敏"
TERMINATED = "黄强"
OVERDUE_OLD = "周秀英"
IN_WINDOW_2 = "吴建国"
WITH_PHOTO = (IN_WINDOW, OVERDUE, OVERDUE_OLD, IN_WINDOW_2)


def cst_today() -> date:
    """The agency's day, as the API's ``Today`` dependency has it."""
    return agency_today()


def flow_env(monkeypatch: object) -> None:
    """Settings every flow test uses (today: the defaults; recordings last as long as their schedule)."""
    del monkeypatch
    get_settings.cache_clear()


AppFactory = Callable[..., "tuple[TestClient, dict[str, str]]"]


def app_clients(monkeypatch: Any) -> Iterator[AppFactory]:
    """The body of a ``make_client`` fixture: ``make_client(KEY=value, …)`` gives a started app with
    PENSIONCERT_<KEY> settings and the demo registry loaded (and its ID numbers by name); every
    client is closed at the end."""
    from fastapi.testclient import TestClient

    from pensioncert.api.app import create_app
    from pensioncert.evaluation.harness import ManualQueue

    clients: list[TestClient] = []

    def make(**env: str) -> tuple[TestClient, dict[str, str]]:
        for key, value in env.items():
            monkeypatch.setenv(f"PENSIONCERT_{key}", value)
        get_settings.cache_clear()
        numbers = load_demo_registry()
        client = TestClient(create_app(queue=ManualQueue()))
        client.__enter__()
        clients.append(client)
        return client, numbers

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@lru_cache(maxsize=1)
def subject_png() -> bytes:
    from PIL import Image

    from pensioncert.synth import load_photo

    buffer = io.BytesIO()
    Image.fromarray(load_photo(SUBJECT)).save(buffer, format="PNG")
    return buffer.getvalue()


def load_demo_registry(photos: tuple[str, ...] = WITH_PHOTO) -> dict[str, str]:
    """Load the demo retirees (not the back office's demo staff and cases) into the configured
    database; give ``photos`` the subject's face as their registry photo. Returns name → ID number.
    """
    from pensioncert.certification.demo_data import demo_retirees
    from pensioncert.certification.flow import store_reference_photo
    from pensioncert.jobs.overdue import suspend_overdue
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.repository import find_retiree, upsert_retiree

    today = cst_today()
    rows = demo_retirees(today)
    protector = protector_from_settings()
    with get_database().session() as session:
        for row in rows:
            upsert_retiree(session, protector, row)
        session.flush()
        suspend_overdue(session, today, get_settings().cycle)
        for row in rows:
            if row.name in photos:
                retiree = find_retiree(session, protector, row.id_number)
                assert retiree is not None
                store_reference_photo(protector, retiree, subject_png())
    return {row.name: row.id_number for row in rows}


# ------------------------------------------------------------------------ challenges


@dataclass(frozen=True)
class Planned:
    """A seed for the server's challenge RNG and the challenge it will produce first.

    ``schedule`` is what ``…/start`` will reveal (prompt times after recording start) and
    ``record_seconds`` how long the page records, so a clip can follow the schedule.
    """

    seed: int
    kind: str
    digits: str
    actions: tuple[str, ...]
    schedule: tuple[float, ...] = ()
    record_seconds: float = 0.0
    language: str = "zh"

    @property
    def steps(self) -> tuple[str, ...]:
        return tuple(self.digits) if self.kind == "digits" else self.actions

    def challenge(self, *, timed: bool = True) -> Challenge:
        """The challenge as ``…/start`` leaves it (``timed=False``: the native-camera fallback)."""
        now = datetime.now(UTC)
        issued = issue_challenge(ChallengeKind(self.kind), random.Random(self.seed), now, "plan",
                                 get_settings().liveness, language=self.language)
        return start_challenge(issued, now, timed=timed)


def plan_challenge(kind: str, *, n_actions: int = 2, start: int = 0, language: str = "zh") -> Planned:
    """The first seed from ``start`` whose first challenge of ``kind`` has ``n_actions`` actions.

    ``language``: the session's (``zh`` for the default zh-CN sessions, ``en`` for English ones).
    """
    now = datetime.now(UTC)
    rules = get_settings().liveness
    for seed in range(start, start + 500):
        issued = issue_challenge(ChallengeKind(kind), random.Random(seed), now, "plan", rules)
        if kind == "digits" or len(issued.actions) == n_actions:
            return Planned(seed, kind, issued.digits, issued.actions, issued.schedule,
                           round(issued.record_seconds(rules), 2), language)
    raise AssertionError("no seed found")


# ------------------------------------------------------------------------ clips


@dataclass(frozen=True)
class ClipFiles:
    y4m: Path
    wav: Path
    webm: Path
    mp4: Path


_lock = threading.Lock()


def _cache_dir() -> Path:
    configured = os.environ.get("PENSIONCERT_TEST_CLIP_CACHE")
    path = Path(configured) if configured else Path(tempfile.gettempdir()) / f"pensioncert-clips-{os.getpid()}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clip(*, script: str | None = None, digits: str | None = None, duration: float, photo: str = SUBJECT,
         seed: int = 3, language: str = "en") -> ClipFiles:
    """Render (once per cache directory) the subject following ``script`` or saying ``digits``."""
    key = hashlib.sha1(json.dumps([script, digits, duration, photo, seed, language, 3]).encode()).hexdigest()[:12]
    folder = _cache_dir() / key
    files = ClipFiles(*(folder / f"clip.{ext}" for ext in ("y4m", "wav", "webm", "mp4")))
    with _lock:
        if not all(p.is_file() for p in (files.y4m, files.wav, files.webm, files.mp4)):
            from pensioncert.synth import render_subject

            render_subject(photo, script=script, digits=digits, seed=seed, duration=duration, out_dir=folder,
                           formats=("y4m", "wav", "webm", "mp4"), name="clip", language=language)
    return files


def follow_clip(planned: Planned, *, timed: bool = True, photo: str = SUBJECT, attempt: int = 0) -> ClipFiles:
    """``photo``'s face answering the planned challenge as a genuine user does (``synth.follow_schedule_script``:
    each step 0.4-1.2 s after its prompt, natural blinks), for as long as the page records.

    ``timed=False``: the native-camera fallback's answer (every step in order, no schedule).
    ``attempt``: the person's n-th performance of this answer (its own reaction times, sway and
    jitter), as a second attempt would be; the same ``attempt`` is the same recording again.
    """
    from pensioncert.synth.subject import follow_schedule_script

    challenge = planned.challenge(timed=timed)
    script = follow_schedule_script(challenge, rng=random.Random(planned.seed + 1000 * attempt))
    duration = round(challenge.record_seconds(get_settings().liveness), 2)
    return clip(script=script, duration=duration, photo=photo, language=challenge.language, seed=3 + attempt)


def actions_clip(planned: Planned, *, perform: bool = True, photo: str = SUBJECT, attempt: int = 0) -> ClipFiles:
    """The subject following the planned schedule (``perform=False``: just looking at the camera)."""
    if perform:
        return follow_clip(planned, photo=photo, attempt=attempt)
    return clip(script="", duration=planned.record_seconds, photo=photo)


def digits_clip(planned: Planned) -> ClipFiles:
    """The subject saying each digit after its prompt, in the planned challenge's language."""
    return follow_clip(planned)


# ------------------------------------------------------------------------ ID cards


def id_card_jpegs(name: str, number: str, *, photo: str = SUBJECT, valid_from: date = date(2012, 5, 14),
                  valid_until: date | None = None) -> tuple[bytes, bytes]:
    """Front and back photos of a generated ID card for this person, ``photo``'s face as its portrait
    (default the subject's; an attacker's for a forged card); long-term valid unless ``valid_until``."""
    from pensioncert.documents import cardgen
    from pensioncert.domain.idnumber import parse_id_number
    from pensioncert.synth import load_photo

    info = parse_id_number(number)
    identity = cardgen.Identity(
        name=name, sex=info.sex, ethnicity="汉", birth_date=info.birth_date,
        address="深圳市罗湖区东门中路1024号园岭新村3栋502", id_number=number,
        authority="深圳市公安局罗湖分局", valid_from=valid_from, valid_until=valid_until,
    )
    front = cardgen.generate_card(11, "front", identity=identity, portrait=load_photo(photo))
    back = cardgen.generate_card(11, "back", identity=identity)
    return front.jpeg(), back.jpeg()
