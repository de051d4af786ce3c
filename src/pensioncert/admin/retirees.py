"""A retiree as staff see them: search, the retiree page (history, evidence, notices), full ID number.

Lists show only masked ID numbers; the full number is decrypted on an explicit, audited request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.certification.service import eligibility_for
from pensioncert.domain.eligibility import Decision
from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number
from pensioncert.storage.crypto import Protector
from pensioncert.storage.media_store import MediaNotFound, media_store_from_settings
from pensioncert.storage.models import CertificationRecord, CertSession, Notification, Retiree, VerificationJob
from pensioncert.storage.repository import find_retiree, history

SEARCH_LIMIT = 50


def search(session: Session, protector: Protector, query: str, today: date) -> list[Retiree]:
    """By full ID number (exact, through the keyed hash) or by name (substring)."""
    query = query.strip()
    if not query:
        return []
    try:
        info = parse_id_number(query, today=today)
    except InvalidIdNumber:
        info = None
    if info is not None:
        found = find_retiree(session, protector, info.normalized)
        return [found] if found else []
    pattern = "%" + query.replace("%", "").replace("_", "") + "%"
    return list(session.scalars(select(Retiree).where(Retiree.name.like(pattern)).order_by(Retiree.name)
                                .limit(SEARCH_LIMIT)))


def jobs_of(session: Session, retiree_id: int) -> list[VerificationJob]:
    """Verification jobs of the retiree's phone sessions, newest first."""
    return list(session.scalars(
        select(VerificationJob).join(CertSession, CertSession.id == VerificationJob.session_id)
        .where(CertSession.retiree_id == retiree_id).order_by(VerificationJob.created_at.desc())
    ))


@dataclass(frozen=True)
class RetireePage:
    retiree: Retiree
    decision: Decision
    records: list[CertificationRecord]
    jobs: list[VerificationJob]
    notifications: list[Notification]


def retiree_page(session: Session, retiree_id: int, today: date) -> RetireePage | None:
    retiree = session.get(Retiree, retiree_id)
    if retiree is None:
        return None
    notices = list(session.scalars(select(Notification).where(Notification.retiree_id == retiree_id)
                                   .order_by(Notification.id.desc())))
    return RetireePage(retiree, eligibility_for(retiree, today), history(session, retiree_id),
                       jobs_of(session, retiree_id), notices)


def reveal_id_number(retiree: Retiree, protector: Protector) -> str:
    return protector.decrypt_text(retiree.id_number_encrypted, "id_number")


def evidence_media(session: Session, job_id: str) -> tuple[VerificationJob, bytes] | None:
    """The decrypted best frame or recording of a job; None once retention has deleted it."""
    job = session.get(VerificationJob, job_id)
    if job is None or not job.media_path or job.media_deleted_at is not None:
        return None
    try:
        return job, media_store_from_settings().get(job.media_path)
    except MediaNotFound:
        return None


def retiree_of_job(session: Session, job: VerificationJob) -> int | None:
    cert_session = session.get(CertSession, job.session_id)
    return cert_session.retiree_id if cert_session else None
