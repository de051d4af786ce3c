"""Timed challenges through the API (issue #12): revealed only at the start, started once, answered in time.

No recording is analysed here: every refusal below happens before the upload is even read,
so any bytes stand in for the video.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from pensioncert.storage.models import AuditEntry, Challenge, VerificationJob
from tests.api import support
from tests.api.conftest import Api, assert_error

NOT_A_VIDEO = b"\x1a\x45\xdf\xa3 refused before it is read"


def _identified(api: Api, channel: str = "cityapp", name: str = support.IN_WINDOW) -> str:
    session_id = api.session(channel)
    assert api.identify(session_id, name).json()["may_certify"] is True
    return session_id


def _row(challenge_id: str) -> Challenge:
    from pensioncert.storage.db import get_database

    with get_database().session() as session:
        row = session.get(Challenge, challenge_id)
        assert row is not None
        session.expunge(row)
        return row


def _shift_start(challenge_id: str, seconds: float) -> None:
    """Move the recorded start ``seconds`` into the past (as if the page had started that long ago)."""
    from pensioncert.storage.db import get_database

    with get_database().session() as session:
        row = session.get(Challenge, challenge_id)
        assert row is not None and row.started_at is not None
        row.started_at = row.started_at - timedelta(seconds=seconds)


def _jobs() -> int:
    from pensioncert.storage.db import get_database

    with get_database().session() as session:
        return session.scalar(select(func.count()).select_from(VerificationJob)) or 0


def test_issuing_reveals_neither_content_nor_schedule(api: Api) -> None:
    planned = support.plan_challenge("actions", n_actions=3)
    session_id = _identified(api)
    issued = api.challenge(session_id, seed=planned.seed).json()
    assert set(issued) == {"id", "kind", "language", "step_count", "expires_at", "record_seconds"}
    assert (issued["kind"], issued["language"], issued["step_count"]) == ("actions", "zh", 3)
    assert issued["record_seconds"] == planned.record_seconds
    text = str(issued)
    assert not any(action in text for action in planned.actions)
    assert not any(f"{at}" in text for at in planned.schedule)
    # Stored for the start, not shown: the row holds the schedule drawn with the content.
    row = _row(issued["id"])
    assert tuple(row.payload["schedule"]) == planned.schedule and row.started_at is None


def test_start_reveals_each_prompt_with_its_time_once(api: Api) -> None:
    from pensioncert.settings import get_settings
    from pensioncert.storage.db import get_database

    planned = support.plan_challenge("actions", n_actions=2)
    session_id = _identified(api)
    issued = api.challenge(session_id, seed=planned.seed).json()
    before = datetime.now().astimezone()
    started = api.start(session_id, issued["id"]).json()
    assert started["id"] == issued["id"] and started["timed"] is True
    assert tuple(started["actions"]) == planned.actions and started["digits"] is None
    assert [(s["at"], s["action"], s["code"]) for s in started["steps"]] == [
        (at, action, f"challenge.action.{action}") for at, action in zip(planned.schedule, planned.actions,
                                                                         strict=True)]
    assert all(s["prompt"]["zh"] and s["prompt"]["en"] and s["digit"] is None for s in started["steps"])
    assert started["record_seconds"] == issued["record_seconds"] == planned.record_seconds
    started_at = datetime.fromisoformat(started["started_at"])
    deadline = datetime.fromisoformat(started["answer_deadline"])
    rules = get_settings().liveness
    assert started_at >= before - timedelta(seconds=1)
    assert deadline - started_at == timedelta(seconds=planned.record_seconds + rules.answer_slack_seconds)
    # Once: a second start (learn the schedule, rehearse, start again) is refused and changes nothing.
    assert_error(api.start(session_id, issued["id"]), 409, "liveness.challenge_used")
    assert_error(api.start(session_id, issued["id"], timed=False), 409, "liveness.challenge_used")
    row = _row(issued["id"])
    assert row.started_at is not None and tuple(row.payload["schedule"]) == planned.schedule
    with get_database().session() as session:
        starts = list(session.scalars(select(AuditEntry).where(AuditEntry.action == "challenge.start")))
    assert [(a.detail["challenge_id"], a.detail["timed"]) for a in starts] == [(issued["id"], True)]


def test_digits_start_shows_one_digit_per_prompt(api: Api) -> None:
    planned = support.plan_challenge("digits")
    session_id = _identified(api, "wechat")
    started = api.started_challenge(session_id, seed=planned.seed)
    assert started["digits"] == planned.digits and started["actions"] == []
    assert [(s["at"], s["digit"], s["code"]) for s in started["steps"]] == [
        (at, digit, "challenge.digit") for at, digit in zip(planned.schedule, planned.digits, strict=True)]
    assert all(s["digit"] in s["prompt"]["zh"] and s["digit"] in s["prompt"]["en"] for s in started["steps"])


def test_native_camera_fallback_starts_untimed(api: Api) -> None:
    """No prompts can be shown while the phone's own camera app records: every step at once, no times,
    and the schedule is gone for good (the decision then needs content or a reviewer)."""
    from pensioncert.settings import get_settings

    planned = support.plan_challenge("actions", n_actions=2)
    session_id = _identified(api)
    started = api.started_challenge(session_id, seed=planned.seed, timed=False)
    assert started["timed"] is False
    assert [(s["at"], s["action"]) for s in started["steps"]] == [(None, a) for a in planned.actions]
    rules = get_settings().liveness
    deadline = datetime.fromisoformat(started["answer_deadline"]) - datetime.fromisoformat(started["started_at"])
    assert deadline == timedelta(seconds=rules.untimed_answer_seconds)
    assert _row(started["id"]).payload["schedule"] == []


def test_upload_before_start_is_refused_and_changes_nothing(api: Api) -> None:
    session_id = _identified(api)
    issued = api.challenge(session_id).json()
    jobs = _jobs()
    assert_error(api.upload(session_id, issued["id"], NOT_A_VIDEO), 409, "liveness.challenge_not_started")
    assert _jobs() == jobs and _row(issued["id"]).used_at is None
    assert api.client.get(f"/api/v1/sessions/{session_id}").json()["state"] == "challenged"


@pytest.mark.parametrize("timed", [True, False])
def test_upload_after_the_answer_deadline_is_refused(api: Api, timed: bool) -> None:
    """A recording made elsewhere and uploaded once the schedule is known arrives too late."""
    from pensioncert.settings import get_settings

    session_id = _identified(api)
    started = api.started_challenge(session_id, timed=timed)
    allowed = (datetime.fromisoformat(started["answer_deadline"])
               - datetime.fromisoformat(started["started_at"])).total_seconds()
    _shift_start(started["id"], allowed + 1)
    # Still inside the challenge's own lifetime: only the start-to-answer deadline refuses it.
    assert get_settings().liveness.challenge_ttl_seconds > allowed + 5
    jobs = _jobs()
    assert_error(api.upload(session_id, started["id"], NOT_A_VIDEO), 409, "liveness.challenge_expired")
    assert _jobs() == jobs and _row(started["id"]).used_at is None


def test_upload_just_inside_the_deadline_gets_past_the_challenge_check(api: Api) -> None:
    """The counterpart of the test above: the same upload a little earlier is refused only for its bytes."""
    session_id = _identified(api)
    started = api.started_challenge(session_id)
    allowed = (datetime.fromisoformat(started["answer_deadline"])
               - datetime.fromisoformat(started["started_at"])).total_seconds()
    _shift_start(started["id"], allowed - 10)
    assert_error(api.upload(session_id, started["id"], NOT_A_VIDEO), 422, "media.corrupt")


def test_start_is_refused_for_foreign_unknown_and_expired_challenges(api: Api) -> None:
    from pensioncert.storage.db import get_database

    session_id = _identified(api)
    other = _identified(api, name=support.IN_WINDOW_2)
    foreign = api.challenge(other).json()
    assert_error(api.start(session_id, foreign["id"]), 409, "liveness.challenge_foreign")
    assert_error(api.start(session_id, "no-such-challenge"), 409, "liveness.challenge_foreign")
    assert _row(foreign["id"]).started_at is None
    mine = api.challenge(session_id).json()
    with get_database().session() as session:
        row = session.get(Challenge, mine["id"])
        assert row is not None
        row.expires_at = row.issued_at - timedelta(seconds=1)
    assert_error(api.start(session_id, mine["id"]), 409, "liveness.challenge_expired")
    assert_error(api.client.post(f"/api/v1/sessions/nope/challenges/{mine['id']}/start", json={"timed": True}),
                 404, "flow.session_not_found")


def test_start_body_is_validated(api: Api) -> None:
    session_id = _identified(api)
    issued: dict[str, Any] = api.challenge(session_id).json()
    url = f"/api/v1/sessions/{session_id}/challenges/{issued['id']}/start"
    assert_error(api.client.post(url, json={"timed": "sometimes"}), 422, "api.invalid_request")
    assert _row(issued["id"]).started_at is None
    assert api.client.post(url, json={}).json()["timed"] is True  # timed unless the page says otherwise


def test_no_challenge_starts_while_a_recording_is_being_checked(api: Api) -> None:
    """An older, unused challenge cannot be started (and answered) beside a running verification."""
    from pensioncert.storage.db import get_database

    session_id = _identified(api)
    older = api.challenge(session_id).json()
    current = api.challenge(session_id).json()
    with get_database().session() as session:
        session.add(VerificationJob(id="running-job", session_id=session_id, challenge_id=current["id"],
                                    state="running", created_at=datetime.now().astimezone()))
    assert_error(api.start(session_id, older["id"]), 409, "flow.verification_running")
    assert _row(older["id"]).started_at is None


def test_abandoned_starts_use_up_the_session_and_day_caps(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """Challenge shopping: starting challenge after challenge to find one an old recording fits.

    Each start reveals content and schedule, so each start is an attempt whether or not an
    answer follows; issuing alone reveals nothing and costs nothing.
    """
    from pensioncert.settings import get_settings

    monkeypatch.setenv("PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_SESSION", "2")
    monkeypatch.setenv("PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_RETIREE_PER_DAY", "3")
    get_settings.cache_clear()
    first = _identified(api, name=support.IN_WINDOW_2)
    for _ in range(3):  # issued, never started: free
        api.challenge(first).json()
    api.started_challenge(first)
    api.started_challenge(first)  # two starts, nothing uploaded
    assert_error(api.challenge(first), 429, "flow.retry_cap_session")
    second = _identified(api, name=support.IN_WINDOW_2)  # a new session: the day's count carries over
    api.started_challenge(second)
    assert_error(api.challenge(second), 429, "flow.retry_cap_day")
    assert _jobs() == 0


def test_a_start_whose_check_failed_on_our_side_is_not_counted(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.settings import get_settings
    from pensioncert.storage.db import get_database

    monkeypatch.setenv("PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_SESSION", "1")
    get_settings.cache_clear()
    session_id = _identified(api, name=support.IN_WINDOW_2)
    started = api.started_challenge(session_id)
    with get_database().session() as session:
        session.add(VerificationJob(id="errored-job", session_id=session_id, challenge_id=started["id"],
                                    state="decided", result="error", created_at=datetime.now().astimezone()))
    assert api.challenge(session_id).status_code == 201
    with get_database().session() as session:
        session.get(VerificationJob, "errored-job").result = "failed"  # type: ignore[union-attr]
    assert_error(api.challenge(session_id), 429, "flow.retry_cap_session")


def test_thirty_days_of_tries_then_offline_channels_only(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bound on a patient replayer: tries of any 30 days, over sessions and days."""
    from pensioncert.settings import get_settings
    from pensioncert.storage.db import get_database

    monkeypatch.setenv("PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_SESSION", "2")
    monkeypatch.setenv("PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_RETIREE_PER_DAY", "2")
    monkeypatch.setenv("PENSIONCERT_LIVENESS__MAX_ATTEMPTS_PER_RETIREE_PER_30_DAYS", "3")
    get_settings.cache_clear()
    earlier = _identified(api, name=support.IN_WINDOW_2)
    starts = [api.started_challenge(earlier)["id"] for _ in range(2)]
    for days_ago, challenge_id in zip((29, 3), starts, strict=True):  # two tries on earlier days
        _shift_start(challenge_id, days_ago * 86400)
    today = _identified(api, name=support.IN_WINDOW_2)
    api.started_challenge(today)  # the third in 30 days, the first today
    refused = assert_error(api.challenge(today), 429, "flow.retry_cap_month")
    assert "上门" in str(refused)
    with get_database().session() as session:  # a month later the oldest try no longer counts
        row = session.get(Challenge, starts[0])
        assert row is not None and row.started_at is not None
        row.started_at = row.started_at - timedelta(days=2)
    assert api.challenge(today).status_code == 201
