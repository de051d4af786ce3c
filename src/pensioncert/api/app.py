"""The ASGI application factory: public API, phone pages and (when installed) the back office."""

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from pensioncert import __version__
from pensioncert.api import challenges, qr, queries, readiness, results, sessions, uploads
from pensioncert.api.errors import install_error_handlers
from pensioncert.api.protection import install_protection
from pensioncert.jobs.queue import JobQueue, make_queue

log = logging.getLogger(__name__)

DESCRIPTION = """Pension entitlement (proof-of-life) certification, offline and self-hosted.

Flow: `POST /api/v1/sessions` → `POST …/identity` (or `…/id-card` then `…/identity`) →
`POST …/challenges` → `POST …/recordings` → poll `GET /api/v1/jobs/{id}` → `GET …/result`.
Every error body is `{"error": {"code", "message": {"zh", "en"}, "params"}}`; codes are stable.
"""


def create_app(queue: JobQueue | None = None, challenge_rng: random.Random | None = None) -> FastAPI:
    """Build the application.

    ``queue`` overrides the job backend chosen by settings; ``challenge_rng`` replaces the
    system's random source for challenges, so that tests can pre-render the synthetic
    subject's answer. Both are for tests; ``uvicorn --factory`` passes neither.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from pensioncert.jobs.retention import RetentionTimer, purge_now
        from pensioncert.jobs.verification import recover
        from pensioncert.settings import get_settings
        from pensioncert.storage.db import get_database

        get_database()  # migrate before the first request
        app.state.job_queue = queue or make_queue()
        for job_id in recover():
            app.state.job_queue.enqueue(job_id)
        retention = RetentionTimer(purge_now, timedelta(hours=get_settings().security.retention_sweep_hours))
        retention.start()
        try:
            yield
        finally:
            retention.stop()
            app.state.job_queue.shutdown(wait=True)

    app = FastAPI(title="pensioncert", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.challenge_rng = challenge_rng
    install_error_handlers(app)
    from pensioncert.admin.guard import has_live_session

    # abuse controls and security headers (api/protection.py); back-office POSTs need a staff session first
    install_protection(app, staff_gate=has_live_session)
    for module in (sessions, challenges, uploads, results, queries, qr, readiness):
        app.include_router(module.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    from pensioncert.web.pages import mount_pages

    mount_pages(app)
    from pensioncert.admin.routes import router as admin_router

    app.include_router(admin_router)
    return app
