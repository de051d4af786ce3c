"""Plain result types of the face engine: what callers get back, never model internals."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

RGBImage = npt.NDArray[np.uint8]
"""An ``H×W×3`` RGB ``uint8`` image, as :func:`load_image` returns it."""

Embedding = npt.NDArray[np.float64]
"""A 128-D face descriptor from the dlib ResNet (unit-ish length, Euclidean metric)."""


@dataclass(frozen=True)
class Point:
    """A landmark in image pixels."""

    x: float
    y: float


@dataclass(frozen=True)
class FaceBox:
    """A detected face in image pixels (``right``/``bottom`` exclusive) with the detector's confidence.

    ``keypoints`` are the detector's eye, nose, mouth and ear points when it gives them
    (mediapipe does; they feed the quality gates without a second model).
    """

    left: int
    top: int
    right: int
    bottom: int
    score: float
    keypoints: dict[str, Point] = field(default_factory=dict, compare=False, repr=False)

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def area(self) -> int:
        return max(0, self.width) * max(0, self.height)

    @property
    def center(self) -> tuple[float, float]:
        return (self.left + self.right) / 2.0, (self.top + self.bottom) / 2.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "top": self.top,
            "right": self.right,
            "bottom": self.bottom,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class QualityReport:
    """Whether an image is good enough to verify, and if not, why, as message codes.

    ``measures`` holds the raw figures behind the verdict for logs and tuning; never show
    them to users (DOMAIN.md: actionable reasons, not scores).
    """

    ok: bool
    reasons: list[str]
    face: FaceBox | None = None
    measures: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reasons": list(self.reasons),
            "face": self.face.as_dict() if self.face else None,
            "measures": {k: round(v, 4) for k, v in self.measures.items()},
        }


@dataclass(frozen=True)
class MatchResult:
    """A 1:1 comparison of two still images."""

    distance: float
    same_person: bool
    threshold: float
    quality_a: QualityReport
    quality_b: QualityReport

    def as_dict(self) -> dict[str, Any]:
        return {
            "distance": round(self.distance, 6),
            "same_person": self.same_person,
            "threshold": self.threshold,
            "quality": {"a": self.quality_a.as_dict(), "b": self.quality_b.as_dict()},
        }


@dataclass(frozen=True)
class VideoMatchDecision:
    """The verdict on a capture video against the reference embedding.

    ``same_person`` is true only when enough frames passed quality, every embedded frame
    matches the reference and ``identity_consistent`` holds (one face throughout, no cut,
    all embedded frames mutually the same person).
    """

    same_person: bool
    identity_consistent: bool
    distance: float
    threshold: float
    best_frame_index: int | None
    frames_total: int
    frames_analysed: int
    frames_usable: int
    embedded_frames: list[int]
    frame_distances: list[float]
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "same_person": self.same_person,
            "identity_consistent": self.identity_consistent,
            "distance": round(self.distance, 6) if math.isfinite(self.distance) else None,
            "threshold": self.threshold,
            "best_frame_index": self.best_frame_index,
            "frames_total": self.frames_total,
            "frames_analysed": self.frames_analysed,
            "frames_usable": self.frames_usable,
            "embedded_frames": list(self.embedded_frames),
            "frame_distances": [round(d, 6) for d in self.frame_distances],
            "reasons": list(self.reasons),
        }
