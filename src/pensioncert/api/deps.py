"""FastAPI dependencies: the unit of work, settings, the media store, the job queue, today."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from pensioncert import clock
from pensioncert.jobs.queue import JobQueue
from pensioncert.settings import Settings, get_settings
from pensioncert.storage.crypto import Protector, protector_from_settings
from pensioncert.storage.db import get_database
from pensioncert.storage.media_store import MediaStore, media_store_from_settings


def db_session() -> Iterator[Session]:
    """One unit of work per request: committed when the route returns, rolled back on any error."""
    with get_database().session() as session:
        yield session


def settings() -> Settings:
    return get_settings()


def protector() -> Protector:
    return protector_from_settings()


def media_store() -> MediaStore:
    return media_store_from_settings()


def job_queue(request: Request) -> JobQueue:
    queue: JobQueue = request.app.state.job_queue
    return queue


def today() -> date:
    """The agency's calendar day (settings.cycle.time_zone), whatever the server's zone."""
    return clock.agency_today()


def client_ip(request: Request) -> str:
    """The client's address as the rate limits see it (X-Forwarded-For only from trusted proxies)."""
    from pensioncert.clientaddr import client_address

    peer = request.client.host if request.client else ""
    return client_address(peer, request.headers.get("x-forwarded-for"), get_settings().security.trusted_proxies)


DbSession = Annotated[Session, Depends(db_session)]
SettingsDep = Annotated[Settings, Depends(settings)]
ProtectorDep = Annotated[Protector, Depends(protector)]
StoreDep = Annotated[MediaStore, Depends(media_store)]
QueueDep = Annotated[JobQueue, Depends(job_queue)]
Today = Annotated[date, Depends(today)]
ClientIp = Annotated[str, Depends(client_ip)]
