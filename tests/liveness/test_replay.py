"""The replay check (liveness.replay): an earlier recording of the same retiree, played again, fails.

Pure parts on constructed traces (the alignment search must find a shifted, trimmed or
re-timed copy and must not find an independent motion); the check itself on a rendered clip
analysed as the job analyses it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from pensioncert.liveness import analyse_recording, parse_challenge
from pensioncert.liveness.replay import (
    CHANNELS,
    MotionTrace,
    _at_speed,
    _lagged_correlations,
    compare,
    speed_grid,
)
from pensioncert.settings import get_settings
from tests.liveness.conftest import TIMED_ACTIONS, as_media

SEARCH = {"window": 9, "min_overlap_seconds": 3.0, "min_overlap_fraction": 0.6,
          "speeds": speed_grid(0.67, 1.5, 1.03)}


def _motion(seed: int, seconds: float = 9.0) -> np.ndarray:
    """Seven smooth random-walk signals with frame jitter: a head that moves like nobody else's."""
    rng = np.random.default_rng(seed)
    n = int(seconds * 15)
    steps = np.apply_along_axis(lambda x: np.convolve(x, np.ones(5) / 5, mode="same"), 0,
                                rng.normal(size=(n, len(CHANNELS))))
    return np.cumsum(steps, axis=0) * 0.05 + rng.normal(size=(n, len(CHANNELS))) * 0.005


def test_the_lagged_correlation_is_the_plain_pearson_mean_at_every_shift() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 7)), rng.normal(size=(30, 7))
    a[3, 2] = b[5, 1] = np.nan
    sims, _ = _lagged_correlations(a, b, 10)
    for lag in (-15, -3, 0, 4, 20):
        per_channel = []
        for c in range(7):
            pairs = np.array([(a[i, c], b[i - lag, c]) for i in range(len(a))
                              if 0 <= i - lag < len(b) and np.isfinite(a[i, c]) and np.isfinite(b[i - lag, c])])
            per_channel.append(np.corrcoef(pairs[:, 0], pairs[:, 1])[0, 1])
        assert sims[lag + len(b) - 1] == pytest.approx(np.mean(per_channel))


@pytest.mark.parametrize("copy", ["same", "trimmed_and_noisy", "sped_up_1.2", "slowed_0.8"])
def test_a_copy_of_an_earlier_motion_is_found(copy: str) -> None:
    old = _motion(1)
    new = {"same": old,
           "trimmed_and_noisy": old[7:] * 1.1 + 0.3 + np.random.default_rng(2).normal(size=old[7:].shape) * 0.004,
           "sped_up_1.2": _at_speed(old, 1.2),
           "slowed_0.8": _at_speed(old, 0.8)}[copy]
    match = compare(MotionTrace(new.astype(np.float32)), MotionTrace(old.astype(np.float32)), **SEARCH)
    assert match.similarity > 0.85, match


def test_an_independent_motion_is_not_a_copy() -> None:
    match = compare(MotionTrace(_motion(3).astype(np.float32)), MotionTrace(_motion(4).astype(np.float32)), **SEARCH)
    assert match.similarity < get_settings().liveness.replay_max_similarity, match


def test_a_short_overlap_does_not_count() -> None:
    """Three seconds of last year's motion inside a new nine-second recording: under the overlap share."""
    old, new = _motion(5), _motion(6)
    new[60:105] = old[:45]
    match = compare(MotionTrace(new.astype(np.float32)), MotionTrace(old.astype(np.float32)), **SEARCH)
    assert match.similarity < get_settings().liveness.replay_max_similarity, match


def test_traces_round_trip_and_garbage_is_refused() -> None:
    trace = MotionTrace(_motion(7).astype(np.float32))
    assert np.array_equal(MotionTrace.from_bytes(trace.to_bytes()).values, trace.values)
    with pytest.raises(ValueError):
        MotionTrace.from_bytes(MotionTrace(np.zeros((5, 3), np.float32)).to_bytes())


def test_the_speed_grid_holds_the_unaltered_speed() -> None:
    grid = speed_grid(0.67, 1.5, 1.03)
    assert 1.0 in grid and min(grid) >= 0.67 and max(grid) <= 1.5
    with pytest.raises(ValueError):
        speed_grid(1.1, 1.5, 1.03)


def _verdict(clip: Any, earlier: list[MotionTrace] | None) -> Any:
    return analyse_recording(as_media(clip), parse_challenge(TIMED_ACTIONS), None, face_engine=False,
                             require_identity=False, earlier=earlier)


def test_the_same_recording_played_again_fails_and_a_first_one_passes(timed_actions_clip: Any) -> None:
    first = _verdict(timed_actions_clip, [])
    assert first.passed, first.reasons
    assert "replay" in first.required and first.checks["replay"]["status"] == "pass"
    assert first.trace is not None and first.trace.seconds > 5
    # Played again, trimmed by 0.3 s at the start (the frames' own motion, not the file, is compared).
    cut = int(0.3 * timed_actions_clip.fps)
    trimmed = replace(timed_actions_clip, frames=timed_actions_clip.frames[cut:], audio=None)
    again = analyse_recording(as_media(trimmed), parse_challenge(TIMED_ACTIONS.replace("@1.2", "@0.9")
                                                                 .replace("@3.2", "@2.9").replace("@5.4", "@5.1")),
                              None, face_engine=False, require_identity=False, earlier=[first.trace])
    assert not again.passed
    assert again.reasons == ["liveness.replayed_recording"], again.reasons
    assert again.checks["replay"]["similarity"] >= get_settings().liveness.replay_max_similarity
    assert again.user_reasons == ["liveness.identity_not_confirmed"]


def test_without_history_the_replay_check_is_not_required(timed_actions_clip: Any) -> None:
    verdict = _verdict(timed_actions_clip, None)
    assert verdict.passed and "replay" not in verdict.required and verdict.trace is not None


def test_a_recording_too_short_to_analyse_leaves_the_replay_check_not_run(timed_actions_clip: Any) -> None:
    short = replace(timed_actions_clip, frames=timed_actions_clip.frames[:10], audio=None)
    verdict = _verdict(short, [])
    assert not verdict.passed and verdict.checks["replay"]["status"] == "not_run"
    assert verdict.trace is None
