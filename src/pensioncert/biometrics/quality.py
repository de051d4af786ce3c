"""Capture-quality gates: can this image be verified, and if not, what should the user do?

Every failed gate yields a message code (``face.*`` in ``messages/catalogue/face.toml``)
whose text tells the user what to change; the numbers behind it stay in
``QualityReport.measures`` for logs. Thresholds live in ``FaceSettings``.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from pensioncert.biometrics.detection import detect_faces, face_landmarks
from pensioncert.biometrics.results import FaceBox, Point, QualityReport, RGBImage
from pensioncert.settings import FaceSettings, get_settings

Circle = tuple[float, float, float]

QUALITY_REASONS = (
    "face.no_face",
    "face.multiple_faces",
    "face.too_small",
    "face.not_in_circle",
    "face.too_dark",
    "face.too_bright",
    "face.backlit",
    "face.blurred",
    "face.head_turned",
    "face.eyes_not_visible",
)
"""Every code :func:`assess_quality` can return, in the order it checks them."""

SECOND_FACE_MIN_WIDTH = 0.5  # a second face at least half as wide as the main one is a person, not noise
SECOND_FACE_MIN_SCORE = 0.6
CHIP_PX = 112  # faces are compared for sharpness at one size, so big and small faces score alike


def assess_quality(
    image: RGBImage,
    circle: Circle | None = None,
    *,
    faces: list[FaceBox] | None = None,
    settings: FaceSettings | None = None,
) -> QualityReport:
    """Check ``image`` for one usable face (inside ``circle`` = ``(cx, cy, r)`` pixels, if given).

    ``faces`` lets a caller that already ran detection (the video path) skip it.
    """
    config = settings or get_settings().face
    if faces is None:
        faces = detect_faces(image)
    if not faces:
        return QualityReport(ok=False, reasons=["face.no_face"])
    face = faces[0]
    reasons: list[str] = []
    measures: dict[str, float] = {"face_width": float(face.width), "detector_score": face.score}

    others = [
        f for f in faces[1:] if f.width >= SECOND_FACE_MIN_WIDTH * face.width and f.score >= SECOND_FACE_MIN_SCORE
    ]
    measures["faces"] = float(1 + len(others))
    if others:
        reasons.append("face.multiple_faces")

    if face.width < config.min_face_px:
        reasons.append("face.too_small")
    if circle is not None:
        offset, fill = _circle_fit(face, circle)
        measures["circle_offset"], measures["circle_fill"] = offset, fill
        if offset > config.circle_max_offset or not 0.6 <= fill <= 2.0:
            reasons.append("face.not_in_circle")

    luma = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    face_luma = _inner(luma, face)
    brightness = float(face_luma.mean())
    clipped = float((face_luma >= 250).mean())
    background = _background_mean(luma, face)
    measures.update(brightness=brightness, clipped=clipped)
    if background is not None:
        measures["background"] = background
    if brightness < config.min_brightness:
        reasons.append("face.too_dark")
    elif background is not None and background - brightness > config.backlight_delta:
        reasons.append("face.backlit")
    elif brightness > config.max_brightness or clipped > config.max_clipped_fraction:
        reasons.append("face.too_bright")

    sharpness = _sharpness(luma, face)
    measures["sharpness"] = sharpness
    if sharpness < config.min_sharpness:
        reasons.append("face.blurred")

    points = face_landmarks(image, face)
    yaw = _yaw_offset(points)
    if yaw is not None:
        measures["yaw_offset"] = yaw
        if yaw > config.max_yaw_offset:
            reasons.append("face.head_turned")
    eyes = _eye_ratio(luma, points)
    if eyes is not None:
        measures["eye_ratio"] = eyes
        if eyes < config.min_eye_ratio and "face.head_turned" not in reasons:
            reasons.append("face.eyes_not_visible")

    measures["score"] = _frame_score(measures, config)
    return QualityReport(ok=not reasons, reasons=reasons, face=face, measures=measures)


def _circle_fit(face: FaceBox, circle: Circle) -> tuple[float, float]:
    """Offset of the face centre from the circle centre and face width over the radius."""
    cx, cy, radius = circle
    fx, fy = face.center
    return math.hypot(fx - cx, fy - cy) / radius, face.width / radius


def _inner(luma: np.ndarray, face: FaceBox) -> np.ndarray:
    """The skin part of the box: without hair at the top and background at the sides."""
    dx, dy = face.width * 0.2, face.height * 0.15
    region = luma[int(face.top + dy) : int(face.bottom - dy / 2), int(face.left + dx) : int(face.right - dx)]
    return region if region.size else luma[face.top : face.bottom, face.left : face.right]


def _background_mean(luma: np.ndarray, face: FaceBox) -> float | None:
    """Mean luma outside a margin around the face; None when the face fills the frame."""
    height, width = luma.shape
    mask = np.ones_like(luma, dtype=bool)
    mx, my = face.width // 2, face.height // 2
    mask[max(0, face.top - my) : face.bottom + my, max(0, face.left - mx) : face.right + mx] = False
    if mask.mean() < 0.15:
        return None
    return float(luma[mask].mean())


def _sharpness(luma: np.ndarray, face: FaceBox) -> float:
    """High-frequency energy relative to contrast, so dim faces are not called blurred."""
    crop = luma[face.top : face.bottom, face.left : face.right]
    chip = cv2.resize(crop, (CHIP_PX, CHIP_PX), interpolation=cv2.INTER_AREA).astype(np.float32)
    variance = float(chip.var())
    if variance < 1.0:
        return 0.0
    return float(cv2.Laplacian(chip, cv2.CV_32F).var()) / variance


def _yaw_offset(points: dict[str, Point]) -> float | None:
    """How far the nose sits from the middle of the eyes (0 frontal, 0.5 profile)."""
    try:
        eye_a, eye_b, nose = points["right_eye"], points["left_eye"], points["nose_tip"]
    except KeyError:
        return None
    span = eye_b.x - eye_a.x
    if abs(span) < 1.0:
        return 0.5
    return abs((nose.x - eye_a.x) / span - 0.5)


def _eye_ratio(luma: np.ndarray, points: dict[str, Point]) -> float | None:
    """Mean luma around the eyes over the cheeks below them: sunglasses make it small."""
    try:
        eyes, nose = [points["right_eye"], points["left_eye"]], points["nose_tip"]
    except KeyError:
        return None
    distance = math.hypot(eyes[1].x - eyes[0].x, eyes[1].y - eyes[0].y)
    if distance < 8:
        return None
    half = max(2, int(distance * 0.2))
    cheek_y = nose.y + 0.1 * distance
    eye_patches = [_patch(luma, p.x, p.y, half) for p in eyes]
    cheek_patches = [_patch(luma, p.x, cheek_y, max(2, int(distance * 0.12))) for p in eyes]
    eye_mean = np.mean([p.mean() for p in eye_patches if p.size])
    cheek_mean = np.mean([p.mean() for p in cheek_patches if p.size])
    if not np.isfinite(eye_mean) or not np.isfinite(cheek_mean) or cheek_mean < 1.0:
        return None
    return float(eye_mean / cheek_mean)


def _patch(luma: np.ndarray, x: float, y: float, half: int) -> np.ndarray:
    height, width = luma.shape
    xi, yi = int(round(x)), int(round(y))
    return luma[max(0, yi - half) : min(height, yi + half + 1), max(0, xi - half) : min(width, xi + half + 1)]


def _frame_score(measures: dict[str, float], config: FaceSettings) -> float:
    """Rank frames for embedding: sharp, frontal, large, well lit (higher is better)."""
    sharp = min(1.0, measures.get("sharpness", 0.0) / (3 * config.min_sharpness))
    frontal = max(0.0, 1.0 - measures.get("yaw_offset", 0.5) / 0.5)
    size = min(1.0, measures.get("face_width", 0.0) / (2.5 * config.min_face_px))
    light = max(0.0, 1.0 - abs(measures.get("brightness", 128.0) - 128.0) / 128.0)
    return sharp * frontal * size * (0.5 + 0.5 * light)
