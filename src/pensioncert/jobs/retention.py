"""Retention: raw biometric media is kept for the minimum time.

Recordings are deleted once their job is decided and the retention period
(settings.security.media_retention_days) has passed; ID-card portraits and best
frames of sessions older than that go too (a portrait adopted as the registry
reference lives on, encrypted, in the retiree row). Motion traces (no image: the
replay check's memory) go after ``motion_trace_retention_days``, one cycle and its
window. The decision, its reasons and the audit trail stay. The API process runs the purge periodically
(``RetentionTimer``); ``pensioncert purge-media`` runs it once (cron).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pensioncert.certification.models import SessionMedia
from pensioncert.storage.media_store import MediaStore
from pensioncert.storage.models import MotionTraceRow, VerificationJob
from pensioncert.storage.repository import audit

log = logging.getLogger(__name__)


def purge_expired_media(session: Session, store: MediaStore, now: datetime, retention_days: int,
                        trace_retention_days: int | None = None) -> int:
    """Delete recordings and session media past retention, and motion traces past theirs
    (``trace_retention_days``; None: kept); return how many items were deleted."""
    cutoff = now - timedelta(days=retention_days)
    jobs = session.scalars(
        select(VerificationJob).where(
            VerificationJob.state == "decided",
            VerificationJob.decided_at <= cutoff,
            VerificationJob.media_path.is_not(None),
            VerificationJob.media_deleted_at.is_(None),
        )
    )
    recordings = 0
    for job in jobs:
        assert job.media_path is not None
        store.delete(job.media_path)
        job.media_path = None
        job.media_deleted_at = now
        recordings += 1
    session_media = 0
    for item in session.scalars(select(SessionMedia).where(SessionMedia.created_at <= cutoff)):
        store.delete(item.media_key)
        session.delete(item)
        session_media += 1
    traces = 0
    if trace_retention_days is not None:
        traces = session.execute(
            delete(MotionTraceRow).where(MotionTraceRow.created_at <= now - timedelta(days=trace_retention_days))
            .execution_options(synchronize_session=False)
        ).rowcount
    if recordings or session_media or traces:
        audit(session, actor="system", role="system", action="purge_media",
              detail={"jobs": recordings, "session_media": session_media, "motion_traces": traces,
                      "cutoff": cutoff.isoformat()})
    return recordings + session_media + traces


class RetentionTimer:
    """Runs the purge in a daemon thread every ``interval`` (first run at start)."""

    def __init__(self, run_once: Callable[[], object], interval: timedelta) -> None:
        self._run_once = run_once
        self._interval = interval.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self._run_once()
            except Exception:  # a failed purge is retried next interval; it must not kill the API
                log.exception("media retention purge failed")
            self._stop.wait(self._interval)


def purge_now() -> int:
    """One purge with the configured store, database and retention period."""
    from pensioncert.settings import get_settings
    from pensioncert.storage.db import get_database
    from pensioncert.storage.media_store import media_store_from_settings

    security = get_settings().security
    with get_database().session() as session:
        return purge_expired_media(session, media_store_from_settings(), datetime.now(UTC),
                                   security.media_retention_days, security.motion_trace_retention_days)
