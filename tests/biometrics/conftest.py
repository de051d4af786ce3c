"""Shared real-face fixtures: portraits that ship with scikit-image and matplotlib."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from pensioncert import biometrics
from pensioncert.biometrics import RGBImage


def _photo(name: str) -> RGBImage:
    for photo in biometrics.sample_photos():
        if photo.name == name:
            return photo.load()
    pytest.fail(f"sample photo {name} not installed (scripts/bootstrap.sh installs opencv-doc)")


@pytest.fixture(scope="session")
def hopper() -> RGBImage:
    """Grace Hopper, frontal, clear glasses, dark uniform (matplotlib sample data)."""
    return _photo("grace_hopper")


@pytest.fixture(scope="session")
def astronaut() -> RGBImage:
    """Eileen Collins (scikit-image sample data): a different person from Hopper."""
    return _photo("astronaut")


def on_canvas(face: RGBImage, height: int, *, size: tuple[int, int] = (640, 480), fill: int = 90) -> RGBImage:
    """``face`` scaled to ``height`` px and centred on a plain 640×480 frame, like a selfie capture."""
    scale = height / face.shape[0]
    portrait = cv2.resize(face, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    width, frame_h = size
    canvas = np.full((frame_h, width, 3), fill, dtype=np.uint8)
    ph, pw = portrait.shape[:2]
    y, x = (frame_h - ph) // 2, (width - pw) // 2
    canvas[max(0, y) : max(0, y) + min(ph, frame_h), max(0, x) : max(0, x) + min(pw, width)] = portrait[
        max(0, -y) : max(0, -y) + min(ph, frame_h), max(0, -x) : max(0, -x) + min(pw, width)
    ]
    return canvas


def draw_sunglasses(image: RGBImage) -> RGBImage:
    """Opaque dark lenses over the detected eyes (sunglasses)."""
    face = biometrics.detect_faces(image)[0]
    points = biometrics.face_landmarks(image, face)
    a, b = points["right_eye"], points["left_eye"]
    distance = math.hypot(b.x - a.x, b.y - a.y)
    out = image.copy()
    for eye in (a, b):
        axes = (int(distance * 0.36), int(distance * 0.26))
        cv2.ellipse(out, (int(eye.x), int(eye.y)), axes, 0, 0, 360, (25, 22, 20), -1, cv2.LINE_AA)
    return out
