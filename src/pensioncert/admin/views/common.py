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
    """The agency's calendar day (settings.cycle.time_zone): the same day the API and the CLI see."""
    from pensioncert.clock import agency_today

    return agency_today()


class UploadTooLarge(CodedError):
    code = "admin.registry.too_large"


async def read_upload(file: UploadFile) -> bytes:
    """The uploaded file, refusing anything above settings.admin.max_upload_bytes without reading further.

    The protection middleware already refused a larger request body before it was read; this is
    the check for an app mounted without it."""
    from pensioncert.settings import get_settings

    limit = get_settings().admin.max_upload_bytes
    raw = await file.read(limit + 1)
    if len(raw) > limit:
        raise UploadTooLarge(f"{file.filename}: more than {limit} bytes")
    return raw


Protect = Annotated[Protector, Depends(admin_protector)]
Today = Annotated[date, Depends(today)]
