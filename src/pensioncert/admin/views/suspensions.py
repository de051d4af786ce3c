"""Suspension and resumption lists, the overdue sweep, and their CSV/XLSX exports for the payment system."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request, Response

from pensioncert.admin import suspensions
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import Protect, Today, admin_router
from pensioncert.admin.web import NotFound, redirect, render
from pensioncert.jobs.overdue import suspend_overdue
from pensioncert.registry import tables
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import Protector

router = admin_router()
CanSuspensions = Annotated[Staff, Depends(require(Permission.SUSPENSIONS))]
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8",
               "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@router.get("/suspensions")
def suspension_page(*, request: Request, swept: int | None = None,
                    staff: CanSuspensions, day: Today) -> Response:
    rows = suspensions.suspended(staff.db, day)
    resumed = suspensions.resumptions(staff.db, suspensions.default_resumption_since(day))
    staff.audit("admin.view_suspensions", suspended=len(rows), resumed=len(resumed))
    return render(request, "suspensions.html", staff=staff, rows=rows, resumed=resumed, swept=swept)


@router.post("/suspensions/sweep")
def sweep(*, staff: CanSuspensions, day: Today) -> Response:
    count = suspend_overdue(staff.db, day, get_settings().cycle, actor=staff.username)
    staff.audit("admin.overdue_sweep", suspended=count)
    return redirect(f"/admin/suspensions?swept={count}")


@router.get("/suspensions/export")
def export(*, kind: str = "suspensions", format: str = "csv", staff: CanSuspensions,
           protector: Protect, day: Today) -> Response:
    if format not in MEDIA_TYPES or kind not in ("suspensions", "resumptions"):
        raise NotFound()
    header, rows = export_rows(staff, protector, kind, day)
    body = tables.to_csv(header, rows) if format == "csv" else tables.to_xlsx(header, rows, kind)
    staff.audit(f"admin.export_{kind}", format=format, rows=len(rows))
    disposition = f'attachment; filename="{kind}-{day.isoformat()}.{format}"'
    return Response(body, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": disposition, "Cache-Control": "no-store"})


def export_rows(staff: Staff, protector: Protector, kind: str, day: date) -> tuple[tuple[str, ...], list[list[object]]]:
    if kind == "suspensions":
        return suspensions.SUSPENSION_HEADER, suspensions.suspension_rows(suspensions.suspended(staff.db, day),
                                                                         protector)
    pairs = suspensions.resumptions(staff.db, suspensions.default_resumption_since(day))
    return suspensions.RESUMPTION_HEADER, suspensions.resumption_rows(pairs, protector)
