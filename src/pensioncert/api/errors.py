"""Errors as the API returns them: a stable code, the message in both languages, parameters.

Every error body has the same shape, so a phone page (or an integrator) needs one
handler: ``{"error": {"code": "upload.too_large", "message": {"zh": …, "en": …}, "params": {…}}}``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from pensioncert import messages
from pensioncert.certification.flow import FlowError

log = logging.getLogger(__name__)

_HTTP_CODES = {404: "api.not_found", 405: "api.method_not_allowed"}


def error_body(code: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape; unknown codes fall back to a generic message rather than a 500."""
    params = params or {}
    try:
        message = messages.both(code, **params)
    except (messages.UnknownMessage, KeyError, IndexError):
        log.error("error code without message: %s", code)
        message = messages.both("api.error")
    return {"error": {"code": code, "message": message, "params": params}}


def error_response(status: int, code: str, params: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, params), status_code=status)


# The database could not be reached (down, restarting, failing over, pool exhausted): a moment's
# outage, answered 503 + Retry-After rather than 500, and the next request reconnects by itself
# (pool_pre_ping). Issue 13.9.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeout)


def unavailable_response(path: str) -> Response:
    """503 with Retry-After: the API's error shape on /api/, a short text elsewhere (pages, back office)."""
    from pensioncert.settings import get_settings

    wait = get_settings().security.unavailable_retry_after_seconds
    headers = {"Retry-After": str(wait)}
    if path.startswith("/api/"):
        return JSONResponse(error_body("api.unavailable", {"retry_after": wait}), status_code=503, headers=headers)
    return PlainTextResponse(messages.text("api.unavailable", "zh", retry_after=wait) + "\n"
                             + messages.text("api.unavailable", "en", retry_after=wait), status_code=503,
                             headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map flow errors, validation errors, HTTP errors and database outages to the one error shape."""

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def _database_unavailable(request: Request, error: Exception) -> Response:
        log.warning("database unavailable (%s): 503", type(error).__name__)
        return unavailable_response(request.url.path)

    @app.exception_handler(FlowError)
    async def _flow_error(_request: Request, error: FlowError) -> JSONResponse:
        return error_response(error.status, error.code, error.params)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, error: RequestValidationError) -> Response:
        if not request.url.path.startswith("/api/"):
            return await request_validation_exception_handler(request, error)
        fields = sorted({".".join(str(part) for part in item.get("loc", ())[1:]) for item in error.errors()})
        return error_response(422, "api.invalid_request", {"fields": ", ".join(fields)})

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, error: StarletteHTTPException) -> Response:
        if not request.url.path.startswith("/api/"):  # pages and the back office keep their own handling
            return await http_exception_handler(request, error)
        code = _HTTP_CODES.get(error.status_code, "api.error")
        return error_response(error.status_code, code)
