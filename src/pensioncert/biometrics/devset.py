"""The development set: real sample photos plus realistic capture degradations.

One folder per person (``DIR/<person>/<name>_<k>.jpg``). Variant 0 is the photo as
shipped; the others apply a seeded random mix of what phone captures and old
registry photos do to a face: exposure and colour cast, defocus blur, JPEG
compression, scale, in-plane rotation, sensor noise and glasses-like frames.
It measures robustness to those degradations and separation between ~50 people;
it cannot measure ageing, pose or expression change between real sessions
(docs/biometrics.md says more).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np

from pensioncert.biometrics.detection import detect_faces, face_landmarks
from pensioncert.biometrics.results import RGBImage
from pensioncert.biometrics.samples import SamplePhoto, sample_photos

DEFAULT_VARIANTS = 8


def augment(image: RGBImage, rng: np.random.Generator) -> RGBImage:
    """One random realistic degradation of ``image`` (several effects, each with some probability)."""
    out = image.astype(np.float32)
    if rng.random() < 0.8:  # exposure (gamma) and contrast, as auto-exposure and lamps do
        gamma = float(rng.uniform(0.6, 1.6))
        out = 255.0 * (out / 255.0) ** gamma
        out = (out - 128.0) * float(rng.uniform(0.75, 1.2)) + 128.0
    if rng.random() < 0.5:  # white-balance cast
        out *= rng.uniform(0.85, 1.15, size=3).astype(np.float32)
    result = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.4:
        result = _glasses(result, rng)
    if rng.random() < 0.6:  # scale: a farther phone or an old low-resolution photo
        factor = float(rng.uniform(0.55, 1.4))
        method = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
        result = np.asarray(cv2.resize(result, None, fx=factor, fy=factor, interpolation=method), dtype=np.uint8)
    if rng.random() < 0.6:  # in-plane rotation: a tilted phone
        angle = float(rng.uniform(-15, 15))
        height, width = result.shape[:2]
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), angle, 1.0)
        result = np.asarray(
            cv2.warpAffine(result, matrix, (width, height), borderMode=cv2.BORDER_REFLECT), dtype=np.uint8
        )
    if rng.random() < 0.5:  # defocus / slight motion
        result = np.asarray(cv2.GaussianBlur(result, (0, 0), float(rng.uniform(0.6, 1.8))), dtype=np.uint8)
    if rng.random() < 0.4:  # sensor noise in low light
        noise = rng.normal(0, float(rng.uniform(3, 9)), size=result.shape)
        result = np.clip(result.astype(np.float32) + noise, 0, 255).astype(np.uint8)
    quality = int(rng.integers(30, 90)) if rng.random() < 0.8 else 95
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(result, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return np.asarray(cv2.cvtColor(cv2.imdecode(encoded, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB), dtype=np.uint8)


def _glasses(image: RGBImage, rng: np.random.Generator) -> RGBImage:
    """Draw spectacle frames (clear lenses) at the detected eyes: occludes like real glasses."""
    faces = detect_faces(image)
    if not faces:
        return image
    points = face_landmarks(image, faces[0])
    eye_a, eye_b = points["right_eye"], points["left_eye"]
    distance = math.hypot(eye_b.x - eye_a.x, eye_b.y - eye_a.y)
    out = image.copy()
    colour = tuple(int(c) for c in rng.integers(0, 90, size=3))
    thickness = max(1, int(distance * float(rng.uniform(0.03, 0.07))))
    axes = (int(distance * 0.32), int(distance * 0.22))
    angle = math.degrees(math.atan2(eye_b.y - eye_a.y, eye_b.x - eye_a.x))
    for eye in (eye_a, eye_b):
        cv2.ellipse(out, (int(eye.x), int(eye.y)), axes, angle, 0, 360, colour, thickness, cv2.LINE_AA)
    mid_a = (int(eye_a.x + axes[0]), int(eye_a.y))
    mid_b = (int(eye_b.x - axes[0]), int(eye_b.y))
    cv2.line(out, mid_a, mid_b, colour, thickness, cv2.LINE_AA)
    return out


def build_devset(
    directory: Path,
    *,
    variants: int = DEFAULT_VARIANTS,
    seed: int = 20240601,
    photos: Sequence[SamplePhoto] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Write the development set under ``directory``; returns images written per person.

    Deterministic for a given ``seed`` and set of photos, so figures are reproducible.
    """
    chosen = list(photos) if photos is not None else sample_photos()
    directory.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for done, photo in enumerate(chosen):
        person_dir = directory / photo.person
        person_dir.mkdir(exist_ok=True)
        rng = np.random.default_rng([seed, *photo.name.encode()])
        original = photo.load()
        for k in range(variants + 1):
            image = original if k == 0 else augment(original, rng)
            path = person_dir / f"{photo.name}_{k:02d}.{'png' if k == 0 else 'jpg'}"
            cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
            written[photo.person] = written.get(photo.person, 0) + 1
        if progress is not None:
            progress(done + 1, len(chosen))
    return written
