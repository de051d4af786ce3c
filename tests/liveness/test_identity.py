"""Identity on the whole recording (issue #12.3): random frames across it, and one continuous face track."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from pensioncert.liveness import analyse_recording, parse_challenge
from pensioncert.liveness.analyse import sample_frames
from pensioncert.liveness.continuity import continuity
from pensioncert.liveness.landmarks import track_faces
from pensioncert.liveness.passive import thumbnails
from pensioncert.settings import get_settings
from pensioncert.synth.attacks import cut_splice, predictable_match_frames, splice
from tests.liveness.conftest import as_media


@pytest.fixture(scope="module")
def reference() -> Any:
    from pensioncert import biometrics
    from pensioncert.synth import load_photo

    return biometrics.face_embedding(load_photo("grace_hopper"))


def test_samples_cover_every_second_and_are_not_predictable() -> None:
    cfg = get_settings().liveness
    times = np.arange(135) / 15.0  # 9 s
    present = np.ones(135, bool)
    present[30:45] = False  # 2.0-2.93 s: the third of nine stretches has no face
    stretch = (times[-1] - times[0]) / 9
    draws = [sample_frames(times, present, cfg, random.Random(seed)) for seed in range(5)]
    for chosen in draws:
        assert len(chosen) == 9 - 1  # one per second; the stretch without a face gives none
        assert all(present[i] for i in chosen)
        assert [int(times[i] // stretch) for i in chosen] == [0, 1, 3, 4, 5, 6, 7, 8]
    assert len({tuple(c) for c in draws}) == 5
    short = sample_frames(times[:45], np.ones(45, bool), cfg, random.Random(0))  # 3 s: still at least 6
    assert len(short) == cfg.identity_min_samples
    # a head turned away in some frames: those are not drawn, unless the whole stretch is turned
    turned = np.zeros(135)
    turned[15:45] = 2.0  # 1.0-3.0 s mid-turn
    turned[20] = 0.8  # the least turned frame of 1-2 s
    for seed in range(5):
        chosen = sample_frames(times, np.ones(135, bool), cfg, random.Random(seed), turned=turned)
        assert all(turned[i] <= cfg.identity_max_turn or i == 20 or i >= 30 for i in chosen)
        assert 20 in chosen


def test_genuine_recording_is_one_continuous_track(digits_suite: dict[str, Any]) -> None:
    clip = digits_suite["genuine"]
    track = track_faces(clip.frames, np.arange(len(clip.frames)) / clip.fps)
    cfg = get_settings().liveness
    result = continuity(track, thumbnails(clip.frames), max_shape_jump=cfg.max_shape_jump,
                        max_diff_spike=cfg.max_diff_spike)
    assert result.breaks == [] and result.diff_spike < cfg.max_diff_spike


def test_a_splice_breaks_the_track_even_where_the_samples_miss_it(digits_suite: dict[str, Any],
                                                                  attacker_digits: Any) -> None:
    genuine = digits_suite["genuine"]
    spliced = cut_splice(genuine, attacker_digits, genuine.duration / 2)
    track = track_faces(spliced.frames, np.arange(len(spliced.frames)) / spliced.fps)
    cfg = get_settings().liveness
    result = continuity(track, thumbnails(spliced.frames), max_shape_jump=cfg.max_shape_jump,
                        max_diff_spike=cfg.max_diff_spike)
    cut = int(round(genuine.duration / 2 * genuine.fps))
    assert result.breaks == [cut]


@pytest.mark.parametrize("attack", ["cut", "predictable_frames"])
def test_splices_fail_as_identity_changed(digits_suite: dict[str, Any], attacker_digits: Any, reference: Any,
                                         attack: str) -> None:
    genuine = digits_suite["genuine"]
    n = len(genuine.frames)
    clip = (cut_splice(genuine, attacker_digits, genuine.duration / 2) if attack == "cut"
            else splice(genuine, attacker_digits, predictable_match_frames(n)))
    verdict = analyse_recording(as_media(clip), parse_challenge("digits:3709"), reference)
    assert not verdict.passed and "liveness.identity_changed" in verdict.reasons
    assert verdict.user_reasons == ["liveness.identity_not_confirmed"]


def test_another_person_is_not_the_reference(attacker_digits: Any, reference: Any) -> None:
    verdict = analyse_recording(as_media(attacker_digits), parse_challenge("digits:3709"), reference)
    assert not verdict.passed and verdict.reasons == ["liveness.not_reference_person"]
    assert verdict.user_reasons == ["liveness.identity_not_confirmed"]
    identity = verdict.checks["identity"]
    assert len(identity["sampled"]) >= 6 and all(d > 0.5 for d in identity["distances"])


def test_without_a_reference_the_cli_path_cannot_pass(digits_suite: dict[str, Any]) -> None:
    media = as_media(digits_suite["genuine"])
    consistent = analyse_recording(media, parse_challenge("digits:3709"), None)
    assert consistent.passed and consistent.checks["identity"]["reference"] is False
    cli = analyse_recording(media, parse_challenge("digits:3709"), None, require_reference=True)
    assert not cli.passed and cli.reasons == ["liveness.identity_not_checked"]
