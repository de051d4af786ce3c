"""Passive checks that need no extra model: flat surfaces, frozen frames, loops, no motion.

* Planarity: landmarks of a photo or screen held in front of the camera are images of points
  on one plane, so one homography per frame maps the resting landmarks onto them. A real
  head rotating shows parallax (the nose moves against the cheeks) that no homography explains.
* Frozen: a camera never delivers two identical frames (sensor noise); a replayed still does.
* Looping: a clip stitched from a repeated segment has a lag at which frames repeat far more
  closely than neighbouring frames resemble each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pensioncert.liveness.landmarks import F64, RIGID, FaceTrack


@dataclass(frozen=True)
class Planarity:
    """``motion``: worst non-similarity landmark motion; ``residual``: what a homography leaves."""

    motion: float  # RMS, in inter-ocular distances
    residual: float  # RMS at the same frame, in inter-ocular distances
    frame: int

    @property
    def ratio(self) -> float:
        return self.residual / self.motion if self.motion > 0 else 1.0


def _rms(a: F64, b: F64) -> float:
    return float(np.sqrt(np.mean(np.sum((a - b) ** 2, axis=1))))


def planarity(track: FaceTrack, iod: F64) -> Planarity:
    """Measure how well homographies explain rigid-landmark motion against the resting frame.

    The resting frame is the one closest to the median rigid-landmark shape. For each other
    frame we fit a similarity (what moving a flat photo in its own plane does) and a
    homography (what tilting it does). The frame with the most non-similarity motion decides.
    """
    idx = np.flatnonzero(track.present)
    if len(idx) < 3:
        return Planarity(0.0, 0.0, -1)
    pts = track.points[idx][:, RIGID, :]
    centred = pts - pts.mean(axis=1, keepdims=True)
    scale = np.sqrt((centred ** 2).sum(axis=(1, 2)))[:, None, None]
    shapes = centred / scale
    median = np.median(shapes, axis=0)
    ref_i = int(np.argmin(((shapes - median) ** 2).sum(axis=(1, 2))))
    ref = pts[ref_i].astype(np.float64)
    best = Planarity(0.0, 0.0, -1)
    for j, cur in enumerate(pts):
        if j == ref_i:
            continue
        norm = float(iod[idx[j]]) or 1.0
        sim, _ = cv2.estimateAffinePartial2D(ref, cur, method=cv2.LMEDS)
        hom, _ = cv2.findHomography(ref, cur, 0)
        if sim is None or hom is None:
            continue
        sim_pred = ref @ sim[:, :2].T + sim[:, 2]
        hom_pred = cv2.perspectiveTransform(ref[None], hom)[0]
        motion = _rms(sim_pred, cur) / norm
        if motion > best.motion:
            best = Planarity(motion, _rms(hom_pred, cur) / norm, int(idx[j]))
    return best


def _thumbs(frames: NDArray[np.uint8]) -> F64:
    """Small grey thumbnails: compression noise averages out, content differences remain."""
    grey = frames.mean(axis=3, dtype=np.float32) if frames.ndim == 4 else frames.astype(np.float32)
    return np.stack([cv2.resize(g, (80, 60), interpolation=cv2.INTER_AREA) for g in grey]).astype(np.float64)


@dataclass(frozen=True)
class FrameStats:
    frozen_fraction: float  # share of neighbouring pairs that are near-identical
    adjacent_diff: float  # median mean-absolute difference of neighbours (0-255)
    loop_ratio: float  # best repeat distance at lags >= min_lag, over adjacent_diff
    loop_lag: int
    motion: float  # 95th-percentile neighbour difference (0-255)


FROZEN_DIFF = 0.25  # grey levels on an 80×60 thumbnail; see docs/liveness.md for measurements


def frame_stats(frames: NDArray[np.uint8], min_lag: int) -> FrameStats:
    """Frozen, looping and motion statistics of the analysed frames."""
    th = _thumbs(frames)
    if len(th) < 2:
        return FrameStats(1.0, 0.0, 0.0, 0, 0.0)
    adj = np.abs(np.diff(th, axis=0)).mean(axis=(1, 2))
    adjacent = float(np.median(adj))
    frozen = float(np.mean(adj < FROZEN_DIFF))
    best_ratio, best_lag = np.inf, 0
    n = len(th)
    for lag in range(max(2, min_lag), n - max(2, min_lag) + 1):
        d = np.abs(th[lag:] - th[:-lag]).mean(axis=(1, 2))
        # a loop repeats a whole segment: require the repeat to hold over min_lag frames
        run = np.convolve(d, np.ones(min(min_lag, len(d))) / min(min_lag, len(d)), mode="valid")
        ratio = float(run.min()) / max(adjacent, 1e-6)
        if ratio < best_ratio:
            best_ratio, best_lag = ratio, lag
    return FrameStats(frozen, adjacent, float(best_ratio) if np.isfinite(best_ratio) else 1e9, best_lag,
                      float(np.percentile(adj, 95)))
