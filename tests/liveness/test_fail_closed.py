"""Fail closed: every path that used to skip a check is now a failure with its own code (issue #12.1)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from pensioncert.liveness import analyse_recording, parse_challenge
from pensioncert.liveness.analyse import REQUIRED_CHECKS, CheckStatus, FaceEngineUnavailable
from pensioncert.media.decode import DecodedMedia
from pensioncert.messages import catalogue
from tests.liveness.conftest import as_media


def _status(verdict: Any) -> dict[str, str]:
    return {r.name: r.status.value for r in verdict.results}


def _frames(media: DecodedMedia, keep: np.ndarray, times: np.ndarray | None = None) -> DecodedMedia:
    return replace(media, frames=media.frames[keep], times=media.times[keep] if times is None else times)


@pytest.fixture(scope="module")
def other_person(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two frames (0.13 s) of someone who is not the reference, and the reference photo (issue #12.1)."""
    from pensioncert.media.encode import encode_video
    from pensioncert.synth import load_photo, render_subject

    out = tmp_path_factory.mktemp("two-frames")
    clip = render_subject("astronaut", script="turn_right@0.0-0.13", seed=9, duration=0.13)
    assert len(clip.frames) == 2
    video = encode_video(out / "two.webm", clip.frames, clip.fps, clip.audio, clip.sample_rate, "webm")
    reference = out / "other.jpg"
    Image.fromarray(load_photo("grace_hopper")).save(reference, quality=92)
    return video, reference


def test_two_frames_of_anyone_fail_through_the_cli(other_person: tuple[Path, Path]) -> None:
    from pensioncert.cli.main import app

    video, reference = other_person
    result = CliRunner().invoke(app, ["liveness", "check", "--video", str(video), "--challenge",
                                      "actions:turn_right@1,blink@3", "--reference", str(reference), "--json"])
    assert result.exit_code == 1, result.output
    verdict = json.loads(result.stdout.strip().splitlines()[-1])
    assert verdict["passed"] is False
    assert verdict["reasons"] == ["liveness.too_short"]
    assert {c["status"] for c in verdict["checks"].values()} == {"fail", "not_run"}


def test_two_frames_stretched_over_seconds_fail(digits_suite: dict[str, Any]) -> None:
    media = as_media(digits_suite["genuine"])
    two = _frames(media, np.array([10, 40]), times=np.array([0.0, 2.9]))
    verdict = analyse_recording(two, parse_challenge("digits:3709"), None, face_engine=False, require_identity=False)
    assert not verdict.passed and verdict.reasons == ["liveness.too_few_frames"]
    assert _status(verdict) == {"duration": "fail", "face": "not_run", "challenge": "not_run",
                                "passive": "not_run", "identity": "not_run"}


def test_a_few_face_frames_do_not_run_the_challenge(digits_suite: dict[str, Any]) -> None:
    """Used to: the challenge and identity ran only with >= 3 face frames, else nothing was added."""
    media = as_media(digits_suite["genuine"])
    frames = media.frames.copy()
    frames[8:] = frames[8:].mean(axis=(1, 2), keepdims=True).astype(np.uint8)  # the face leaves after 8 frames
    verdict = analyse_recording(replace(media, frames=frames), parse_challenge("digits:3709"), None)
    status = _status(verdict)
    assert status["face"] == "fail" and status["challenge"] == "not_run" and status["identity"] == "not_run"
    assert status["passive"] == "not_run"
    assert not verdict.passed and "liveness.too_few_face_frames" in verdict.reasons


def test_without_the_face_engine_identity_is_not_run_and_nothing_passes(digits_suite: dict[str, Any]) -> None:
    media = as_media(digits_suite["genuine"])
    challenge = parse_challenge("digits:3709")
    verdict = analyse_recording(media, challenge, None, face_engine=False)
    assert _status(verdict) == {name: "pass" for name in REQUIRED_CHECKS} | {"identity": "not_run"}
    assert not verdict.passed and verdict.reasons == ["liveness.identity_not_checked"]
    liveness_only = analyse_recording(media, challenge, None, face_engine=False, require_identity=False)
    assert liveness_only.passed and liveness_only.required == tuple(c for c in REQUIRED_CHECKS if c != "identity")


def test_an_unavailable_face_engine_is_an_error(digits_suite: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from pensioncert.biometrics import engines

    def broken() -> None:
        raise RuntimeError("dlib_face_recognition_resnet_model_v1.dat: no such file")

    monkeypatch.setattr(engines, "face_encoder", broken)
    with pytest.raises(FaceEngineUnavailable):
        analyse_recording(as_media(digits_suite["genuine"]), parse_challenge("digits:3709"), np.zeros(128))


def test_untimed_mandarin_digits_without_a_recognizer_fail(digits_suite: dict[str, Any]) -> None:
    """Used to: four syllables in any language passed an untimed Mandarin challenge."""
    challenge = parse_challenge("digits:3709", language="zh", allow_untimed=True)
    verdict = analyse_recording(as_media(digits_suite["genuine"]), challenge, None, recognizers={},
                                face_engine=False, require_identity=False)
    assert not verdict.passed and verdict.reasons == ["liveness.digits_not_heard"]


def test_every_reason_and_user_reason_has_a_message() -> None:
    from pensioncert.liveness.analyse import USER_CODES

    messages = catalogue()
    codes = {"liveness.too_short", "liveness.too_few_frames", "liveness.too_few_face_frames",
             "liveness.identity_not_checked", "liveness.face_engine_unavailable", *USER_CODES, *USER_CODES.values()}
    assert codes <= set(messages)
    # the user is not told which identity check caught the recording
    assert messages["liveness.identity_changed"] == messages["liveness.not_reference_person"]


def test_a_verdict_passes_only_with_every_required_check_passed(digits_suite: dict[str, Any]) -> None:
    verdict = analyse_recording(as_media(digits_suite["genuine"]), parse_challenge("digits:3709"), None,
                                face_engine=False, require_identity=False)
    assert verdict.passed
    assert all(r.status is CheckStatus.PASS and not r.reasons for r in verdict.results if r.name in verdict.required)
    wrong = analyse_recording(as_media(digits_suite["genuine"]), parse_challenge("digits:8142"), None,
                              face_engine=False, require_identity=False)
    assert not wrong.passed and _status(wrong)["challenge"] == "fail"
