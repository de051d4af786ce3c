"""Sign in, sign out, language, the stylesheet, and the landing page of each role."""

from __future__ import annotations

import secrets
from importlib import resources
from typing import Annotated

from fastapi import Depends, Form, Request, Response
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from pensioncert.admin import auth
from pensioncert.admin.guard import CSRF_FIELD, SESSION_COOKIE, Staff, client_ip, db_session, signed_in
from pensioncert.admin.roles import Permission
from pensioncert.admin.views.common import admin_router
from pensioncert.admin.web import LANG_COOKIE, CsrfFailed, redirect, render

router = admin_router()
LOGIN_CSRF_COOKIE = "pc_admin_login_csrf"
LANDING = (  # first page each role can open, in this order of preference
    (Permission.REVIEW, "/admin/review"),
    (Permission.OFFLINE_CERTIFY, "/admin/offline"),
    (Permission.AUDIT_VIEW, "/admin/audit"),
    (Permission.DASHBOARD, "/admin/dashboard"),
)


def _safe_next(path: str) -> str:
    """Only local back-office paths: no open redirect through ?next=."""
    return path if path.startswith("/admin/") and not path.startswith("//") and "\\" not in path else ""


def _cookie_secure(request: Request) -> bool:
    return request.url.scheme == "https"


@router.get("/login")
def login_page(*, request: Request, next: str = "") -> Response:
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", staff=None, next=_safe_next(next), login_csrf=token, error=None)
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_cookie_secure(request),
                        path="/admin")
    return response


@router.post("/login")
def login_submit(*,
    request: Request,
    username: Annotated[str, Form()],
    password: Annotated[str, Form()],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
    db: Annotated[Session, Depends(db_session)],
) -> Response:
    if not auth.csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), csrf_token):
        raise CsrfFailed()
    result = auth.login(db, username, password, client_ip(request))
    if result.token is None:
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", 401, staff=None, next=_safe_next(next), login_csrf=token,
                          error=result.code, error_params=result.params, username=username)
        if "seconds" in result.params:
            response.headers["Retry-After"] = str(result.params["seconds"])
        response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict",
                            secure=_cookie_secure(request), path="/admin")
        return response
    done = redirect(_safe_next(next) or "/admin/")
    done.set_cookie(SESSION_COOKIE, result.token, httponly=True, samesite="strict", secure=_cookie_secure(request),
                    path="/admin", max_age=int(auth.session_max().total_seconds()))
    done.delete_cookie(LOGIN_CSRF_COOKIE, path="/admin")
    return done


@router.post("/logout")
async def logout(*, request: Request, staff: Annotated[Staff, Depends(signed_in)]) -> Response:
    form = await request.form()
    given = form.get(CSRF_FIELD)
    if not auth.csrf_matches(staff.csrf_token, given if isinstance(given, str) else None):
        raise CsrfFailed()
    auth.logout(staff.db, staff.staff_session)
    staff.audit("admin.logout")
    response = redirect("/admin/login")
    response.delete_cookie(SESSION_COOKIE, path="/admin")
    return response


@router.get("/")
def landing(*, staff: Annotated[Staff, Depends(signed_in)]) -> RedirectResponse:
    for permission, path in LANDING:
        if staff.can(permission):
            return redirect(path)
    return redirect("/admin/login")


@router.get("/lang/{code}")
def set_language(*, code: str, next: str = "") -> Response:
    response = redirect(_safe_next(next) or "/admin/")
    response.set_cookie(LANG_COOKIE, "en" if code == "en" else "zh-CN", samesite="strict", path="/admin",
                        max_age=365 * 86400)
    return response


@router.get("/static/admin.css")
def stylesheet() -> Response:
    css = resources.files("pensioncert.admin").joinpath("static", "admin.css").read_bytes()
    return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})
