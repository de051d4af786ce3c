"""The dashboard: programme counts by district and pension type, charts, cycle progress."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Response

from pensioncert.admin import charts
from pensioncert.admin.dashboard import CATEGORIES, figures
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import Today, admin_router
from pensioncert.admin.web import render, translator

router = admin_router()
CanDashboard = Annotated[Staff, Depends(require(Permission.DASHBOARD))]


@router.get("/dashboard")
def dashboard(*, request: Request, staff: CanDashboard,
              day: Today) -> Response:
    data = figures(staff.db, day)
    t = translator(staff.lang)

    def label(kind: str) -> str:
        return t(f"admin.category.{kind}")

    pension_groups = {t(f"admin.pension_type.{name}"): counts for name, counts in data.by_pension_type.items()}
    chart_uris = {
        "district": charts.stacked_bars(data.by_district, label, t("admin.dashboard.by_district")),
        "pension_type": charts.stacked_bars(pension_groups, label, t("admin.dashboard.by_pension_type")),
        "progress": charts.progress_line(data.progress, t("admin.dashboard.progress")),
    }
    staff.audit("admin.view_dashboard")
    return render(request, "dashboard.html", staff=staff, data=data, categories=CATEGORIES, charts=chart_uris,
                  today=day)
