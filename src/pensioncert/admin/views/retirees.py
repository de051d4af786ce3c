"""Registry search, import, the retiree page, the full ID number on request, and evidence media."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, File, Form, Request, Response, UploadFile

from pensioncert.admin import retirees
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import Protect, Today, admin_router, read_upload
from pensioncert.admin.web import NotFound, render
from pensioncert.errors import CodedError
from pensioncert.registry.importer import apply_registry

router = admin_router()
CanEvidenceView = Annotated[Staff, Depends(require(Permission.EVIDENCE_VIEW))]
CanRegistryImport = Annotated[Staff, Depends(require(Permission.REGISTRY_IMPORT))]
CanRetireeRevealId = Annotated[Staff, Depends(require(Permission.RETIREE_REVEAL_ID))]
CanRetireeView = Annotated[Staff, Depends(require(Permission.RETIREE_VIEW))]


@router.get("/retirees")
def search(*, request: Request, q: str = "", staff: CanRetireeView,
           protector: Protect, day: Today) -> Response:
    found = retirees.search(staff.db, protector, q, day)
    if q.strip():
        # The query may be an ID number: audit only its masked form and the retirees it showed.
        shown = q.strip() if not any(ch.isdigit() for ch in q) else q.strip()[:6] + "…"
        staff.audit("admin.search", query=shown, results=[r.id for r in found])
    return render(request, "retirees.html", staff=staff, q=q, found=found)


@router.get("/retirees/{retiree_id}")
def retiree_page(*, request: Request, retiree_id: int, staff: CanRetireeView,
                 day: Today) -> Response:
    page = retirees.retiree_page(staff.db, retiree_id, day)
    if page is None:
        raise NotFound()
    staff.audit("admin.view_retiree", retiree_id=retiree_id)
    return render(request, "retiree.html", staff=staff, page=page, full_id=None,
                  show_evidence=staff.can(Permission.EVIDENCE_VIEW))


@router.post("/retirees/{retiree_id}/reveal")
def reveal(*, request: Request, retiree_id: int, staff: CanRetireeRevealId,
           protector: Protect, day: Today) -> Response:
    page = retirees.retiree_page(staff.db, retiree_id, day)
    if page is None:
        raise NotFound()
    staff.audit("admin.reveal_id", retiree_id=retiree_id)
    return render(request, "retiree.html", staff=staff, page=page,
                  full_id=retirees.reveal_id_number(page.retiree, protector),
                  show_evidence=staff.can(Permission.EVIDENCE_VIEW))


@router.get("/evidence/{job_id}")
def evidence(*, job_id: str, staff: CanEvidenceView) -> Response:
    found = retirees.evidence_media(staff.db, job_id)
    if found is None:
        raise NotFound()
    job, data = found
    staff.audit("admin.view_evidence", retiree_id=retirees.retiree_of_job(staff.db, job), job=job.id)
    return Response(data, media_type=job.media_content_type or "application/octet-stream",
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
                             "Content-Disposition": "inline"})


@router.get("/registry/import")
def import_form(*, request: Request, staff: CanRegistryImport) -> Response:
    return render(request, "registry_import.html", staff=staff, report=None, error=None)


@router.post("/registry/import")
async def import_upload(*, request: Request, file: Annotated[UploadFile, File()],
                        partial: Annotated[bool, Form()] = False,
                        staff: CanRegistryImport,
                        protector: Protect, day: Today) -> Response:
    name = file.filename or "registry.csv"
    try:
        report = apply_registry(staff.db, protector, await read_upload(file), name, day, partial=partial)
    except CodedError as error:
        staff.audit("admin.registry_import_refused", file=name, code=error.code)
        return render(request, "registry_import.html", 400, staff=staff, report=None,
                      error=(error.code, error.params))
    staff.audit("admin.registry_import", file=name, rows=report.rows, rejected=len(report.errors),
                created=report.created, updated=report.updated, unchanged=report.unchanged,
                committed=report.committed, partial=partial)
    return render(request, "registry_import.html", 200 if report.committed else 422, staff=staff, error=None,
                  report=report)
