"""Staff accounts: list, create, deactivate or reactivate, reset a password (administrators only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request, Response
from sqlalchemy import select

from pensioncert.admin import auth
from pensioncert.admin.guard import Staff, require
from pensioncert.admin.roles import Permission, Role
from pensioncert.admin.views.common import admin_router
from pensioncert.admin.web import NotFound, redirect, render
from pensioncert.storage.models import StaffUser

router = admin_router()
CanStaffManage = Annotated[Staff, Depends(require(Permission.STAFF_MANAGE))]


def _page(request: Request, staff: Staff, status_code: int = 200, error: str | None = None) -> Response:
    users = list(staff.db.scalars(select(StaffUser).order_by(StaffUser.username)))
    return render(request, "staff.html", status_code, staff=staff, users=users, roles=list(Role), error=error)


@router.get("/staff")
def staff_page(*, request: Request, staff: CanStaffManage) -> Response:
    return _page(request, staff)


@router.post("/staff")
def staff_add(*, request: Request, username: Annotated[str, Form()], role: Annotated[str, Form()],
              password: Annotated[str, Form()], display_name: Annotated[str, Form()] = "",
              staff: CanStaffManage) -> Response:
    try:
        user = auth.create_staff(staff.db, username, password, role, display_name.strip()[:64])
    except auth.AccountError as refused:
        return _page(request, staff, 400, refused.code)
    staff.audit("admin.staff_add", username=user.username, new_role=user.role)
    return redirect("/admin/staff")


def _user(staff: Staff, user_id: int) -> StaffUser:
    user = staff.db.get(StaffUser, user_id)
    if user is None:
        raise NotFound()
    return user


@router.post("/staff/{user_id}/active")
def staff_toggle(*, request: Request, user_id: int, staff: CanStaffManage) -> Response:
    user = _user(staff, user_id)
    if user.id == staff.user.id:
        return _page(request, staff, 400, "admin.staff.not_self")
    user.active = not user.active
    if not user.active:
        auth.revoke_all(staff.db, user)
    staff.audit("admin.staff_active", username=user.username, active=user.active)
    return redirect("/admin/staff")


@router.post("/staff/{user_id}/password")
def staff_password(*, request: Request, user_id: int, password: Annotated[str, Form()],
                   staff: CanStaffManage) -> Response:
    user = _user(staff, user_id)
    try:
        auth.set_password(user, password)
    except auth.AccountError as refused:
        return _page(request, staff, 400, refused.code)
    auth.revoke_all(staff.db, user)
    staff.audit("admin.staff_password", username=user.username)
    return redirect("/admin/staff")


@router.post("/staff/{user_id}/unlock")
def staff_unlock(*, user_id: int, staff: CanStaffManage) -> Response:
    """Lift every sign-in lock and slow-down of an account (both the unlock and who did it are audited)."""
    user = _user(staff, user_id)
    auth.unlock(staff.db, user, by=staff.username, ip=staff.ip)
    staff.audit("admin.staff_unlock", username=user.username)
    return redirect("/admin/staff")
