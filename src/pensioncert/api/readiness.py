"""Readiness of the live preview: is one face in the circle, close enough, lit, and still?

The phone page shows the camera as soon as the user reaches the face step and sends a
small JPEG of what the user sees about twice a second; the answer is the one line of
guidance the page shows (and speaks) until the face is ready, when the start button is
enabled. The check runs here rather than in the page because a face detector in the page
would be megabytes of script on a cheap phone. Each frame is decoded, judged and dropped:
it is never stored or logged, and a session may send only ``frames_per_minute`` of them.

The judgement (``judge``) is pure, so its order and thresholds are unit-tested without a
detector; thresholds live in ``settings.readiness``.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass

import numpy as np
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from pensioncert.api.deps import DbSession, SettingsDep
from pensioncert.api.schemas import ErrorBody, Message
from pensioncert.certification import flow
from pensioncert.settings import ReadinessSettings

router = APIRouter(prefix="/api/v1/sessions", tags=["readiness"],
                   responses={404: {"model": ErrorBody}, 410: {"model": ErrorBody}, 413: {"model": ErrorBody},
                              422: {"model": ErrorBody}, 429: {"model": ErrorBody}})

# Guidance codes (web.toml), in the order they are checked: the first that applies is shown.
READY = "web.ready.ok"
CODES = ("web.ready.no_face", "web.ready.many_faces", "web.ready.too_dark", "web.ready.too_bright",
         "web.ready.into_circle", "web.ready.closer", "web.ready.farther", "web.ready.hold_still", READY)
SECOND_FACE_MIN_WIDTH = 0.5  # as in biometrics.quality: a second face half as wide is a second person


class ReadinessIn(BaseModel):
    """One preview frame as the user sees it (un-mirrored) and the on-screen circle in its pixels."""

    jpeg: str = Field(description="base64 JPEG of the visible part of the preview")
    circle: tuple[float, float, float] = Field(description="circle centre x, y and radius, in JPEG pixels")
    previous: tuple[float, float, float] | None = Field(
        None, description="face centre x, y and width this endpoint returned for the previous frame")


class ReadinessOut(BaseModel):
    ready: bool
    code: str
    message: Message
    face: tuple[float, float, float] | None = None  # centre x, y and width: send back as ``previous``


@dataclass(frozen=True)
class Seen:
    """What the detector found, reduced to what ``judge`` needs."""

    faces: list[tuple[float, float, float, float]]  # left, top, right, bottom, largest first
    face_luma: float | None  # mean luma of the largest face's inner box
    frame_luma: float


def judge(seen: Seen, circle: tuple[float, float, float], previous: tuple[float, float, float] | None,
          rules: ReadinessSettings) -> tuple[str, tuple[float, float, float] | None]:
    """The guidance code for one frame, and the face (centre x, y, width) to compare the next frame with."""
    if not seen.faces:
        return ("web.ready.too_dark" if seen.frame_luma < rules.dark_scene_luma else "web.ready.no_face"), None
    left, top, right, bottom = seen.faces[0]
    width = right - left
    face = ((left + right) / 2, (top + bottom) / 2, width)
    if any((f[2] - f[0]) >= SECOND_FACE_MIN_WIDTH * width for f in seen.faces[1:]):
        return "web.ready.many_faces", face
    # Light first: a face in the dark is found in the wrong place and at the wrong size.
    luma = seen.face_luma if seen.face_luma is not None else seen.frame_luma
    if luma < rules.min_brightness:
        return "web.ready.too_dark", face
    if luma > rules.max_brightness:
        return "web.ready.too_bright", face
    cx, cy, radius = circle
    if math.hypot(face[0] - cx, face[1] - cy) / radius > rules.max_offset:
        return "web.ready.into_circle", face
    fill = width / radius
    if fill < rules.min_fill:
        return "web.ready.closer", face
    if fill > rules.max_fill:
        return "web.ready.farther", face
    if previous is not None and math.hypot(face[0] - previous[0], face[1] - previous[1]) > rules.max_move * width:
        return "web.ready.hold_still", face
    if previous is None:  # still means two frames in a row in place: ask for one more look
        return "web.ready.hold_still", face
    return READY, face


def look(rgb: np.ndarray) -> Seen:
    """Run the fast face detector on one frame and measure its light."""
    import cv2

    from pensioncert.biometrics.detection import detect_faces

    faces = detect_faces(rgb, fast=True)
    luma = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    face_luma = None
    boxes = [(float(f.left), float(f.top), float(f.right), float(f.bottom)) for f in faces]
    if faces:
        f = faces[0]
        dx, dy = f.width * 0.2, f.height * 0.15  # the skin part, as biometrics.quality measures it
        inner = luma[int(f.top + dy): int(f.bottom - dy / 2), int(f.left + dx): int(f.right - dx)]
        face_luma = float(inner.mean()) if inner.size else None
    return Seen(boxes, face_luma, float(luma.mean()))


def decode(text: str, rules: ReadinessSettings) -> np.ndarray:
    """The frame as RGB, refusing anything large before its pixels are decoded."""
    from PIL import Image, UnidentifiedImageError

    if len(text) > rules.max_jpeg_bytes * 4 // 3 + 8:
        raise flow.FlowError("protection.body_too_large", 413, limit_mb=round(rules.max_jpeg_bytes / 2**20, 2))
    try:
        data = base64.b64decode(text.split(",", 1)[-1], validate=True)
        image = Image.open(io.BytesIO(data))
        if image.format != "JPEG" or max(image.size) > rules.max_side:
            raise flow.FlowError("web.ready.bad_frame", 422)
        return np.asarray(image.convert("RGB"))
    except (binascii.Error, ValueError, UnidentifiedImageError, OSError) as bad:
        raise flow.FlowError("web.ready.bad_frame", 422) from bad


@router.post("/{session_id}/readiness", response_model=ReadinessOut)
def readiness(session_id: str, body: ReadinessIn, request: Request, db: DbSession,
              settings: SettingsDep) -> ReadinessOut:
    """Guidance for one preview frame; the frame is judged in memory and dropped."""
    rules = settings.readiness
    cert_session = flow.load_session(db, session_id)
    limiter = getattr(request.app.state, "readiness_limiter", None)
    if limiter is None:
        from pensioncert.api.protection import make_limiter

        limiter = request.app.state.readiness_limiter = make_limiter(settings)
    wait = limiter.hit(f"readiness:{cert_session.id}", rules.frames_per_minute, 60)
    if wait:
        raise flow.FlowError("protection.rate_limited", 429, retry_after=wait)
    if body.circle[2] <= 0:
        raise flow.FlowError("web.ready.bad_frame", 422)
    code, face = judge(look(decode(body.jpeg, rules)), body.circle, body.previous, rules)
    return ReadinessOut(ready=code == READY, code=code, message=Message.of(code), face=face)
