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
    ref = pts[ref_i].astype(np.float32)
    best = Planarity(0.0, 0.0, -1)
    for j, cur64 in enumerate(pts):
        cur = cur64.astype(np.float32)
        if j == ref_i:
            continue
        norm = float(iod[idx[j]]) or 1.0
        sim, _ = cv2.estimateAffinePartial2D(ref, cur, method=cv2.LMEDS)
        hom, _ = cv2.findHomography(ref, cur, 0)
        if sim is None or hom is None:
            continue
        sim_pred = ref @ sim[:, :2].T + sim[:, 2]
        hom_pred = cv2.perspectiveTransform(ref[None].astype(np.float64), hom)[0]
        motion = _rms(sim_pred, cur) / norm
        if motion > best.motion:
            best = Planarity(motion, _rms(hom_pred, cur) / norm, int(idx[j]))
    return best


def thumbnails(frames: NDArray[np.uint8]) -> F64:
    """Small grey thumbnails (80×60): compression noise averages out, content differences remain.

    Resizing the uint8 frames first and converting to grey afterwards costs ~1 ms a frame;
    averaging full frames in float first cost 30× that.
    """
    small = [cv2.resize(f, (80, 60), interpolation=cv2.INTER_AREA) for f in frames]
    return np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) if f.ndim == 3 else f for f in small]).astype(np.float64)


@dataclass(frozen=True)
class FrameStats:
    frozen_fraction: float  # share of neighbouring pairs that are near-identical
    adjacent_diff: float  # median mean-absolute difference of neighbours (0-255)
    loop_ratio: float  # best repeat distance at lags >= min_lag, over adjacent_diff
    loop_lag: int
    motion: float  # 95th-percentile neighbour difference (0-255)


FROZEN_DIFF = 0.25  # grey levels on an 80×60 thumbnail; see docs/liveness.md for measurements
# Spatial frequencies (cycles/pixel) searched for a screen grid: above 0.2 skips face texture and
# the 8-pixel block grid of JPEG photos (~0.12 after scaling), which genuine clips showed.
MOIRE_BAND = (0.2, 0.5)


def frame_stats(th: F64, min_lag: int) -> FrameStats:
    """Frozen, looping and motion statistics of the analysed frames' ``thumbnails``."""
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


def longest_frozen_run(th: F64, fps: float) -> float:
    """Longest stretch, in seconds, of neighbouring ``thumbnails`` that are near-identical."""
    if len(th) < 2:
        return 0.0
    same = np.abs(np.diff(th, axis=0)).mean(axis=(1, 2)) < FROZEN_DIFF
    longest = run = 0
    for flag in same:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    return longest / fps


def moire_score(frames: NDArray[np.uint8], track: FaceTrack, samples: int = 6) -> float:
    """Strength of a periodic pattern on the face: the pixel grid of a screen filmed again.

    Skin, hair and sensor noise have smooth spectra; a display's sub-pixel grid aliases into
    sharp spectral peaks (moiré). Score: the highest peak of the windowed high-pass spectrum
    of the face crop over its median in the mid/high band, median over a few frames.
    """
    idx = np.flatnonzero(track.present)
    if len(idx) == 0:
        return 0.0
    values: list[float] = []
    for i in idx[np.linspace(0, len(idx) - 1, min(samples, len(idx))).round().astype(int)]:
        pts = track.points[i]
        x0, y0 = np.nanmin(pts, axis=0)
        x1, y1 = np.nanmax(pts, axis=0)
        side = int(min(x1 - x0, y1 - y0) * 0.8) // 2 * 2
        if side < 48:
            continue
        cx, cy = int((x0 + x1) / 2), int((y0 + y1) / 2)
        h, w = frames.shape[1:3]
        a, b = max(0, cy - side // 2), max(0, cx - side // 2)
        crop = frames[i, a:a + side, b:b + side].mean(axis=2).astype(np.float32)
        if min(crop.shape) < 48:
            continue
        high = crop - cv2.GaussianBlur(crop, (0, 0), 2.0)
        win = np.outer(np.hanning(crop.shape[0]), np.hanning(crop.shape[1]))
        spec = np.abs(np.fft.fftshift(np.fft.fft2(high * win)))
        fy = np.fft.fftshift(np.fft.fftfreq(crop.shape[0]))[:, None]
        fx = np.fft.fftshift(np.fft.fftfreq(crop.shape[1]))[None, :]
        radius = np.hypot(fy, fx)
        band = spec[(radius > MOIRE_BAND[0]) & (radius < MOIRE_BAND[1])]
        values.append(float(band.max() / (np.median(band) + 1e-9)))
    return float(np.median(values)) if values else 0.0
