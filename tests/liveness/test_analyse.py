"""End-to-end liveness on rendered clips: the genuine pass, each attack fails for its own reason."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from pensioncert.liveness import DigitHearing, analyse_recording, parse_challenge
from pensioncert.media.decode import MediaError
from pensioncert.messages import catalogue
from tests.liveness.conftest import as_media


@pytest.fixture(scope="module")
def reference() -> Any:
    from pensioncert import biometrics
    from pensioncert.synth import load_photo

    return biometrics.face_embedding(load_photo("grace_hopper"))


def test_genuine_digits_upload_passes_with_reference(digits_suite: dict[str, Any], reference: Any) -> None:
    clip = digits_suite["genuine"]
    verdict = analyse_recording(clip.paths["webm"], parse_challenge("digits:3709"), reference)
    assert verdict.passed, verdict.reasons
    assert verdict.checks["challenge"]["heard"] and verdict.checks["challenge"]["matching"] >= 3
    assert verdict.best_frame is not None and verdict.best_frame.shape == (480, 640, 3)
    assert verdict.face_match is not None and verdict.face_match.same_person
    assert verdict.as_dict()["passed"] is True


def test_genuine_clip_against_other_digits_fails(digits_suite: dict[str, Any]) -> None:
    verdict = analyse_recording(as_media(digits_suite["genuine"]), parse_challenge("digits:8142"), None,
                                face_engine=False, require_identity=False)
    assert not verdict.passed
    assert verdict.reasons == ["liveness.digits_not_heard"]


@pytest.mark.parametrize(("attack", "reason"), [("still_photo", "liveness.no_voice"),
                                                 ("looping", "liveness.looping_video"),
                                                 ("frozen", "liveness.frozen_video")])
def test_attacks_fail_for_their_reason(digits_suite: dict[str, Any], attack: str, reason: str) -> None:
    verdict = analyse_recording(as_media(digits_suite[attack]), parse_challenge("digits:3709"), None,
                                face_engine=False, require_identity=False)
    assert not verdict.passed
    assert reason in verdict.reasons
    assert set(verdict.reasons) <= set(catalogue())


def test_dubbed_still_photo_fails_on_the_lips(digits_suite: dict[str, Any]) -> None:
    still, genuine = as_media(digits_suite["still_photo"]), as_media(digits_suite["genuine"])
    dubbed = type(still)(**{**still.__dict__, "audio": genuine.audio})
    verdict = analyse_recording(dubbed, parse_challenge("digits:3709"), None, face_engine=False, require_identity=False)
    assert "liveness.lips_not_moving" in verdict.reasons


@pytest.mark.parametrize("broken", ["truncated", "corrupt"])
def test_broken_uploads_raise_their_code(digits_suite: dict[str, Any], broken: str) -> None:
    with pytest.raises(MediaError) as caught:
        analyse_recording(digits_suite[broken], parse_challenge("digits:3709"), None)
    assert caught.value.code == f"media.{broken}"


class _Deaf:
    """A plugged-in recognizer (the Protocol an agency implements for Mandarin)."""

    language = "zh"

    def __init__(self, heard: str) -> None:
        self.heard = heard
        self.calls = 0

    def recognise(self, audio: np.ndarray, sample_rate: int) -> DigitHearing:
        self.calls += 1
        return DigitHearing(self.heard)


def test_plugged_recognizer_decides_for_its_language(digits_suite: dict[str, Any]) -> None:
    media = as_media(digits_suite["genuine"])
    challenge = parse_challenge("digits:3709", language="zh", allow_untimed=True)
    wrong = _Deaf("1111")
    verdict = analyse_recording(media, challenge, None, recognizers={"zh": wrong}, face_engine=False,
                                require_identity=False)
    assert wrong.calls == 1 and "liveness.digits_not_heard" in verdict.reasons
    right = _Deaf("3709")
    assert analyse_recording(media, challenge, None, recognizers={"zh": right}, face_engine=False,
                             require_identity=False).passed


@pytest.mark.parametrize(
    ("challenge", "reason"),
    [("actions:turn_left,blink,open_mouth", None),
     ("actions:turn_left,open_mouth", None),
     ("actions:open_mouth,turn_left", "liveness.actions_wrong_order"),
     ("actions:turn_left,nod", "liveness.action_not_seen"),
     ("actions:turn_right,blink", "liveness.action_not_seen")],
)
def test_actions_in_order_with_slow_timing(actions_clip: Any, challenge: str, reason: str | None) -> None:
    verdict = analyse_recording(actions_clip.paths["mp4"], parse_challenge(challenge, allow_untimed=True), None,
                                face_engine=False, require_identity=False)
    if reason is None:
        assert verdict.passed, verdict.reasons
        peaks = [m["peak_s"] for m in verdict.checks["challenge"]["matched"]]
        assert peaks == sorted(peaks)
    else:
        assert not verdict.passed and reason in verdict.reasons
