"""The heavy models, loaded lazily once per process and shared.

* mediapipe BlazeFace (short- and full-range) — fast detection with six keypoints,
  used on every video frame.
* dlib HOG detector — fallback for stills mediapipe misses (small or grey portraits).
* dlib 5-point shape predictor + ResNet face encoder from ``face-recognition-models``
  (the ResNet runs on numpy by default: ``resnet.py``)
  — the 128-D embedding (99.38 % on LFW at distance 0.6, per dlib's author).

Model files are found by path inside the installed ``face_recognition_models`` package
(no ``pkg_resources``, no download). mediapipe graphs are not thread-safe, so calls
go through :data:`MEDIAPIPE_LOCK`.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

MEDIAPIPE_LOCK = threading.Lock()
DLIB_LOCK = threading.Lock()


@cache
def model_path(filename: str) -> Path:
    """Path of a ``face_recognition_models`` file, checked to exist."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("face-recognition-models is not installed (see requirements/runtime.txt)")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / filename
    if not path.is_file():
        raise RuntimeError(f"model file missing: {path}")
    return path


@lru_cache(maxsize=1)
def hog_detector() -> Any:
    """dlib's frontal HOG+SVM detector (in the dlib wheel itself)."""
    import dlib

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=1)
def shape_predictor_5() -> Any:
    """Five landmarks (eye corners, nose base) that align the face for the encoder."""
    import dlib

    return dlib.shape_predictor(str(model_path("shape_predictor_5_face_landmarks.dat")))


@lru_cache(maxsize=1)
def face_encoder() -> Any:
    """dlib's ResNet metric network: 150×150 aligned chip → 128-D descriptor.

    By default (``FaceSettings.encoder = "onnx"``) the same weights run on onnxruntime, one
    thread (:mod:`pensioncert.biometrics.resnet`, ~3.5× less CPU than on numpy, same descriptors
    to 1e-6); ``"numpy"`` runs them on numpy's BLAS, with OpenBLAS held to one thread in this
    process; ``"dlib"`` uses dlib's own implementation.
    """
    from pensioncert.settings import get_settings

    path = model_path("dlib_face_recognition_resnet_model_v1.dat")
    encoder = get_settings().face.encoder
    if encoder == "dlib":
        import dlib

        return dlib.face_recognition_model_v1(str(path))
    from pensioncert.biometrics.resnet import FaceResNet, single_threaded_blas

    single_threaded_blas()
    return FaceResNet(path, runtime=encoder)


@lru_cache(maxsize=2)
def blazeface(model_selection: int) -> Any:
    """mediapipe face detection: 0 = short range (faces within ~2 m), 1 = full range."""
    from mediapipe.python.solutions import face_detection

    return face_detection.FaceDetection(model_selection=model_selection, min_detection_confidence=0.5)


def warm_up() -> None:
    """Load every model now (service start-up) instead of on the first request."""
    hog_detector()
    shape_predictor_5()
    face_encoder()
    blazeface(0)
    blazeface(1)
