"""Timed digits (issue #12.2): each digit voiced, lips open, in its window after it was shown."""

from __future__ import annotations

from typing import Any

import numpy as np

from pensioncert.liveness import analyse_recording, parse_challenge
from pensioncert.liveness.speech import voice_segments
from tests.liveness.conftest import TIMED_DIGITS_ZH, as_media


def _verdict(clip: Any, spec: str, language: str = "zh") -> Any:
    return analyse_recording(as_media(clip), parse_challenge(spec, language=language), None, recognizers={},
                             face_engine=False, require_identity=False)


def test_voice_segments_find_each_digit_onset(timed_digits_zh: dict[str, Any]) -> None:
    clip = timed_digits_zh["timed"]
    segments = voice_segments(clip.audio, clip.sample_rate)
    said = [d.onset for d in clip.truth.digit_times]
    assert len(segments) == 4
    assert np.allclose([a for a, _ in segments], said, atol=0.12)


def test_mandarin_reader_following_the_prompts_passes(timed_digits_zh: dict[str, Any]) -> None:
    verdict = _verdict(timed_digits_zh["timed"], TIMED_DIGITS_ZH)
    assert verdict.passed, verdict.reasons
    challenge = verdict.checks["challenge"]
    assert challenge["timed"] is True and challenge["recognizer"] is None
    assert all(1.2 <= x <= 2.0 for x in challenge["latencies_s"])


def test_the_same_reading_does_not_answer_another_schedule(timed_digits_zh: dict[str, Any]) -> None:
    clip = timed_digits_zh["timed"]
    later = _verdict(clip, "digits:1079@3.2,4.1,5.6,6.4")  # every prompt 2 s later: voiced before shown
    assert not later.passed and later.reasons == ["liveness.digits_not_in_time"]
    earlier = _verdict(clip, "digits:1079@0.0,0.9,2.4,3.2")  # 1.2 s earlier: answers 2.7-2.9 s late
    assert not earlier.passed and earlier.reasons == ["liveness.digits_not_in_time"]
    respaced = _verdict(clip, "digits:1079@1.2,2.8,3.6,4.4")  # one gap different
    assert not respaced.passed and respaced.reasons == ["liveness.digits_not_in_time"]


def test_right_digits_read_at_their_own_pace_fail(timed_digits_zh: dict[str, Any]) -> None:
    verdict = _verdict(timed_digits_zh["paced"], TIMED_DIGITS_ZH)
    assert not verdict.passed and "liveness.digits_not_in_time" in verdict.reasons


def test_a_timed_english_challenge_is_not_answered_in_mandarin(timed_digits_zh: dict[str, Any]) -> None:
    verdict = analyse_recording(as_media(timed_digits_zh["timed"]), parse_challenge(TIMED_DIGITS_ZH), None,
                                face_engine=False, require_identity=False)
    assert not verdict.passed and "liveness.digits_not_heard" in verdict.reasons


def test_a_voice_without_moving_lips_fails(timed_digits_zh: dict[str, Any]) -> None:
    timed = as_media(timed_digits_zh["timed"])
    still = type(timed)(**{**timed.__dict__, "frames": np.repeat(timed.frames[:1], len(timed.frames), axis=0)})
    verdict = analyse_recording(still, parse_challenge(TIMED_DIGITS_ZH, language="zh"), None, recognizers={},
                                face_engine=False, require_identity=False)
    assert not verdict.passed and "liveness.lips_not_moving" in verdict.reasons
