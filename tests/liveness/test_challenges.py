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
    ChallengeNotStarted,
    ChallengeUsed,
    attempts_exhausted_in_session,
    attempts_exhausted_today,
    check_challenge_use,
    issue_challenge,
    mark_used,
    parse_challenge,
    start_challenge,
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
    assert not parse_challenge("digits:3709").timed
    ch = parse_challenge("actions:blink@0.4,turn_left@2")
    assert ch.actions == ("blink", "turn_left") and ch.schedule == (0.4, 2.0) and ch.timed
    assert ch.describe() == "actions:blink@0.4,turn_left@2.0"
    assert parse_challenge(ch.describe()).schedule == ch.schedule
    zh = parse_challenge("digits:5821@0.5,1.5,2.6,3.4", language="zh")
    assert zh.schedule == (0.5, 1.5, 2.6, 3.4) and zh.steps == ("5", "8", "2", "1")
    assert parse_challenge(zh.describe(), language="zh").schedule == zh.schedule
    for bad in ("digits:37", "digits:37a9", "actions:wave", "actions:", "colour:red",
                "actions:blink,turn_left",              # untimed actions: no freshness proof
                "actions:blink@1,turn_left",            # a time for some actions only
                "actions:blink@2,turn_left@1",          # times must increase
                "digits:3709@0.5,1.5",                  # one time per digit
                "digits:3709@a,b,c,d"):
        with pytest.raises(ChallengeMalformed):
            parse_challenge(bad)
    with pytest.raises(ChallengeMalformed):
        parse_challenge("digits:3709", language="zh")  # untimed Mandarin: content is not recognised
    assert parse_challenge("actions:blink,nod", allow_untimed=True).auto_decidable is False


def test_issued_challenges_carry_a_random_schedule_within_the_settings() -> None:
    rng = random.Random(5)
    for _ in range(300):
        ch = issue_challenge("actions", rng, NOW, "s", RULES)
        assert ch.timed and ch.started_at is None
        assert RULES.first_prompt_min_seconds <= ch.schedule[0] <= RULES.first_prompt_max_seconds
        gaps = [b - a for a, b in zip(ch.schedule, ch.schedule[1:], strict=False)]
        assert all(RULES.action_gap_min_seconds - 0.011 <= g <= RULES.action_gap_max_seconds + 0.011 for g in gaps)
        digits = issue_challenge("digits", rng, NOW, "s", RULES)
        gaps = [b - a for a, b in zip(digits.schedule, digits.schedule[1:], strict=False)]
        assert len(digits.schedule) == 4
        assert all(RULES.digit_gap_min_seconds - 0.011 <= g <= RULES.digit_gap_max_seconds + 0.011 for g in gaps)
    schedules = {issue_challenge("digits", rng, NOW, "s", RULES).schedule for _ in range(200)}
    assert len(schedules) == 200  # never the same timing twice


def test_an_answer_needs_a_start_and_must_arrive_inside_the_schedule_plus_slack() -> None:
    ch = issue_challenge("actions", random.Random(6), NOW, "s", RULES)
    with pytest.raises(ChallengeNotStarted):
        check_challenge_use(ch, "s", NOW + timedelta(seconds=5), RULES)
    started = start_challenge(ch, NOW + timedelta(seconds=10))
    with pytest.raises(ChallengeUsed):
        start_challenge(started, NOW + timedelta(seconds=11))  # one start: the schedule is learnt once
    deadline = started.answer_deadline(RULES)
    assert deadline == NOW + timedelta(seconds=10 + started.schedule[-1] + RULES.record_tail_seconds
                                       + RULES.answer_slack_seconds)
    check_challenge_use(started, "s", deadline, RULES)
    with pytest.raises(ChallengeExpired):
        check_challenge_use(started, "s", deadline + timedelta(seconds=1), RULES)
    untimed = start_challenge(ch, NOW, timed=False)
    assert not untimed.timed and not untimed.auto_decidable
    check_challenge_use(untimed, "s", NOW + timedelta(seconds=RULES.untimed_answer_seconds), RULES)
    with pytest.raises(ChallengeExpired):
        check_challenge_use(untimed, "s", NOW + timedelta(seconds=RULES.untimed_answer_seconds + 1), RULES)
    with pytest.raises(ChallengeExpired):
        start_challenge(ch, ch.expires_at)


def test_unknown_language_is_refused() -> None:
    with pytest.raises(ChallengeMalformed):
        issue_challenge("digits", random.Random(0), NOW, "s", RULES, language="fr")
