"""HTML plumbing of the back office: templates, language, security headers, and the route class that
turns the guard's named errors into pages (an APIRouter cannot register exception handlers)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from pensioncert import messages
from pensioncert.admin import words

LANG_COOKIE = "pc_admin_lang"
SECURITY_HEADERS = {
    "Cache-Control": "no-store",  # pages carry personal data: never cached on a shared workstation
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; media-src 'self'; style-src 'self'; "
                               "script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class NeedLogin(Exception):
    """No live staff session: the browser is sent to the login page."""

    def __init__(self, next_path: str = "") -> None:
        super().__init__(next_path)
        self.next_path = next_path


class KeepChanges(Exception):
    """An error after which the request's audit entries must still be committed."""


class Denied(KeepChanges):
    """The signed-in role lacks the permission (already audited as admin.denied)."""

    def __init__(self, code: str = "admin.error.forbidden") -> None:
        super().__init__(code)
        self.code = code


class CsrfFailed(KeepChanges):
    """A state-changing request without this session's CSRF token."""


class NotFound(Exception):
    """The retiree, case or file does not exist (or no longer does)."""


_environment = Environment(
    loader=FileSystemLoader(str(resources.files("pensioncert.admin").joinpath("templates"))),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def language_of(request: Request) -> str:
    """The staff member's chosen language (cookie), else the deployment default."""
    from pensioncert.settings import get_settings

    return request.cookies.get(LANG_COOKIE) or get_settings().default_language


def translator(lang: str) -> Callable[..., str]:
    def t(code: str, **params: Any) -> str:
        return messages.text(code, lang, **params)

    return t


def lenient(lang: str) -> Callable[..., str]:
    """Translate a code from another concern's catalogue if it exists (reasons), else show the code."""

    def maybe(code: str, **params: Any) -> str:
        try:
            return messages.text(code, lang, **params)
        except (messages.UnknownMessage, KeyError, IndexError, ValueError):
            return code

    return maybe


def reason_labeller(lang: str) -> Callable[..., Markup]:
    """A reason code as staff read it: the catalogue message, with the code on hover (title).

    Findings that the phone shows as one message (``liveness.analyse.USER_CODES``) have their
    own staff wording (``admin.reason.staff.<code>``), so a reviewer sees which check it was.

    A code no catalogue knows is shown as "other reason" — never the raw code as the text — so a
    reviewer is not asked to interpret ``face.borderline_match``; the code stays in the title.
    """

    def reason(code: str, **params: Any) -> Markup:
        try:
            label = messages.text(f"admin.reason.staff.{code}", lang, **params)  # a finding users see merged
        except messages.UnknownMessage:
            try:
                label = messages.text(code, lang, **params)
            except (messages.UnknownMessage, KeyError, IndexError, ValueError):
                label = messages.text("admin.reason.unknown", lang)
        return Markup('<span class="reason" title="{}">{}</span>').format(code, label)

    return reason


def masked_phone(phone: str) -> str:
    from pensioncert.notify.rules import mask_phone

    return mask_phone(phone)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """Render a page in the staff member's language, with the security headers every page carries."""
    lang = language_of(request)
    body = _environment.get_template(template).render(
        request=request, t=translator(lang), maybe=lenient(lang), reason=reason_labeller(lang), mask_phone=masked_phone,
        case_kind=words.case_kind, case_explanation=words.case_explanation, notes_of=words.notes_of,
        lang=messages.normalise_language(lang), **context
    )
    return HTMLResponse(body, status_code=status_code, headers=SECURITY_HEADERS)


def redirect(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


class AdminRoute(APIRoute):
    """Turns NeedLogin, Denied, CsrfFailed and NotFound into pages, whichever dependency raised them."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except NeedLogin as need:
                return redirect(f"/admin/login?next={quote(need.next_path, safe='/')}")
            except Denied as denied:
                return render(request, "error.html", 403, staff=None, message_code=denied.code)
            except CsrfFailed:
                return render(request, "error.html", 403, staff=None, message_code="admin.error.csrf")
            except NotFound:
                return render(request, "error.html", 404, staff=None, message_code="admin.error.not_found")

        return guarded
