"""The ASGI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from pensioncert import __version__


def create_app() -> FastAPI:
    """Build the application: API routers, phone pages and back office."""
    app = FastAPI(title="pensioncert", version=__version__)

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/", response_class=HTMLResponse)
    def index() -> str:
        return "<!doctype html><title>pensioncert</title><h1>养老金资格认证 pensioncert</h1>"

    return app
