"""Is the face track one continuous take? Cuts and splices between frames, from signals already computed.

A splice (the retiree's frames put where the face engine looks, someone else's elsewhere) or
a cut to another take shows between two neighbouring analysed frames as at least one of:

* a **jump of the face box**: its centre moves more than ``MAX_BOX_JUMP`` face widths, or its
  width changes by more than a factor ``MAX_BOX_SCALE``, from one frame to the next;
* a **change of the mesh's shape**: the rigid landmarks (bone: forehead, nose, cheekbones,
  eye corners), aligned by a similarity, differ more than a head moves in one frame — another
  face's proportions, or a pose that jumped;
* a **frame-difference spike**: the whole picture changes far more than between any typical
  neighbouring frames (another take's background, light or framing).

Each feature is measured for every neighbouring pair of frames with a face (and across a
stretch without a face: a face that comes back must be the same face), so the cost is a few
array operations on the mesh the analyser already has, no model call.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from pensioncert.liveness.landmarks import F64, RIGID, FaceTrack

MAX_BOX_JUMP = 0.5  # face widths between neighbouring analysed frames (biometrics.video uses the same)
MAX_BOX_SCALE = 1.5


@dataclass(frozen=True)
class Continuity:
    """The worst value of each feature over the recording and where the track broke (frame indices)."""

    box_jump: float  # face widths
    box_scale: float  # ratio >= 1
    shape_jump: float  # RMS of aligned rigid-landmark differences, in units of the shape's size
    diff_spike: float  # neighbouring-frame difference over the recording's median one
    breaks: list[int]

    def as_dict(self) -> dict[str, object]:
        return {"box_jump": round(self.box_jump, 3), "box_scale": round(self.box_scale, 3),
                "shape_jump": round(self.shape_jump, 4), "diff_spike": round(self.diff_spike, 2),
                "breaks": self.breaks}


def _shapes(points: F64) -> F64:
    """Rigid landmarks per frame, centred and scaled to unit RMS size."""
    pts = points[:, RIGID, :]
    centred = pts - pts.mean(axis=1, keepdims=True)
    size = np.sqrt((centred ** 2).sum(axis=(1, 2)) / len(RIGID))[:, None, None]
    return np.asarray(centred / size, dtype=np.float64)


def _aligned_distance(a: F64, b: F64) -> float:
    """RMS distance between two unit-size shapes after the best rotation of ``b`` onto ``a``."""
    u, _, vt = np.linalg.svd(b.T @ a)
    rot = u @ vt
    return float(np.sqrt(((b @ rot - a) ** 2).sum(axis=1).mean()))


def measure(track: FaceTrack, thumbs: F64) -> tuple[F64, F64, F64, F64, list[tuple[int, int]]]:
    """Per neighbouring pair of face frames: box jump, box scale, shape jump, diff spike; and the pairs."""
    idx = np.flatnonzero(track.present)
    pairs = [(int(a), int(b)) for a, b in itertools.pairwise(idx)]
    if not pairs:
        empty = np.zeros(0)
        return empty, empty, empty, empty, []
    pts = track.points
    lo, hi = np.nanmin(pts, axis=1), np.nanmax(pts, axis=1)
    centre, width = (lo + hi) / 2, np.maximum(hi[:, 0] - lo[:, 0], 1.0)
    shapes = _shapes(np.nan_to_num(pts))
    a, b = np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])
    jump = np.linalg.norm(centre[b] - centre[a], axis=1) / np.maximum(width[a], width[b])
    scale = np.maximum(width[a], width[b]) / np.minimum(width[a], width[b])
    shape = np.array([_aligned_distance(shapes[i], shapes[j]) for i, j in pairs])
    if len(thumbs) >= 2:
        adj = np.abs(np.diff(thumbs, axis=0)).mean(axis=(1, 2))
        typical = max(float(np.median(adj)), 0.5)
        spike = np.array([float(np.abs(thumbs[j] - thumbs[i]).mean()) / typical for i, j in pairs])
    else:
        spike = np.zeros(len(pairs))
    return jump, scale, shape, spike, pairs


def continuity(track: FaceTrack, thumbs: F64, *, max_shape_jump: float, max_diff_spike: float) -> Continuity:
    """The worst of each feature and the frames after which the track broke (any feature over its limit)."""
    jump, scale, shape, spike, pairs = measure(track, thumbs)
    if not pairs:
        return Continuity(0.0, 1.0, 0.0, 0.0, [])
    broken = (jump > MAX_BOX_JUMP) | (scale > MAX_BOX_SCALE) | (shape > max_shape_jump) | (spike > max_diff_spike)
    return Continuity(float(jump.max()), float(scale.max()), float(shape.max()), float(spike.max()),
                      [pairs[k][1] for k in np.flatnonzero(broken)])
