"""Pure parts of the liveness checks on constructed inputs: no rendering, milliseconds each."""

from __future__ import annotations

import numpy as np
import pytest

from pensioncert.liveness.actions import detect_actions
from pensioncert.liveness.landmarks import RIGID, FaceTrack, Signals
from pensioncert.liveness.passive import frame_stats, longest_frozen_run, planarity, thumbnails
from pensioncert.settings import LivenessSettings

CFG = LivenessSettings()
FPS = 15.0


def _signals(n: int, **bumps: list[tuple[float, float, float]]) -> Signals:
    """Resting signals with (start_s, end_s, amount) excursions added per channel, plus jitter."""
    rng = np.random.default_rng(0)
    t = np.arange(n) / FPS
    base = {"ear": 0.25, "mouth": 0.05, "yaw": 0.0, "pitch": 0.37}
    chans = {k: v + rng.normal(0, 0.004, n) for k, v in base.items()}
    for name, spans in bumps.items():
        for a, b, amount in spans:
            chans[name][(t >= a) & (t <= b)] += amount
    return Signals(ear=chans["ear"], mouth=chans["mouth"], yaw=chans["yaw"], pitch=chans["pitch"],
                   iod=np.full(n, 60.0), centre=np.tile([320.0, 240.0], (n, 1)))


def test_actions_found_in_order_and_order_enforced() -> None:
    sig = _signals(90, yaw=[(1.0, 2.0, 0.35)], ear=[(3.0, 3.3, -0.15)], pitch=[(4.2, 5.0, 0.12)])
    t = np.arange(90) / FPS
    assert detect_actions(sig, t, ("turn_left", "blink", "nod"), CFG).passed
    wrong = detect_actions(sig, t, ("nod", "turn_left"), CFG)
    assert not wrong.passed and wrong.reason == "liveness.actions_wrong_order"
    missing = detect_actions(sig, t, ("turn_right", "blink"), CFG)
    assert not missing.passed and missing.reason == "liveness.action_not_seen"


def test_small_movements_are_not_actions() -> None:
    """Half-threshold excursions (a photo tilted by hand, landmark jitter) do not count."""
    sig = _signals(60, yaw=[(1.0, 2.0, 0.5 * CFG.turn_yaw_delta)], mouth=[(2.0, 3.0, 0.5 * CFG.mouth_open_delta)])
    t = np.arange(60) / FPS
    assert not detect_actions(sig, t, ("turn_left",), CFG).passed
    assert not detect_actions(sig, t, ("open_mouth",), CFG).passed


def _project(points3d: np.ndarray, yaw_deg: float) -> np.ndarray:
    a = np.radians(yaw_deg)
    rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
    p = points3d @ rot.T
    z = 250.0 + p[:, 2]  # a phone at arm's length: the face spans a third of the distance
    return np.column_stack([320 + 250 * p[:, 0] / z, 240 + 250 * p[:, 1] / z])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_planarity_tells_a_turning_head_from_a_tilted_print(seed: int) -> None:
    rng = np.random.default_rng(seed)
    pts = rng.uniform(-60, 60, (468, 3))
    pts[:, 2] = -40 * np.exp(-(pts[:, 0] ** 2 + pts[:, 1] ** 2) / 1500)  # a nose-like bump: depth
    flat = pts.copy()
    flat[:, 2] = 0.0
    yaws = 45 * np.sin(np.linspace(0, np.pi, 20))  # a print tilted well back, a head turned well away
    iod = np.full(20, 60.0)
    results = {}
    for name, cloud in (("head", pts), ("print", flat)):
        frames = np.stack([_project(cloud, y) for y in yaws]) + rng.normal(0, 0.3, (20, 468, 2))
        track = FaceTrack(np.arange(20) / FPS, frames, np.ones(20, np.int64), (640, 480))
        results[name] = planarity(track, iod)
    assert results["print"].motion > CFG.planar_min_motion  # tilting a print is more than a similarity
    assert results["print"].residual < 0.5 * results["head"].residual
    assert results["print"].ratio < CFG.planar_max_ratio < results["head"].ratio
    assert results["head"].motion > CFG.planar_min_motion
    assert len(RIGID) > 20


def _noisy_frames(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scene = rng.integers(40, 200, (60, 80, 3)).astype(np.float32)
    scene = np.kron(scene, np.ones((4, 4, 1)))  # 240×320
    out = []
    for k in range(n):
        moved = np.roll(scene, int(3 * np.sin(k / 4)), axis=1)
        out.append(np.clip(moved + rng.normal(0, 3, moved.shape), 0, 255).astype(np.uint8))
    return np.stack(out)


def test_frame_statistics_find_loops_and_freezes() -> None:
    live = _noisy_frames(60, 1)
    stats = frame_stats(thumbnails(live), min_lag=7)
    assert stats.loop_ratio > CFG.loop_ratio and longest_frozen_run(thumbnails(live), FPS) == 0.0
    looped = np.concatenate([live[:20]] * 3)
    assert frame_stats(thumbnails(looped), min_lag=7).loop_ratio < CFG.loop_ratio
    frozen = live.copy()
    frozen[20:35] = frozen[20]
    assert longest_frozen_run(thumbnails(frozen), FPS) >= CFG.max_frozen_seconds
