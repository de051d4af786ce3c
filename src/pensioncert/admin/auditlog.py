"""The audit trail as the auditor reads it: who did or saw what, about whom, when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number
from pensioncert.storage.crypto import Protector
from pensioncert.storage.models import AuditEntry, Retiree
from pensioncert.storage.repository import find_retiree

PAGE = 200


@dataclass(frozen=True)
class AuditFilter:
    actor: str = ""
    action: str = ""
    retiree: str = ""  # full ID number, or a name
    day_from: date | None = None
    day_to: date | None = None
    views_only: bool = False  # only entries where someone saw a retiree's data


VIEW_ACTIONS = ("admin.view_retiree", "admin.reveal_id", "admin.view_evidence", "admin.view_review_case",
                "admin.export_suspensions", "admin.export_resumptions")


def entries(session: Session, protector: Protector, wanted: AuditFilter) -> list[tuple[AuditEntry, Retiree | None]]:
    """Newest first, at most PAGE entries."""
    query = select(AuditEntry, Retiree).outerjoin(Retiree, Retiree.id == AuditEntry.retiree_id)
    if wanted.actor:
        query = query.where(AuditEntry.actor == wanted.actor.strip().lower())
    if wanted.action:
        query = query.where(AuditEntry.action == wanted.action)
    if wanted.views_only:
        query = query.where(AuditEntry.action.in_(VIEW_ACTIONS))
    if wanted.retiree.strip():
        try:
            found = find_retiree(session, protector, parse_id_number(wanted.retiree).normalized)
            ids = [found.id] if found else []
        except InvalidIdNumber:
            ids = list(session.scalars(select(Retiree.id).where(Retiree.name == wanted.retiree.strip())))
        query = query.where(AuditEntry.retiree_id.in_(ids))
    if wanted.day_from:
        query = query.where(AuditEntry.at >= datetime.combine(wanted.day_from, time.min))
    if wanted.day_to:
        query = query.where(AuditEntry.at < datetime.combine(wanted.day_to + timedelta(days=1), time.min))
    return [(entry, retiree) for entry, retiree in
            session.execute(query.order_by(AuditEntry.id.desc()).limit(PAGE)).tuples()]


def actions(session: Session) -> list[str]:
    return sorted(set(session.scalars(select(AuditEntry.action).distinct())))
