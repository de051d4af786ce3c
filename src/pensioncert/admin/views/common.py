"""What every view module shares: the router factory and the overridable protector dependency."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile

from pensioncert.admin.web import AdminRoute
from pensioncert.errors import CodedError
from pensioncert.storage.crypto import Protector, protector_from_settings


def admin_router() -> APIRouter:
    return APIRouter(route_class=AdminRoute)


def admin_protector() -> Protector:
    """Keys for ID numbers; tests override this dependency."""
    return protector_from_settings()


def today() -> date:
    return date.today()


# Registry and evidence files from agency systems: a city's registry export stays well below this.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024


class UploadTooLarge(CodedError):
    code = "admin.registry.too_large"


async def read_upload(file: UploadFile) -> bytes:
    """The uploaded file, refusing anything above MAX_UPLOAD_BYTES without reading further."""
    raw = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        raise UploadTooLarge(f"{file.filename}: more than {MAX_UPLOAD_BYTES} bytes")
    return raw


Protect = Annotated[Protector, Depends(admin_protector)]
Today = Annotated[date, Depends(today)]
