"""Challenge rules: random, single-use, bound to a session, short-lived, capped retries."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from pensioncert.liveness import (
    ACTIONS,
    ChallengeExpired,
    ChallengeForeign,
    ChallengeKind,
    ChallengeMalformed,
    ChallengeUsed,
    attempts_exhausted_in_session,
    attempts_exhausted_today,
    check_challenge_use,
    issue_challenge,
    mark_used,
    parse_challenge,
)
from pensioncert.messages import catalogue
from pensioncert.settings import LivenessSettings

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
RULES = LivenessSettings()


def test_digit_challenges_are_four_uniform_digits() -> None:
    rng = random.Random(1)
    codes = [issue_challenge("digits", rng, NOW, "s1", RULES).digits for _ in range(2000)]
    assert all(len(c) == 4 and c.isdigit() for c in codes)
    counts = Counter("".join(codes))
    assert set(counts) == set("0123456789")
    assert max(counts.values()) / min(counts.values()) < 1.3  # 800 expected each
    assert len(set(codes)) > 1600  # 10 000 possible codes: few repeats in 2000


def test_action_challenges_are_two_or_three_distinct_actions() -> None:
    rng = random.Random(2)
    seen = [issue_challenge(ChallengeKind.ACTIONS, rng, NOW, "s1", RULES).actions for _ in range(500)]
    assert {len(a) for a in seen} == {2, 3}
    assert all(len(set(a)) == len(a) and set(a) <= set(ACTIONS) for a in seen)
    assert {a[0] for a in seen} == set(ACTIONS)


def test_challenge_is_bound_expires_and_is_single_use() -> None:
    ch = issue_challenge("digits", random.Random(3), NOW, "session-a", RULES)
    assert ch.expires_at == NOW + timedelta(seconds=RULES.challenge_ttl_seconds)
    check_challenge_use(ch, "session-a", NOW + timedelta(seconds=10))  # fine
    with pytest.raises(ChallengeForeign) as foreign:
        check_challenge_use(ch, "session-b", NOW)
    with pytest.raises(ChallengeExpired) as expired:
        check_challenge_use(ch, "session-a", ch.expires_at)
    used = mark_used(ch, NOW + timedelta(seconds=20))
    with pytest.raises(ChallengeUsed) as reused:
        check_challenge_use(used, "session-a", NOW + timedelta(seconds=30))
    codes = [e.value.code for e in (foreign, expired, reused)]
    assert codes == ["liveness.challenge_foreign", "liveness.challenge_expired", "liveness.challenge_used"]
    assert set(codes) <= set(catalogue())
    assert ch.used_at is None  # the original is unchanged: marking returns a new value


def test_foreign_wins_over_used_so_a_stolen_id_reveals_nothing() -> None:
    used = mark_used(issue_challenge("digits", random.Random(4), NOW, "a", RULES), NOW)
    with pytest.raises(ChallengeForeign):
        check_challenge_use(used, "b", NOW + timedelta(days=1))


@pytest.mark.parametrize(("failures", "session_out", "day_out"), [(0, False, False), (2, False, False),
                                                                  (3, True, False), (5, True, True)])
def test_retry_caps(failures: int, session_out: bool, day_out: bool) -> None:
    assert attempts_exhausted_in_session(failures, RULES) is session_out
    assert attempts_exhausted_today(failures, RULES) is day_out


def test_parse_challenge_round_trip_and_refusals() -> None:
    assert parse_challenge("digits:3709").digits == "3709"
    ch = parse_challenge("actions:blink,turn_left")
    assert ch.actions == ("blink", "turn_left") and ch.describe() == "actions:blink,turn_left"
    for bad in ("digits:37", "digits:37a9", "actions:wave", "actions:", "colour:red"):
        with pytest.raises(ChallengeMalformed):
            parse_challenge(bad)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ChallengeMalformed):
        issue_challenge("digits", random.Random(0), NOW, "s", RULES, language="fr")
