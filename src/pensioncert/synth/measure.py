"""Measure a rendered clip independently with MediaPipe's face mesh and compare with its truth.

Pose comes from a similarity (Procrustes) fit of the skull-rigid landmarks MediaPipe finds in
each frame to those it finds in a neutral frame of the same head; eye closure and mouth opening
come from MediaPipe's eyelid and inner-lip points. Nothing here reads the renderer's mesh.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from pensioncert.synth.clip import Clip
from pensioncert.synth.head import (
    LEFT_EYE_LOWER,
    LEFT_EYE_UPPER,
    RIGHT_EYE_LOWER,
    RIGHT_EYE_UPPER,
    RIGID_POINTS,
    angles,
    eye_ratio,
    mouth_ratio,
)


def _tracker() -> Any:
    import mediapipe as mp

    return mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, refine_landmarks=True, max_num_faces=2, min_detection_confidence=0.5
    )


def _points(result, w: int, h: int) -> list[NDArray[np.float64]]:  # type: ignore[no-untyped-def]
    return [np.array([[p.x * w, p.y * h, p.z * w] for p in f.landmark]) for f in result.multi_face_landmarks or []]


def pose_from(points: NDArray[np.float64], reference: NDArray[np.float64]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of ``points`` relative to ``reference`` (rigid landmarks, Kabsch)."""
    idx = list(RIGID_POINTS)
    a = reference[idx] - reference[idx].mean(axis=0)
    b = points[idx] - points[idx].mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(u @ vt))
    rot = (u @ np.diag([1, 1, d]) @ vt).T  # b ≈ a @ rot.T
    return angles(rot)


@dataclass
class Report:
    """Agreement between MediaPipe's measurements and the ground truth of one clip."""

    frames: int
    detected: int
    yaw_mae: float  # degrees
    yaw_corr: float
    pitch_mae: float
    eye_mae: float  # eye closure, 0..1 scale
    eye_corr: float
    mouth_ratio_mae: float  # inner-lip gap / mouth width
    mouth_corr: float
    measured: dict[str, NDArray[np.float64]]

    @property
    def detection_rate(self) -> float:
        return self.detected / max(self.frames, 1)

    def summary(self) -> str:
        return (f"face found in {self.detected}/{self.frames} frames ({100 * self.detection_rate:.1f}%); "
                f"yaw MAE {self.yaw_mae:.1f}° (r={self.yaw_corr:.2f}), pitch MAE {self.pitch_mae:.1f}°; "
                f"eye closure MAE {self.eye_mae:.2f} (r={self.eye_corr:.2f}); "
                f"mouth ratio MAE {self.mouth_ratio_mae:.3f} (r={self.mouth_corr:.2f})")


def _eyes(points: NDArray[np.float64]) -> float:
    right = eye_ratio(points, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER)
    return 0.5 * (right + eye_ratio(points, LEFT_EYE_UPPER, LEFT_EYE_LOWER))


def _corr(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    if len(a) < 3 or np.std(a) < 1e-9 or np.std(b) < 1e-9:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def evaluate_clip(clip: Clip, reference_frame: int | None = None) -> Report:
    """Run the face mesh on every frame of ``clip`` and compare with ``clip.truth``.

    The reference is the frame closest to neutral (small yaw, eyes open, mouth closed) by the truth.
    """
    truth = clip.truth
    n = len(clip.frames)
    h, w = clip.frames.shape[1:3]
    found: list[NDArray[np.float64] | None] = []
    with _tracker() as mesh:
        for frame in clip.frames:
            faces = _points(mesh.process(np.ascontiguousarray(frame)), w, h)
            found.append(faces[0] if faces else None)
    tyaw, tpitch = np.array(truth.yaw), np.array(truth.pitch)
    teye, tmouth = np.array(truth.eye_closure), np.array(truth.mouth_ratio)
    if reference_frame is None:
        cost = np.abs(tyaw) + np.abs(tpitch) + 50 * teye + 50 * np.array(truth.mouth_open)
        cost = np.where([f is not None for f in found], cost, np.inf)
        reference_frame = int(np.argmin(cost))
    ref = found[reference_frame]
    ok = np.array([f is not None for f in found])
    yaw = np.full(n, np.nan)
    pitch = np.full(n, np.nan)
    eye = np.full(n, np.nan)
    mouth = np.full(n, np.nan)
    if ref is not None:
        ref_eye = _eyes(ref)
        for k, pts in enumerate(found):
            if pts is None:
                continue
            y, p, _ = pose_from(pts, ref)
            yaw[k] = y + tyaw[reference_frame]
            pitch[k] = p + tpitch[reference_frame]
            er = _eyes(pts)
            eye[k] = float(np.clip(1.0 - er / max(ref_eye, 1e-6), 0.0, 1.0))
            mouth[k] = mouth_ratio(pts)
    m = ok & (ref is not None)
    return Report(
        frames=n,
        detected=int(ok.sum()),
        yaw_mae=float(np.nanmean(np.abs(yaw[m] - tyaw[m]))) if m.any() else float("nan"),
        yaw_corr=_corr(yaw[m], tyaw[m]),
        pitch_mae=float(np.nanmean(np.abs(pitch[m] - tpitch[m]))) if m.any() else float("nan"),
        eye_mae=float(np.nanmean(np.abs(eye[m] - teye[m]))) if m.any() else float("nan"),
        eye_corr=_corr(eye[m], teye[m]),
        mouth_ratio_mae=float(np.nanmean(np.abs(mouth[m] - tmouth[m]))) if m.any() else float("nan"),
        mouth_corr=_corr(mouth[m], tmouth[m]),
        measured={"yaw": yaw, "pitch": pitch, "eye_closure": eye, "mouth_ratio": mouth},
    )
