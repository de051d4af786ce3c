"""The OCR engine: RapidOCR's PP-OCRv4 Chinese models, shipped inside the wheel.

Loaded once per process (``engine()``), never downloaded. Detection runs on a
downscaled copy (speed: it is most of the cost), recognition on crops taken
from the full-resolution image (accuracy: small address characters survive).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cv2
import numpy as np

from pensioncert.settings import get_settings


@dataclass(frozen=True, eq=False)
class TextBox:
    """One detected text line: 4 corner points (TL, TR, BR, BL) in image pixels, text, confidence."""

    points: np.ndarray
    text: str
    score: float

    @property
    def centre(self) -> np.ndarray:
        return np.asarray(self.points.mean(axis=0))

    def _sides(self) -> tuple[float, float]:
        p = self.points
        a = float((np.linalg.norm(p[1] - p[0]) + np.linalg.norm(p[2] - p[3])) / 2)
        b = float((np.linalg.norm(p[3] - p[0]) + np.linalg.norm(p[2] - p[1])) / 2)
        return a, b

    @property
    def height(self) -> float:
        """Line height: the short side (a line photographed sideways has its points turned too)."""
        return min(self._sides())

    @property
    def width(self) -> float:
        """Line length: the long side."""
        return max(self._sides())


_lock = threading.Lock()


@lru_cache(maxsize=1)
def engine() -> Any:
    """The RapidOCR engine, created on first use and shared by the whole process.

    Models come from the installed wheel (``rapidocr_onnxruntime/models``); the
    constructor fails loudly if one is missing rather than fetching anything.
    """
    from rapidocr_onnxruntime import RapidOCR

    threads = get_settings().ocr.threads
    # batches of 3 width-sorted crops: a batch of 6 pads every crop to the widest (the ID line)
    kwargs: dict[str, Any] = {"det_limit_type": "max", "det_limit_side_len": get_settings().ocr.detect_side,
                              "rec_batch_num": 3}
    if threads > 0:
        kwargs |= {"intra_op_num_threads": threads, "inter_op_num_threads": 1}
    return RapidOCR(**kwargs)


def _crop(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Rectified crop of one text box (same geometry as RapidOCR's own cropper)."""
    w = int(max(np.linalg.norm(points[0] - points[1]), np.linalg.norm(points[2] - points[3])))
    h = int(max(np.linalg.norm(points[0] - points[3]), np.linalg.norm(points[1] - points[2])))
    w, h = max(w, 1), max(h, 1)
    dst = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(points.astype(np.float32), dst)
    crop = cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE, flags=cv2.INTER_CUBIC)
    if h / w >= 1.5:
        crop = np.rot90(crop)
    return crop


def detect(image: np.ndarray) -> list[np.ndarray]:
    """Text-line quadrilaterals in ``image`` (BGR) coordinates."""
    settings = get_settings().ocr
    ocr = engine()
    h, w = image.shape[:2]
    scale = min(1.0, settings.detect_side / max(h, w))
    small = cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    with _lock:
        boxes, _ = ocr.text_det(small)
    if boxes is None or len(boxes) == 0:
        return []
    return [np.asarray(b, np.float32) / scale for b in boxes]


def recognise(crops: list[np.ndarray], classify: bool = True) -> list[tuple[str, float]]:
    """Text and confidence for each crop; ``classify`` turns upside-down crops first."""
    if not crops:
        return []
    ocr = engine()
    with _lock:
        if classify:
            crops, _, _ = ocr.text_cls(crops)
        results, _ = ocr.text_rec(crops, False)
    return [(str(text), float(score)) for text, score, *_ in results]


def read_text(image: np.ndarray) -> list[TextBox]:
    """Detect and recognise every text line of ``image`` (BGR uint8)."""
    quads = detect(image)
    texts = recognise([_crop(image, q) for q in quads])
    return [TextBox(q, t, s) for q, (t, s) in zip(quads, texts, strict=True) if t.strip()]


def reread(image: np.ndarray, points: np.ndarray, variants: int = 3) -> list[tuple[str, float]]:
    """Recognise one box again under small changes of crop and contrast.

    Used only where a checksum or a date rule rejected the first reading, so a
    second opinion costs nothing on the common path.
    """
    centre = points.mean(axis=0)
    crops = []
    for grow in (1.08, 0.96, 1.18)[:variants]:
        quad = (points - centre) * np.array([1.0 + (grow - 1) / 4, grow]) + centre
        crop = _crop(image, quad)
        if grow == 0.96:
            gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
            crop = cv2.cvtColor(cv2.createCLAHE(2.0, (4, 4)).apply(gray), cv2.COLOR_GRAY2BGR)
        crops.append(np.ascontiguousarray(crop))
    return recognise(crops, classify=True)
