"""Finding faces: mediapipe BlazeFace first (milliseconds), dlib HOG as the fallback."""

from __future__ import annotations

from typing import Any

import numpy as np

from pensioncert.biometrics import engines
from pensioncert.biometrics.results import FaceBox, Point, RGBImage

# mediapipe's keypoint order (FaceKeyPoint enum): the subject's right eye comes first.
_KEYPOINT_NAMES = ("right_eye", "left_eye", "nose_tip", "mouth_center", "right_ear", "left_ear")
MIN_SCORE = 0.5  # BlazeFace's own default; lower admits hands and patterns as faces


def detect_faces(image: RGBImage, *, fast: bool = False) -> list[FaceBox]:
    """Faces in ``image``, largest first.

    ``fast=True`` (most video frames) runs only the short-range BlazeFace model, about
    2 ms on 640×480. Stills also run the full-range model (small faces in the
    background) and, when neither finds a face, dlib's HOG detector, which finds
    the small or grey faces of old registry photos.
    """
    faces = _blazeface(image, 0)
    if not fast:
        # The short-range model misses faces under ~15 % of the frame: a helper standing
        # behind the retiree. The full-range model finds them; HOG covers grey, small stills.
        faces = _merge(faces, _blazeface(image, 1))
        if not faces:
            faces = _hog(image)
    return sorted(faces, key=lambda face: face.area, reverse=True)


def _iou(a: FaceBox, b: FaceBox) -> float:
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    if width <= 0 or height <= 0:
        return 0.0
    overlap = width * height
    return overlap / float(a.area + b.area - overlap)


def _merge(primary: list[FaceBox], extra: list[FaceBox]) -> list[FaceBox]:
    """``primary`` plus the faces of ``extra`` that overlap none of them (same face, two models)."""
    merged = list(primary)
    for face in extra:
        if all(_iou(face, kept) < 0.3 for kept in merged):
            merged.append(face)
    return merged


def _blazeface(image: RGBImage, model_selection: int) -> list[FaceBox]:
    height, width = image.shape[:2]
    detector = engines.blazeface(model_selection)
    with engines.MEDIAPIPE_LOCK:
        result: Any = detector.process(image)
    faces = []
    for detection in result.detections or []:
        score = float(detection.score[0])
        if score < MIN_SCORE:
            continue
        box = detection.location_data.relative_bounding_box
        left = int(round(box.xmin * width))
        top = int(round(box.ymin * height))
        right = int(round((box.xmin + box.width) * width))
        bottom = int(round((box.ymin + box.height) * height))
        left, top = max(0, left), max(0, top)
        right, bottom = min(width, right), min(height, bottom)
        if right - left < 8 or bottom - top < 8:
            continue
        keypoints = {
            name: Point(kp.x * width, kp.y * height)
            for name, kp in zip(_KEYPOINT_NAMES, detection.location_data.relative_keypoints, strict=False)
        }
        faces.append(FaceBox(left, top, right, bottom, score, keypoints))
    return faces


def _hog(image: RGBImage) -> list[FaceBox]:
    """dlib HOG with one upsampling (finds faces down to ~40 px); scores mapped into 0–1."""
    detector = engines.hog_detector()
    height, width = image.shape[:2]
    with engines.DLIB_LOCK:
        rects, scores, _ = detector.run(image, 1, 0.0)
    faces = []
    for rect, score in zip(rects, scores, strict=True):
        left, top = max(0, rect.left()), max(0, rect.top())
        right, bottom = min(width, rect.right() + 1), min(height, rect.bottom() + 1)
        faces.append(FaceBox(left, top, right, bottom, float(1.0 / (1.0 + np.exp(-2.0 * score)))))
    return faces


def face_landmarks(image: RGBImage, face: FaceBox) -> dict[str, Point]:
    """Eye centres and nose for ``face``: the detector's keypoints, else dlib's 5-point model."""
    if face.keypoints:
        return face.keypoints
    shape = _shape_5(image, face)
    points = [Point(float(shape.part(i).x), float(shape.part(i).y)) for i in range(5)]
    # dlib 5-point order: image-left eye outer/inner corners are parts 2,3; image-right 0,1; nose 4.
    left_img = Point((points[2].x + points[3].x) / 2, (points[2].y + points[3].y) / 2)
    right_img = Point((points[0].x + points[1].x) / 2, (points[0].y + points[1].y) / 2)
    return {"right_eye": left_img, "left_eye": right_img, "nose_tip": points[4]}


def dlib_rect(face: FaceBox) -> Any:
    """The box as a dlib rectangle (dlib's are inclusive)."""
    import dlib

    return dlib.rectangle(int(face.left), int(face.top), int(face.right) - 1, int(face.bottom) - 1)


def _shape_5(image: RGBImage, face: FaceBox) -> Any:
    predictor = engines.shape_predictor_5()
    with engines.DLIB_LOCK:
        return predictor(image, dlib_rect(face))


ALIGN_FACE_PX = 120  # HOG's window is 80 px; scale the crop so the face sits well above it


def refine_for_alignment(image: RGBImage, face: FaceBox) -> FaceBox:
    """The dlib HOG box for ``face``, re-detected on a small crop around it.

    dlib's 5-point predictor was trained on HOG boxes; BlazeFace boxes sit lower and
    larger, which shifts the landmarks and adds ~0.1 to genuine distances. A HOG pass
    on a ~200 px crop costs a few ms. Falls back to ``face`` when HOG finds nothing.
    """
    import cv2

    height, width = image.shape[:2]
    mx, my = face.width // 2, face.height // 2
    left, top = max(0, face.left - mx), max(0, face.top - my)
    right, bottom = min(width, face.right + mx), min(height, face.bottom + my)
    crop = image[top:bottom, left:right]
    scale = ALIGN_FACE_PX / max(1, face.width)
    if abs(scale - 1.0) > 0.05:
        method = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        crop = np.asarray(cv2.resize(crop, None, fx=scale, fy=scale, interpolation=method), dtype=np.uint8)
    crop = np.ascontiguousarray(crop)
    with engines.DLIB_LOCK:
        rects = engines.hog_detector()(crop, 0)
    if not len(rects):
        return face
    cx, cy = (face.center[0] - left) * scale, (face.center[1] - top) * scale
    best = min(rects, key=lambda r: (r.center().x - cx) ** 2 + (r.center().y - cy) ** 2)
    return FaceBox(
        left + int(round(best.left() / scale)),
        top + int(round(best.top() / scale)),
        left + int(round((best.right() + 1) / scale)),
        top + int(round((best.bottom() + 1) / scale)),
        face.score,
        face.keypoints,
    )
