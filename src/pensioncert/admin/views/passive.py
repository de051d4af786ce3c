"""Passive certification: import trusted evidence of life; configure the evidence types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, Response, UploadFile
from sqlalchemy import select

from pensioncert.admin import passive
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.models import PassiveEvidenceType
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import Protect, Today, admin_router, read_upload
from pensioncert.admin.web import NotFound, redirect, render
from pensioncert.errors import CodedError

router = admin_router()
CanPassiveImport = Annotated[Staff, Depends(require(Permission.PASSIVE_IMPORT))]


def _page(request: Request, staff: Staff, status_code: int = 200, **extra: object) -> Response:
    context: dict[str, object] = {"report": None, "error": None, "type_error": None, **extra}
    return render(request, "passive.html", status_code, staff=staff, types=passive.evidence_types(staff.db),
                  **context)


@router.get("/passive")
def passive_page(*, request: Request, staff: CanPassiveImport) -> Response:
    return _page(request, staff)


@router.post("/passive/import")
async def passive_import(*, request: Request, file: Annotated[UploadFile, File()],
                         staff: CanPassiveImport,
                         protector: Protect, day: Today) -> Response:
    name = file.filename or "evidence.csv"
    try:
        report = passive.import_evidence(staff.db, protector, await read_upload(file), name, day, staff.username)
    except CodedError as refused:
        staff.audit("admin.passive_import_refused", file=name, code=refused.code)
        return _page(request, staff, 400, error=(refused.code, refused.params))
    staff.audit("admin.passive_import", file=name, rows=report.rows, certified=report.certified,
                already=report.already_certified, rejected=len(report.errors))
    return _page(request, staff, report=report)


@router.post("/passive/types")
def add_type(*, request: Request, code: Annotated[str, Form()], label_zh: Annotated[str, Form()],
             label_en: Annotated[str, Form()], max_age_days: Annotated[int, Form()] = 90,
             staff: CanPassiveImport) -> Response:
    try:
        passive.add_evidence_type(staff.db, code, label_zh, label_en, max_age_days)
    except passive.PassiveError as refused:
        return _page(request, staff, 400, type_error=refused.code)
    staff.audit("admin.passive_type_add", code=code)
    return redirect("/admin/passive")


@router.post("/passive/types/{code}/toggle")
def toggle_type(*, code: str, staff: CanPassiveImport) -> Response:
    kind = staff.db.scalar(select(PassiveEvidenceType).where(PassiveEvidenceType.code == code))
    if kind is None:
        raise NotFound()
    kind.active = not kind.active
    staff.audit("admin.passive_type_toggle", code=code, active=kind.active)
    return redirect("/admin/passive")
