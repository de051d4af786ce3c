"""Embeddings and 1:1 comparison, in the manner of ``face_recognition.api``."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from pensioncert.biometrics import engines
from pensioncert.biometrics.detection import _shape_5, detect_faces, refine_for_alignment
from pensioncert.biometrics.errors import NoFaceFound
from pensioncert.biometrics.loading import load_image
from pensioncert.biometrics.quality import assess_quality
from pensioncert.biometrics.results import Embedding, FaceBox, MatchResult, RGBImage
from pensioncert.settings import FaceSettings, get_settings


def match_threshold() -> float:
    """The configured decision threshold on :func:`face_distance` (see ``FaceSettings``)."""
    return float(get_settings().face.match_threshold)


CHIP_PX = 150  # the encoder's input: 150×150, aligned on five landmarks with 25 % padding
CHIP_PADDING = 0.25


def face_chip(image: RGBImage, box: FaceBox | None = None) -> RGBImage:
    """The aligned 150×150 face chip the encoder sees, before any photometric normalisation.

    Raises :class:`NoFaceFound` when ``box`` is omitted and no face is found.
    """
    import dlib

    if box is None:
        faces = detect_faces(image)
        if not faces:
            raise NoFaceFound("no face to embed")
        box = faces[0]
    if box.keypoints:  # a BlazeFace box: re-box the way dlib's landmark model expects
        box = refine_for_alignment(image, box)
    shape = _shape_5(image, box)
    with engines.DLIB_LOCK:
        chip = dlib.get_face_chip(np.ascontiguousarray(image), shape, CHIP_PX, CHIP_PADDING)
    return np.asarray(chip, dtype=np.uint8)


def normalise_chip(chip: RGBImage, method: str) -> RGBImage:
    """Photometric normalisation of an aligned chip: ``"none"`` or ``"clahe"``.

    ``clahe`` equalises the luma (YCrCb Y) in 4×4 tiles of the chip (clip limit 2), so
    a face lit from one side or under-exposed reaches the network with local contrast
    closer to an evenly lit one; colour is kept.
    """
    if method == "none":
        return chip
    if method != "clahe":
        raise ValueError(f"unknown chip normalisation {method!r}")
    import cv2

    ycc = cv2.cvtColor(chip, cv2.COLOR_RGB2YCrCb)
    ycc[..., 0] = _clahe().apply(ycc[..., 0])
    return np.asarray(cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB), dtype=np.uint8)


@lru_cache(maxsize=1)
def _clahe() -> Any:
    import cv2

    return cv2.createCLAHE(clipLimit=2.0, tileGridSize=(4, 4))


def embed_chip(chip: RGBImage, *, flip_average: bool) -> Embedding:
    """The dlib ResNet descriptor of an aligned chip; with ``flip_average`` the mean of the
    chip's and its mirror image's descriptors (twice the cost, less sensitive to one-sided
    light and small yaw)."""
    return embed_chips([chip], flip_average=flip_average)[0]


def embed_chips(chips: Sequence[RGBImage], *, flip_average: bool) -> list[Embedding]:
    """``embed_chip`` of each chip, the encoder run once on all of them (and their mirrors) where it can batch."""
    encoder = engines.face_encoder()
    inputs = [np.ascontiguousarray(c) for c in chips]
    if flip_average:
        inputs += [np.ascontiguousarray(c[:, ::-1]) for c in chips]
    with engines.DLIB_LOCK:
        if hasattr(encoder, "compute_face_descriptors"):  # ours (resnet.FaceResNet): one batch
            descriptors = np.asarray(encoder.compute_face_descriptors(inputs), dtype=np.float64)
        else:  # dlib's own encoder: one chip at a time
            descriptors = np.array([np.asarray(encoder.compute_face_descriptor(c, 0), dtype=np.float64)
                                    for c in inputs]).reshape(len(inputs), -1)
    n = len(chips)
    if flip_average:
        return [np.mean([descriptors[i], descriptors[n + i]], axis=0) for i in range(n)]
    return [descriptors[i] for i in range(n)]


def face_embedding(image: RGBImage, box: FaceBox | None = None, *, settings: FaceSettings | None = None) -> Embedding:
    """The 128-D dlib ResNet descriptor of the face in ``box`` (default: the largest face).

    The face is aligned on five landmarks and cut to a 150×150 chip with 25 % padding,
    the setting the network was trained with; the chip is normalised and optionally
    averaged with its mirror image as ``FaceSettings`` says (``chip_normalisation``,
    ``flip_average``); no jitter (it costs 10× for ~0.5 % on LFW).
    Raises :class:`NoFaceFound` when ``box`` is omitted and no face is found.
    """
    config = settings or get_settings().face
    chip = normalise_chip(face_chip(image, box), config.chip_normalisation)
    return embed_chip(chip, flip_average=config.flip_average)


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
