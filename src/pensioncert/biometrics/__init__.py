"""The face engine: detect, check quality, embed and compare faces, decide on a video.

A small facade over heavy models, in the manner of ``face_recognition.api``::

    from pensioncert import biometrics as bio

    image = bio.load_image("selfie.jpg")
    report = bio.assess_quality(image, circle=(320, 240, 150))
    if not report.ok:
        show(report.reasons)              # message codes: face.too_dark, face.blurred …
    result = bio.compare_images(registry_photo, image)
    decision = bio.decide_video(bio.face_embedding(registry_photo), frames)

Models load lazily, once per process (:mod:`pensioncert.biometrics.engines`).
Thresholds come from ``FaceSettings``; docs/biometrics.md gives the measurements.
"""

from pensioncert.biometrics.detection import detect_faces, face_landmarks
from pensioncert.biometrics.engines import warm_up
from pensioncert.biometrics.errors import FaceEngineError, ImageUnreadable, ImageUnsuitable, NoFaceFound
from pensioncert.biometrics.loading import load_image
from pensioncert.biometrics.matching import compare_images, face_distance, face_embedding, match_threshold
from pensioncert.biometrics.quality import QUALITY_REASONS, assess_quality
from pensioncert.biometrics.results import (
    Embedding,
    FaceBox,
    MatchResult,
    Point,
    QualityReport,
    RGBImage,
    VideoMatchDecision,
)
from pensioncert.biometrics.samples import SamplePhoto, sample_photos
from pensioncert.biometrics.video import decide_video

__all__ = [
    "QUALITY_REASONS",
    "Embedding",
    "FaceBox",
    "FaceEngineError",
    "ImageUnreadable",
    "ImageUnsuitable",
    "MatchResult",
    "NoFaceFound",
    "Point",
    "QualityReport",
    "RGBImage",
    "SamplePhoto",
    "VideoMatchDecision",
    "assess_quality",
    "compare_images",
    "decide_video",
    "detect_faces",
    "face_distance",
    "face_embedding",
    "face_landmarks",
    "load_image",
    "match_threshold",
    "sample_photos",
    "warm_up",
]
