"""What every view module shares: the router factory and the overridable protector dependency."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends

from pensioncert.admin.web import AdminRoute
from pensioncert.storage.crypto import Protector, protector_from_settings


def admin_router() -> APIRouter:
    return APIRouter(route_class=AdminRoute)


def admin_protector() -> Protector:
    """Keys for ID numbers; tests override this dependency."""
    return protector_from_settings()


def today() -> date:
    return date.today()


Protect = Annotated[Protector, Depends(admin_protector)]
Today = Annotated[date, Depends(today)]
