"""The manual review queue: list, one case with its evidence, accept or reject with a reason."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from pensioncert.admin import retirees, review
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import Today, admin_router
from pensioncert.admin.web import NotFound, redirect, render

router = admin_router()
CanReview = Annotated[Staff, Depends(require(Permission.REVIEW))]


@router.get("/review")
def queue(*, request: Request, done: str = "", staff: CanReview) -> Response:
    cases = review.open_cases(staff.db)
    staff.audit("admin.view_review_queue", open=len(cases))
    return render(request, "review_queue.html", staff=staff, cases=cases, done=done)


def _case_page(request: Request, staff: Staff, retiree_id: int, day: date, error: str | None = None) -> Response:
    case = review.open_case(staff.db, retiree_id)
    page = retirees.retiree_page(staff.db, retiree_id, day)
    if case is None or page is None:
        raise NotFound()
    staff.audit("admin.view_review_case", retiree_id=retiree_id, record=case.record.id)
    return render(request, "review_case.html", 400 if error else 200, staff=staff, case=case, page=page,
                  error=error, accept_reasons=review.ACCEPT_REASONS, reject_reasons=review.REJECT_REASONS)


@router.get("/review/{retiree_id}")
def case(*, request: Request, retiree_id: int, staff: CanReview,
         day: Today) -> Response:
    return _case_page(request, staff, retiree_id, day)


@router.post("/review/{retiree_id}/decide")
def decide(*,
    request: Request,
    retiree_id: int,
    case_record_id: Annotated[int, Form()],
    decision: Annotated[str, Form()],
    reason: Annotated[str, Form()] = "",
    notes: Annotated[str, Form()] = "",
    staff: CanReview,
    day: Today,
) -> Response:
    accept = decision == "accept"
    try:
        record = review.decide(staff.db, retiree_id, case_record_id, accept=accept, reason=reason, notes=notes,
                               reviewer=staff.username)
    except review.ReviewError as refused:
        if refused.code in ("admin.review.already_decided",):
            return redirect("/admin/review?done=already")
        return _case_page(request, staff, retiree_id, day, error=refused.code)
    staff.audit("admin.review_accept" if accept else "admin.review_reject", retiree_id=retiree_id,
                case_record=case_record_id, record=record.id, reason=reason)
    return redirect(f"/admin/review?done={'accepted' if accept else 'rejected'}")
