"""Challenge rules: pure functions the API and the jobs call; persistence is the caller's.

A challenge is issued by the server, bound to one session, single-use and short-lived,
so a recording made yesterday (or for another session) cannot answer today's prompt.

Freshness in time, not only in content: each challenge carries a *schedule*, the time
(seconds after the recording starts) at which each action or digit is prompted, drawn with
the same random source. The page learns content and schedule only when it starts recording
(``start_challenge``), which also starts the clock; the answer must arrive within the
schedule's length plus a slack (``answer_deadline``). A recording made for another schedule
(last year's, a relative's, one that does every action) does not fit this one's windows.

The phone-camera fallback (in-app browsers without camera access) cannot show timed
prompts: it starts the challenge *untimed* (empty schedule). Only English digits, whose
content is recognised, may be decided automatically untimed; everything else untimed goes to
manual review (``auto_decidable``).
"""

from __future__ import annotations

import enum
import itertools
import random
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from pensioncert.errors import CodedError

ACTIONS = ("blink", "open_mouth", "turn_left", "turn_right", "nod")
LANGUAGES = ("en", "zh")


class ChallengeKind(enum.StrEnum):
    DIGITS = "digits"
    ACTIONS = "actions"


class ChallengeRules(Protocol):
    """The part of ``LivenessSettings`` these rules read (kept structural so tests need no settings)."""

    challenge_ttl_seconds: int
    max_attempts_per_session: int
    max_attempts_per_retiree_per_day: int
    max_attempts_per_retiree_per_30_days: int
    min_actions: int
    max_actions: int
    first_prompt_min_seconds: float
    first_prompt_max_seconds: float
    action_gap_min_seconds: float
    action_gap_max_seconds: float
    digit_gap_min_seconds: float
    digit_gap_max_seconds: float
    record_tail_seconds: float
    answer_slack_seconds: float
    untimed_answer_seconds: float


@dataclass(frozen=True)
class Challenge:
    """What the user was asked to do. ``digits`` for DIGITS, ``actions`` (in order) for ACTIONS."""

    kind: ChallengeKind
    session_id: str
    issued_at: datetime
    expires_at: datetime
    challenge_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    digits: str = ""
    actions: tuple[str, ...] = ()
    language: str = "en"
    used_at: datetime | None = None
    # Prompt time of each step (action or digit), seconds after the recording starts; () = untimed.
    schedule: tuple[float, ...] = ()
    # When the page started recording (and learnt content and schedule); None = not started.
    started_at: datetime | None = None

    @property
    def steps(self) -> tuple[str, ...]:
        """What is prompted, one entry per scheduled time: the actions, or the digits one by one."""
        return tuple(self.digits) if self.kind is ChallengeKind.DIGITS else self.actions

    @property
    def timed(self) -> bool:
        """True when every step has its prompt time (the page showed prompts one at a time)."""
        return bool(self.schedule) and len(self.schedule) == len(self.steps)

    @property
    def auto_decidable(self) -> bool:
        """May a machine pass this answer? Timed ones yes; untimed only English digits (content heard)."""
        return self.timed or (self.kind is ChallengeKind.DIGITS and self.language == "en")

    def record_seconds(self, rules: ChallengeRules) -> float:
        """How long the page records: the last prompt plus the tail (untimed: a fixed 5 s per step)."""
        if not self.timed:
            return 5.0 + 2.0 * len(self.steps)
        return self.schedule[-1] + rules.record_tail_seconds

    def answer_deadline(self, rules: ChallengeRules) -> datetime | None:
        """The latest arrival of the upload after ``started_at`` (None before the start)."""
        if self.started_at is None:
            return None
        if self.timed:
            return self.started_at + timedelta(seconds=self.record_seconds(rules) + rules.answer_slack_seconds)
        return self.started_at + timedelta(seconds=rules.untimed_answer_seconds)

    def describe(self) -> str:
        """The CLI spelling: ``digits:3709@0.5,1.5,2.6,3.4`` or ``actions:blink@1.2,turn_left@3.0``.

        Untimed challenges print without times (``digits:3709``, ``actions:blink,turn_left``).
        """
        if self.kind is ChallengeKind.DIGITS:
            if self.timed:
                return f"digits:{self.digits}@" + ",".join(_fmt(t) for t in self.schedule)
            return f"digits:{self.digits}"
        if self.timed:
            return "actions:" + ",".join(f"{a}@{_fmt(t)}" for a, t in zip(self.actions, self.schedule, strict=True))
        return "actions:" + ",".join(self.actions)


def _fmt(seconds: float) -> str:
    return f"{seconds:.2f}".rstrip("0").rstrip(".") if seconds % 1 else f"{seconds:.1f}"


class ChallengeError(CodedError):
    """A challenge that must not be answered; ``code`` is a message code in liveness.toml."""

    code = "liveness.challenge_invalid"


class ChallengeUsed(ChallengeError):
    code = "liveness.challenge_used"


class ChallengeExpired(ChallengeError):
    code = "liveness.challenge_expired"


class ChallengeForeign(ChallengeError):
    code = "liveness.challenge_foreign"


class ChallengeMalformed(ChallengeError):
    code = "liveness.challenge_malformed"


class ChallengeNotStarted(ChallengeError):
    """An upload for a challenge whose recording was never started (no schedule was revealed)."""

    code = "liveness.challenge_not_started"


def issue_challenge(
    kind: ChallengeKind | str,
    rng: random.Random,
    now: datetime,
    session_id: str,
    settings: ChallengeRules,
    *,
    language: str = "en",
) -> Challenge:
    """A fresh challenge. Pass ``random.SystemRandom()`` in production; a seeded Random in tests.

    Digits: four independent digits (10 000 codes, so a pre-recorded answer matches by chance
    with probability 1e-4). Actions: 2–3 distinct actions in random order (5·4 + 5·4·3 = 80
    sequences), no action repeated so each step is a visible change. Both carry a schedule
    (``draw_schedule``) from the same ``rng``.
    """
    kind = ChallengeKind(kind)
    if language not in LANGUAGES:
        raise ChallengeMalformed(f"unsupported language {language!r}")
    expires = now + timedelta(seconds=settings.challenge_ttl_seconds)
    if kind is ChallengeKind.DIGITS:
        digits = "".join(rng.choice("0123456789") for _ in range(4))
        return Challenge(kind, session_id, now, expires, digits=digits, language=language,
                         challenge_id=_token(rng), schedule=draw_schedule(kind, len(digits), rng, settings))
    count = rng.randint(settings.min_actions, settings.max_actions)
    actions = tuple(rng.sample(ACTIONS, count))
    return Challenge(kind, session_id, now, expires, actions=actions, language=language,
                     challenge_id=_token(rng), schedule=draw_schedule(kind, count, rng, settings))


def draw_schedule(kind: ChallengeKind, steps: int, rng: random.Random, settings: ChallengeRules) -> tuple[float, ...]:
    """Prompt times for ``steps`` steps: a settling pause, then random gaps (rounded to 10 ms).

    With gaps uniform over about a second per step, a recording made for one schedule lands
    outside another's response windows with high probability (measured in ``eval attacks``).
    """
    if kind is ChallengeKind.DIGITS:
        low, high = settings.digit_gap_min_seconds, settings.digit_gap_max_seconds
    else:
        low, high = settings.action_gap_min_seconds, settings.action_gap_max_seconds
    at = rng.uniform(settings.first_prompt_min_seconds, settings.first_prompt_max_seconds)
    times = [round(at, 2)]
    for _ in range(steps - 1):
        at += rng.uniform(low, high)
        times.append(round(at, 2))
    return tuple(times)


def start_challenge(challenge: Challenge, now: datetime, *, timed: bool = True) -> Challenge:
    """The challenge with its clock started: the page may now show content and schedule.

    A challenge starts once: a second start (to learn the schedule, then answer later) is
    refused as used. ``timed=False`` is the native-camera fallback: the schedule is dropped
    and the answer is decided by content where it is recognised, else by a reviewer.
    """
    if challenge.started_at is not None or challenge.used_at is not None:
        raise ChallengeUsed()
    if now >= challenge.expires_at:
        raise ChallengeExpired()
    return replace(challenge, started_at=now, schedule=challenge.schedule if timed else ())


def _token(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def check_challenge_use(challenge: Challenge, session_id: str, now: datetime,
                        rules: ChallengeRules | None = None) -> None:
    """Raise if ``challenge`` may not be answered by ``session_id`` at ``now``; return None if it may.

    Order matters for the message: a foreign challenge is refused as foreign even if also used,
    so that a stolen challenge id reveals nothing about its state. With ``rules`` (the upload
    path), the challenge must also have been started and the answer must arrive before
    ``answer_deadline``.
    """
    if challenge.session_id != session_id:
        raise ChallengeForeign()
    if challenge.used_at is not None:
        raise ChallengeUsed()
    if now >= challenge.expires_at:
        raise ChallengeExpired()
    if rules is not None:
        deadline = challenge.answer_deadline(rules)
        if deadline is None:
            raise ChallengeNotStarted()
        if now > deadline:
            raise ChallengeExpired()


def mark_used(challenge: Challenge, now: datetime) -> Challenge:
    """The same challenge, consumed (the caller persists it before analysing the upload)."""
    return replace(challenge, used_at=now)


def attempts_exhausted_in_session(failed_attempts: int, settings: ChallengeRules) -> bool:
    """True once a session has used up its tries: tell the user to use another channel."""
    return failed_attempts >= settings.max_attempts_per_session


def attempts_exhausted_today(failed_attempts_today: int, settings: ChallengeRules) -> bool:
    """True once a retiree has used up today's tries across sessions (offer manual review)."""
    return failed_attempts_today >= settings.max_attempts_per_retiree_per_day


def attempts_exhausted_in_30_days(attempts: int, settings: ChallengeRules) -> bool:
    """True once a retiree has used the tries of any 30 days: offline channels only (bounds a patient replayer)."""
    return attempts >= settings.max_attempts_per_retiree_per_30_days


def parse_challenge(spec: str, *, session_id: str = "cli", now: datetime | None = None,
                    ttl_seconds: int = 300, language: str = "en", allow_untimed: bool = False) -> Challenge:
    """Parse the CLI spelling (the CLI, the evaluations and the tests use it).

    Timed: ``actions:blink@0.4,open_mouth@2.0`` (prompt time of each action, seconds after the
    start) and ``digits:5821@0.5,1.5,2.6,3.4`` (one time per digit). Untimed ``digits:3709`` is
    valid only for English, whose content is recognised; untimed actions and untimed Mandarin
    digits are malformed unless ``allow_untimed`` (the fallback path, which ends in review).
    The parsed challenge counts as started at ``now``.
    """
    now = now or datetime.now().astimezone()
    kind_text, _, body = spec.partition(":")
    try:
        kind = ChallengeKind(kind_text.strip().lower())
    except ValueError as bad:
        raise ChallengeMalformed(f"unknown challenge kind in {spec!r}") from bad
    if language not in LANGUAGES:
        raise ChallengeMalformed(f"unsupported language {language!r}")
    expires = now + timedelta(seconds=ttl_seconds)
    if kind is ChallengeKind.DIGITS:
        digits, _, times_text = body.strip().partition("@")
        digits = digits.strip()
        if len(digits) != 4 or not digits.isdigit():
            raise ChallengeMalformed(f"digits challenge needs four digits, got {body!r}")
        schedule = _times(times_text, 4, spec) if times_text else ()
        if not schedule and language != "en" and not allow_untimed:
            raise ChallengeMalformed(f"untimed digits are only recognised in English, give times: {spec!r}")
        return Challenge(kind, session_id, now, expires, digits=digits, language=language, schedule=schedule,
                         started_at=now)
    parts = [a.strip() for a in body.split(",") if a.strip()]
    actions = tuple(p.partition("@")[0].strip() for p in parts)
    if not 1 <= len(actions) <= 3 or any(a not in ACTIONS for a in actions):
        raise ChallengeMalformed(f"actions must be 1–3 of {', '.join(ACTIONS)}, got {body!r}")
    timed_parts = [p for p in parts if "@" in p]
    if timed_parts and len(timed_parts) != len(parts):
        raise ChallengeMalformed(f"give a time for every action or none, got {body!r}")
    schedule = _times(",".join(p.partition("@")[2] for p in parts), len(parts), spec) if timed_parts else ()
    if not schedule and not allow_untimed:
        raise ChallengeMalformed(f"actions need prompt times (actions:blink@1.0,turn_left@3.0), got {spec!r}")
    return Challenge(kind, session_id, now, expires, actions=actions, language=language, schedule=schedule,
                     started_at=now)


def _times(text: str, count: int, spec: str) -> tuple[float, ...]:
    """``count`` non-negative, strictly increasing prompt times from ``0.5,1.5,…``."""
    try:
        times = tuple(float(t) for t in text.split(","))
    except ValueError as bad:
        raise ChallengeMalformed(f"prompt times must be seconds, got {spec!r}") from bad
    if len(times) != count:
        raise ChallengeMalformed(f"need {count} prompt times, got {len(times)} in {spec!r}")
    if any(t < 0 or t != t for t in times) or any(b <= a for a, b in itertools.pairwise(times)):
        raise ChallengeMalformed(f"prompt times must increase from 0, got {spec!r}")
    return times
