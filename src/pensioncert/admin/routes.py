"""The back office router (prefix /admin), assembled from one view module per noun.

The API's ``create_app`` includes ``router``. Every view declares the permission it needs
(``guard.require``); ``roles.MATRIX`` says which role holds which.
"""

from __future__ import annotations

from fastapi import APIRouter

from pensioncert.admin.views import audit, dashboard, offline, passive, retirees, review, session, staff, suspensions

router = APIRouter(prefix="/admin", include_in_schema=False)
for _module in (session, dashboard, retirees, review, offline, passive, suspensions, staff, audit):
    router.include_router(_module.router)
