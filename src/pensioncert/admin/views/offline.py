"""Offline certification, recorded by the operator who saw the retiree."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Form, Request, Response

from pensioncert.admin import offline
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import Protect, Today, admin_router
from pensioncert.admin.web import render

router = admin_router()
CanOfflineCertify = Annotated[Staff, Depends(require(Permission.OFFLINE_CERTIFY))]


@router.get("/offline")
def offline_form(*, request: Request, staff: CanOfflineCertify,
                 day: Today) -> Response:
    return render(request, "offline.html", staff=staff, channels=offline.CHANNELS, form={"certified_on": day},
                  error=None, outcome=None)


@router.post("/offline")
def offline_submit(*,
    request: Request,
    id_number: Annotated[str, Form()],
    name: Annotated[str, Form()],
    channel: Annotated[str, Form()],
    certified_on: Annotated[date, Form()],
    notes: Annotated[str, Form()] = "",
    proxy_name: Annotated[str, Form()] = "",
    proxy_phone: Annotated[str, Form()] = "",
    proxy_relationship: Annotated[str, Form()] = "",
    staff: CanOfflineCertify,
    protector: Protect,
    day: Today,
) -> Response:
    proxy = (proxy_name.strip()[:64] or None, proxy_phone.strip()[:20] or None, proxy_relationship.strip()[:32] or None)
    form = {"id_number": id_number, "name": name, "channel": channel, "certified_on": certified_on, "notes": notes,
            "proxy_name": proxy_name, "proxy_phone": proxy_phone, "proxy_relationship": proxy_relationship}
    try:
        outcome = offline.record_offline(staff.db, protector, id_number=id_number, name=name, channel=channel,
                                         certified_on=certified_on, today=day, operator=staff.username, notes=notes,
                                         proxy=proxy)
    except offline.OfflineError as refused:
        staff.audit("admin.offline_refused", code=refused.code, channel=channel)
        return render(request, "offline.html", 400, staff=staff, channels=offline.CHANNELS, form=form,
                      error=(refused.code, refused.params), outcome=None)
    staff.audit("admin.offline_certify", retiree_id=outcome.retiree.id, record=outcome.record.id, channel=channel,
                back_pay_months=outcome.record.back_pay_months, proxy=bool(proxy_name.strip()))
    return render(request, "offline.html", staff=staff, channels=offline.CHANNELS, form={"certified_on": day},
                  error=None, outcome=outcome)
