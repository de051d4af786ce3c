"""Retention: raw biometric media is kept for the minimum time.

Recordings and frames are deleted once their job is decided and the retention
period (settings.security.media_retention_days) has passed; the decision, its
reasons and the audit trail stay.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.storage.media_store import MediaStore
from pensioncert.storage.models import VerificationJob
from pensioncert.storage.repository import audit


def purge_expired_media(session: Session, store: MediaStore, now: datetime, retention_days: int) -> int:
    """Delete the media of jobs decided more than ``retention_days`` ago; return how many."""
    cutoff = now - timedelta(days=retention_days)
    jobs = session.scalars(
        select(VerificationJob).where(
            VerificationJob.state == "decided",
            VerificationJob.decided_at <= cutoff,
            VerificationJob.media_path.is_not(None),
            VerificationJob.media_deleted_at.is_(None),
        )
    )
    purged = 0
    for job in jobs:
        assert job.media_path is not None
        store.delete(job.media_path)
        job.media_path = None
        job.media_deleted_at = now
        purged += 1
    if purged:
        audit(session, actor="system", role="system", action="purge_media",
              detail={"jobs": purged, "cutoff": cutoff.isoformat()})
    return purged
