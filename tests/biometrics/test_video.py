"""The multi-frame decision on short clips built from real portraits."""

from __future__ import annotations

import numpy as np
import pytest

from pensioncert import biometrics
from pensioncert.biometrics import RGBImage
from pensioncert.biometrics.bench import synthetic_capture


@pytest.fixture(scope="module")
def hopper_clip(hopper: RGBImage) -> list[RGBImage]:
    return synthetic_capture(1.5, hopper)


@pytest.fixture(scope="module")
def astronaut_clip(astronaut: RGBImage) -> list[RGBImage]:
    return synthetic_capture(1.5, astronaut)


def test_the_retiree_on_camera_is_accepted(hopper: RGBImage, hopper_clip: list[RGBImage]) -> None:
    decision = biometrics.decide_video(biometrics.face_embedding(hopper), hopper_clip)
    assert decision.same_person and decision.identity_consistent, decision.reasons
    assert decision.distance <= decision.threshold
    assert decision.best_frame_index in decision.embedded_frames
    assert len(decision.embedded_frames) >= 2  # several moments of the clip, not one lucky frame
    assert decision.frames_analysed <= decision.frames_total == len(hopper_clip)


def test_someone_else_is_rejected(astronaut: RGBImage, hopper_clip: list[RGBImage]) -> None:
    decision = biometrics.decide_video(biometrics.face_embedding(astronaut), hopper_clip)
    assert not decision.same_person
    assert decision.identity_consistent  # one person throughout, just not the reference
    assert "face.not_same_person" in decision.reasons


def test_swapping_people_mid_video_is_caught(
    hopper: RGBImage, hopper_clip: list[RGBImage], astronaut_clip: list[RGBImage]
) -> None:
    half = len(hopper_clip) // 2
    swapped = hopper_clip[:half] + astronaut_clip[half:]
    decision = biometrics.decide_video(biometrics.face_embedding(hopper), swapped)
    assert not decision.identity_consistent and not decision.same_person
    assert "face.identity_changed" in decision.reasons


def test_a_dark_video_asks_for_light(hopper: RGBImage, hopper_clip: list[RGBImage]) -> None:
    dark = [(frame.astype(np.float32) * 0.25).astype(np.uint8) for frame in hopper_clip]
    decision = biometrics.decide_video(biometrics.face_embedding(hopper), dark)
    assert not decision.same_person
    assert decision.reasons[0] == "face.too_dark"
    assert "face.too_few_usable_frames" in decision.reasons
    assert decision.embedded_frames == []


def test_long_videos_analyse_a_bounded_number_of_frames(hopper: RGBImage, hopper_clip: list[RGBImage]) -> None:
    from pensioncert.settings import get_settings

    limit = get_settings().face.video_max_analysed_frames
    long_clip = hopper_clip * 3
    decision = biometrics.decide_video(biometrics.face_embedding(hopper), long_clip)
    assert decision.frames_analysed <= limit < len(long_clip)
    assert decision.same_person
