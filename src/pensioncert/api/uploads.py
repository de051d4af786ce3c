"""Uploads: the recording that answers a challenge. Checked fully before anything changes.

Order of checks (each has its own error code, none leaves a trace but the refusal):
session → challenge (foreign / used / expired / not started / after its answer deadline,
measured when the upload has arrived) → size → type → decodable. Only then is the challenge
consumed, the recording stored encrypted and its verification job queued.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile, status

from pensioncert.api.deps import QueueDep, SettingsDep, StoreDep
from pensioncert.api.present import job_out
from pensioncert.api.schemas import ErrorBody, JobOut
from pensioncert.certification import flow
from pensioncert.storage.db import get_database

router = APIRouter(prefix="/api/v1/sessions", tags=["uploads"])

_CHUNK = 1 << 16
VIDEO_TYPES = {"video/webm", "video/mp4", "video/quicktime", "video/x-matroska", "video/3gpp"}
IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/heic", "image/bmp"}


def read_limited(upload: UploadFile, limit: int, *, kind: str) -> bytes:
    """Read an upload without ever holding more than ``limit`` + one chunk; refuse bigger or empty ones."""
    chunks: list[bytes] = []
    total = 0
    upload.file.seek(0)
    while chunk := upload.file.read(_CHUNK):
        total += len(chunk)
        if total > limit:
            raise flow.FlowError("upload.too_large", 413, limit_mb=round(limit / 1024 / 1024, 1))
        chunks.append(chunk)
    if total == 0:
        raise flow.FlowError("upload.empty", 422)
    data = b"".join(chunks)
    declared = (upload.content_type or "").split(";")[0].strip().lower()
    allowed = VIDEO_TYPES if kind == "video" else IMAGE_TYPES
    sniffed = sniff_video(data) if kind == "video" else sniff_image(data)
    # Some in-app browsers send application/octet-stream: the bytes decide, a lying label is refused.
    if sniffed is None or (declared not in allowed and declared not in ("", "application/octet-stream")):
        raise flow.FlowError("upload.unsupported_type", 415, kind=kind)
    return data


def sniff_video(data: bytes) -> str | None:
    """The container by its magic bytes: WebM/Matroska (EBML) or MP4/QuickTime (ftyp)."""
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if data[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return "video/mp4"
    return None


def sniff_image(data: bytes) -> str | None:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:2] == b"BM":
        return "image/bmp"
    if data[4:12] in (b"ftypheic", b"ftypmif1", b"ftypheix"):
        return "image/heic"
    return None


def check_decodable(data: bytes) -> None:
    """Refuse a corrupt, cut or endless file now, from its structure (``media.decode.check_media``).

    The worker decodes every frame anyway; damage inside a later frame is refused there, with
    the same ``media.*`` code, as the recording's result.
    """
    from pensioncert.media.decode import MediaError, check_media

    try:
        check_media(data)
    except MediaError as bad:
        status_code = 413 if bad.code in ("media.too_large", "media.dimensions_too_large") else 422
        raise flow.FlowError(bad.code, status_code) from bad


@router.post("/{session_id}/recordings", status_code=status.HTTP_202_ACCEPTED, response_model=JobOut,
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 413: {"model": ErrorBody},
                        415: {"model": ErrorBody}, 422: {"model": ErrorBody}})
def upload_recording(
    session_id: str,
    challenge_id: Annotated[str, Form(max_length=64)],
    video: Annotated[UploadFile, File(description="WebM or MP4 recording answering the challenge")],
    settings: SettingsDep,
    store: StoreDep,
    queue: QueueDep,
) -> JobOut:
    """Accept the recording for a challenge and queue its verification; follow it with ``/jobs/{id}``."""
    with get_database().session() as db:  # committed before the job is queued, so a worker always finds it
        cert_session = flow.load_session(db, session_id)
        now = flow.utcnow()
        challenge = flow.check_challenge(db, cert_session, challenge_id, now)
        data = read_limited(video, settings.upload.max_video_bytes, kind="video")
        check_decodable(data)
        job = flow.accept_recording(db, cert_session, challenge, store, data=data,
                                    content_type=video.content_type or "", now=now)
        db.flush()
        response = job_out(job)
    queue.enqueue(response.id)
    return response
