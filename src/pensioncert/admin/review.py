"""The manual review queue: borderline decisions and retirees who failed several times.

A case is open from the latest "review" record (or the Nth failure since the last pass or
decision) until a reviewer decides it. Records are append-only, so a decision is a new
CertificationRecord (method ``manual_review``, operator = the reviewer) and the queue is derived
from the records themselves: no separate state that could disagree with the history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from pensioncert.certification.service import eligibility_for
from pensioncert.domain.calendar import local_date
from pensioncert.notify.rules import review_key
from pensioncert.settings import get_settings
from pensioncert.storage.models import CertificationRecord, Retiree
from pensioncert.storage.repository import notify, record_certification, utcnow

ACCEPT_REASONS = ("same_person", "confirmed_by_contact")
REJECT_REASONS = ("not_same_person", "replay_suspected", "evidence_unusable")


class ReviewError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ReviewCase:
    retiree: Retiree
    record: CertificationRecord  # the record that opened (or last extended) the case
    kind: str  # "borderline" | "repeated_failures"
    failures: int
    attempts: list[CertificationRecord]  # the unresolved attempts, oldest first


def _closes(record: CertificationRecord) -> bool:
    """A pass, or a reviewer's decision, closes a case; a record *requesting* review (result
    "review": borderline, enrolled reference, retry cap reached) opens one."""
    return record.result in ("passed", "rejected")


_Open = tuple[CertificationRecord, str, int, list[CertificationRecord]]


def _scan(records: list[CertificationRecord]) -> dict[int, _Open]:
    state: dict[int, tuple[CertificationRecord | None, str, int, list[CertificationRecord]]] = {}
    for record in records:
        opened, kind, failures, attempts = state.get(record.retiree_id, (None, "", 0, []))
        if _closes(record):
            state[record.retiree_id] = (None, "", 0, [])
            continue
        attempts = [*attempts, record]
        if record.result == "review":
            opened, kind = record, "borderline"
        elif record.result == "failed":
            failures += 1
            if failures >= get_settings().admin.failures_for_review and kind != "borderline":
                opened, kind = record, "repeated_failures"
        state[record.retiree_id] = (opened, kind, failures, attempts)
    return {rid: (o, k, f, a) for rid, (o, k, f, a) in state.items() if o is not None}


def open_cases(session: Session, retiree_id: int | None = None) -> list[ReviewCase]:
    """Open cases, oldest first (first come, first served)."""
    since = utcnow() - timedelta(days=get_settings().admin.review_lookback_days)
    query = (select(CertificationRecord).where(
        CertificationRecord.created_at >= since,
        or_(CertificationRecord.result.in_(["review", "failed", "passed"]),
            CertificationRecord.method == "manual_review"),
    ).order_by(CertificationRecord.id))
    if retiree_id is not None:
        query = query.where(CertificationRecord.retiree_id == retiree_id)
    found = _scan(list(session.scalars(query)))
    cases = []
    for rid, (record, kind, failures, attempts) in found.items():
        retiree = session.get(Retiree, rid)
        if retiree is not None:
            cases.append(ReviewCase(retiree, record, kind, failures, attempts))
    return sorted(cases, key=lambda case: case.record.id)


def open_case(session: Session, retiree_id: int) -> ReviewCase | None:
    cases = open_cases(session, retiree_id)
    return cases[0] if cases else None


def decide(
    session: Session, retiree_id: int, case_record_id: int, *, accept: bool, reason: str, notes: str, reviewer: str
) -> CertificationRecord:
    """Append the reviewer's decision; an acceptance certifies (resuming a suspended pension).

    ``case_record_id`` is the record the reviewer looked at: if a newer attempt arrived or someone
    else decided meanwhile, the decision is refused rather than applied to evidence nobody saw.
    """
    retiree = session.get(Retiree, retiree_id, with_for_update=True)
    case = open_case(session, retiree_id) if retiree else None
    if retiree is None or case is None:
        raise ReviewError("admin.review.already_decided")
    if case.record.id != case_record_id:
        raise ReviewError("admin.review.stale")
    if reason not in (ACCEPT_REASONS if accept else REJECT_REASONS):
        raise ReviewError("admin.review.reason_required")
    attempt_day: date = local_date(case.record.created_at, get_settings().cycle.time_zone)  # the agency's day
    if accept and not eligibility_for(retiree, attempt_day).may_certify:
        raise ReviewError("admin.review.not_eligible")
    enrolled = _adopt_enrolled_reference(session, retiree, case.record) if accept else None
    notes = notes.strip()[:1900]
    if enrolled is not None:  # the note says so only when a reference was really enrolled
        notes = f"{notes}\n{enrolled}".strip()
    record = record_certification(
        session, retiree, channel=case.record.channel, method="manual_review",
        result="passed" if accept else "rejected", certified_on=attempt_day if accept else None,
        reasons=[f"admin.review.reason.{reason}"], operator=reviewer, session_id=case.record.session_id,
        notes=notes,
    )
    if accept:
        notify(session, retiree.id, "notify.review_accepted", {"certified_on": attempt_day.isoformat()},
               key=review_key(case_record_id))
    else:
        notify(session, retiree.id, "notify.review_rejected", {}, key=review_key(case_record_id))
    return record


def _adopt_enrolled_reference(session: Session, retiree: Retiree, record: CertificationRecord) -> str | None:
    """An accepted case makes the face it was judged on the retiree's reference; returns the note to keep.

    With no registry photo, the reviewed recording's best frame (enrolment policy) or this session's
    ID-card portrait (card flow) becomes the reference, and only here: neither ever becomes the
    reference before a person has looked, otherwise whoever enrolled first, or whoever showed a card
    (someone else's, or one forged with their own face), would pass every later attempt.
    """
    from pensioncert.certification.flow import card_portrait, store_reference_photo
    from pensioncert.certification.models import SessionMedia
    from pensioncert.storage.crypto import protector_from_settings
    from pensioncert.storage.media_store import media_store_from_settings

    if retiree.reference_photo_encrypted is not None:
        return None
    source = record.scores.get("reference")
    media: SessionMedia | None = None
    if source == "enroll":
        media = session.scalars(
            select(SessionMedia).where(
                SessionMedia.job_id == record.scores.get("job_id"), SessionMedia.kind == "best_frame"
            )
        ).first()
        note = "reference enrolled from this recording"
    elif source == "id_card" and record.session_id is not None:
        media = card_portrait(session, record.session_id)
        note = "reference enrolled from this session's ID-card portrait"
    if media is None:
        return None
    store_reference_photo(protector_from_settings(), retiree, media_store_from_settings().get(media.media_key))
    return note
