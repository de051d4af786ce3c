"""Embeddings and 1:1 comparison, in the manner of ``face_recognition.api``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pensioncert.biometrics import engines
from pensioncert.biometrics.detection import _shape_5, detect_faces, refine_for_alignment
from pensioncert.biometrics.errors import NoFaceFound
from pensioncert.biometrics.loading import load_image
from pensioncert.biometrics.quality import assess_quality
from pensioncert.biometrics.results import Embedding, FaceBox, MatchResult, RGBImage


def match_threshold() -> float:
    """The configured decision threshold on :func:`face_distance` (see ``FaceSettings``)."""
    from pensioncert.settings import get_settings

    return float(get_settings().face.match_threshold)


def face_embedding(image: RGBImage, box: FaceBox | None = None) -> Embedding:
    """The 128-D dlib ResNet descriptor of the face in ``box`` (default: the largest face).

    The face is aligned on five landmarks and cut to a 150×150 chip with 25 % padding,
    the setting the network was trained with; no jitter (it costs 10× for ~0.5 % on LFW).
    Raises :class:`NoFaceFound` when ``box`` is omitted and no face is found.
    """
    if box is None:
        faces = detect_faces(image)
        if not faces:
            raise NoFaceFound("no face to embed")
        box = faces[0]
    if box.keypoints:  # a BlazeFace box: re-box the way dlib's landmark model expects
        box = refine_for_alignment(image, box)
    shape = _shape_5(image, box)
    encoder = engines.face_encoder()
    with engines.DLIB_LOCK:
        descriptor = encoder.compute_face_descriptor(image, shape, 0, 0.25)
    return np.asarray(descriptor, dtype=np.float64)


def face_distance(a: Embedding, b: Embedding) -> float:
    """Euclidean distance between two descriptors: 0 identical, < threshold same person."""
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def compare_images(
    a: RGBImage | str | Path | bytes, b: RGBImage | str | Path | bytes, *, threshold: float | None = None
) -> MatchResult:
    """Compare the main face of two images (files, bytes or arrays).

    Quality is reported for each image but does not veto the comparison: a registry
    photo may be small or grey and still match; callers decide what to do with a
    failed gate. Raises :class:`NoFaceFound` when either image has no face at all.
    """
    limit = match_threshold() if threshold is None else threshold
    image_a, image_b = load_image(a), load_image(b)
    quality_a, quality_b = assess_quality(image_a), assess_quality(image_b)
    if quality_a.face is None or quality_b.face is None:
        raise NoFaceFound("no face in " + ("the first" if quality_a.face is None else "the second") + " image")
    distance = face_distance(face_embedding(image_a, quality_a.face), face_embedding(image_b, quality_b.face))
    return MatchResult(distance, distance <= limit, limit, quality_a, quality_b)
