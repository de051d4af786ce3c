"""Timed actions (issue #12.2): each action begins in its response window; nothing unrequested is done."""

from __future__ import annotations

from typing import Any

import pytest

from pensioncert.liveness import analyse_recording, parse_challenge
from tests.liveness.conftest import TIMED_ACTIONS, as_media


def _verdict(clip: Any, spec: str, **kwargs: Any) -> Any:
    return analyse_recording(as_media(clip), parse_challenge(spec, **kwargs), None, face_engine=False,
                             require_identity=False)


def test_slow_subject_with_natural_blinks_passes_its_schedule(timed_actions_clip: Any) -> None:
    blinks = [e for e in timed_actions_clip.truth.events if e.action == "blink"]
    assert len(blinks) >= 3  # blinking naturally though blink was not requested
    verdict = _verdict(timed_actions_clip, TIMED_ACTIONS)
    assert verdict.passed, verdict.reasons
    challenge = verdict.checks["challenge"]
    assert challenge["timed"] is True and verdict.timed is True
    assert all(1.2 <= lat <= 2.6 for lat in challenge["latencies_s"])


def test_the_same_recording_does_not_answer_another_schedule(timed_actions_clip: Any) -> None:
    late = _verdict(timed_actions_clip, "actions:turn_left@3.9,nod@5.9,open_mouth@8.1")
    assert not late.passed and "liveness.action_not_in_time" in late.reasons
    early = _verdict(timed_actions_clip, "actions:turn_left@0.1,nod@1.5,open_mouth@3.0")
    assert not early.passed and "liveness.action_not_in_time" in early.reasons


def test_an_action_not_prompted_fails(timed_actions_clip: Any) -> None:
    verdict = _verdict(timed_actions_clip, "actions:turn_left@1.2,nod@3.2")
    assert not verdict.passed and verdict.reasons == ["liveness.unrequested_action"]
    assert [e["action"] for e in verdict.checks["challenge"]["unrequested"]] == ["open_mouth"]


def test_a_requested_blink_counts_only_inside_its_window(timed_blink_clip: Any) -> None:
    assert _verdict(timed_blink_clip, "actions:blink@1.3,turn_right@3.1").passed
    late = _verdict(timed_blink_clip, "actions:blink@2.2,turn_right@3.1")  # the blink came 0.5 s before this prompt
    assert not late.passed and late.reasons == ["liveness.action_not_in_time"]
    missing = _verdict(timed_blink_clip, "actions:blink@1.3,nod@3.1")
    assert not missing.passed and "liveness.action_not_seen" in missing.reasons


def test_untimed_fallback_keeps_the_order_check_and_says_untimed(timed_actions_clip: Any) -> None:
    verdict = _verdict(timed_actions_clip, "actions:turn_left,nod,open_mouth", allow_untimed=True)
    assert verdict.passed and verdict.timed is False and verdict.checks["challenge"]["timed"] is False
    assert verdict.as_dict()["challenge"] == {"timed": False}


@pytest.mark.parametrize("spec", ["actions:nod@1.2,turn_left@3.2,open_mouth@5.4",
                                  "actions:turn_right@1.2,nod@3.2,open_mouth@5.4"])
def test_wrong_or_other_actions_fail(timed_actions_clip: Any, spec: str) -> None:
    verdict = _verdict(timed_actions_clip, spec)
    assert not verdict.passed
    assert set(verdict.reasons) & {"liveness.action_not_in_time", "liveness.action_not_seen"}


def test_a_turn_during_a_requested_blink_is_an_action_of_its_own() -> None:
    """Only signals the answered movement itself moves are forgiven during it (actions.CROSSTALK)."""
    from pensioncert.synth import render_subject

    spec = "actions:blink@0.8,nod@3.6"
    plain = render_subject("astronaut", script="blink@1.4-1.8,nod@4.2-5.3", seed=5, duration=6.6)
    assert _verdict(plain, spec).passed, _verdict(plain, spec).reasons
    turning = render_subject("astronaut", script="blink@1.4-1.8,turn_left@1.2-2.3,nod@4.2-5.3", seed=5,
                             duration=6.6)
    verdict = _verdict(turning, spec)
    assert not verdict.passed and verdict.reasons == ["liveness.unrequested_action"]
    assert [e["action"] for e in verdict.checks["challenge"]["unrequested"]] == ["turn_left"]
