"""Challenge rules: pure functions the API and the jobs call; persistence is the caller's.

A challenge is issued by the server, bound to one session, single-use and short-lived,
so a recording made yesterday (or for another session) cannot answer today's prompt.
"""

from __future__ import annotations

import enum
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
    min_actions: int
    max_actions: int


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

    def describe(self) -> str:
        """The CLI spelling: ``digits:3709`` or ``actions:blink,turn_left``."""
        if self.kind is ChallengeKind.DIGITS:
            return f"digits:{self.digits}"
        return "actions:" + ",".join(self.actions)


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
    sequences), no action repeated so each step is a visible change.
    """
    kind = ChallengeKind(kind)
    if language not in LANGUAGES:
        raise ChallengeMalformed(f"unsupported language {language!r}")
    expires = now + timedelta(seconds=settings.challenge_ttl_seconds)
    if kind is ChallengeKind.DIGITS:
        digits = "".join(rng.choice("0123456789") for _ in range(4))
        return Challenge(kind, session_id, now, expires, digits=digits, language=language,
                         challenge_id=_token(rng))
    count = rng.randint(settings.min_actions, settings.max_actions)
    actions = tuple(rng.sample(ACTIONS, count))
    return Challenge(kind, session_id, now, expires, actions=actions, language=language,
                     challenge_id=_token(rng))


def _token(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def check_challenge_use(challenge: Challenge, session_id: str, now: datetime) -> None:
    """Raise if ``challenge`` may not be answered by ``session_id`` at ``now``; return None if it may.

    Order matters for the message: a foreign challenge is refused as foreign even if also used,
    so that a stolen challenge id reveals nothing about its state.
    """
    if challenge.session_id != session_id:
        raise ChallengeForeign()
    if challenge.used_at is not None:
        raise ChallengeUsed()
    if now >= challenge.expires_at:
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


def parse_challenge(spec: str, *, session_id: str = "cli", now: datetime | None = None,
                    ttl_seconds: int = 300, language: str = "en") -> Challenge:
    """Parse ``digits:3709`` or ``actions:blink,turn_left`` (the CLI and the evaluation use it)."""
    now = now or datetime.now().astimezone()
    kind_text, _, body = spec.partition(":")
    try:
        kind = ChallengeKind(kind_text.strip().lower())
    except ValueError as bad:
        raise ChallengeMalformed(f"unknown challenge kind in {spec!r}") from bad
    expires = now + timedelta(seconds=ttl_seconds)
    if kind is ChallengeKind.DIGITS:
        digits = body.strip()
        if len(digits) != 4 or not digits.isdigit():
            raise ChallengeMalformed(f"digits challenge needs four digits, got {body!r}")
        return Challenge(kind, session_id, now, expires, digits=digits, language=language)
    actions = tuple(a.strip() for a in body.split(",") if a.strip())
    if not 1 <= len(actions) <= 3 or any(a not in ACTIONS for a in actions):
        raise ChallengeMalformed(f"actions must be 1–3 of {', '.join(ACTIONS)}, got {body!r}")
    return Challenge(kind, session_id, now, expires, actions=actions, language=language)
