"""The audit trail for auditors: who did or saw what, about which retiree, when."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Request, Response

from pensioncert.admin import auditlog
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import Protect, admin_router

router = admin_router()
CanAuditView = Annotated[Staff, Depends(require(Permission.AUDIT_VIEW))]


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/audit")
def audit_page(*, request: Request, actor: str = "", action: str = "", retiree: str = "", day_from: str = "",
               day_to: str = "", views_only: str = "", staff: CanAuditView,
               protector: Protect) -> Response:
    from pensioncert.admin.web import render

    wanted = auditlog.AuditFilter(actor=actor, action=action, retiree=retiree, day_from=_day(day_from),
                                  day_to=_day(day_to), views_only=bool(views_only))
    found = auditlog.entries(staff.db, protector, wanted)
    # The auditor's own reading is audited too (without the retiree filter's ID number in clear).
    staff.audit("admin.view_audit", actor_filter=actor, action_filter=action, retiree_filter=bool(retiree))
    return render(request, "audit.html", staff=staff, entries=found, wanted=wanted, actions=auditlog.actions(staff.db))
