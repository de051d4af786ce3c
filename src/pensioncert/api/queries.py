"""Queries: "when can I certify?" and "did it pass?" by name + ID number, without starting a session."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from sqlalchemy.orm import Session

from pensioncert.api.deps import ClientIp, DbSession, ProtectorDep, Today
from pensioncert.api.present import decision_out
from pensioncert.api.schemas import DecisionOut, ErrorBody, Message, QueryIn, QueryOut, RecordOut
from pensioncert.certification import flow
from pensioncert.certification.service import eligibility_for
from pensioncert.domain.calendar import local_date
from pensioncert.domain.eligibility import Decision, DecisionCode, names_match
from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import Protector
from pensioncert.storage.models import CertificationRecord, Retiree
from pensioncert.storage.repository import audit, find_retiree, history

router = APIRouter(prefix="/api/v1/queries", tags=["queries"], responses={422: {"model": ErrorBody}})

HISTORY_LIMIT = 20


def _lookup(db: Session, protector: Protector, body: QueryIn, today: date, ip: str,
            action: str) -> tuple[flow.Identification, Retiree | None]:
    try:
        info = parse_id_number(body.id_number, today=today)
    except InvalidIdNumber as invalid:
        raise flow.FlowError(invalid.code, 422) from invalid
    retiree = find_retiree(db, protector, info.normalized)
    if retiree is not None and not names_match(body.name, retiree.name):
        identification = flow.Identification(Decision(DecisionCode.NAME_MISMATCH, may_certify=False), None)
        retiree = None
    else:
        identification = flow.Identification(eligibility_for(retiree, today), retiree)
    audit(db, actor="public", role="public", action=action, retiree_id=retiree.id if retiree else None,
          detail={"decision": identification.decision.code.value}, ip=ip)
    return identification, retiree


@router.post("/period", response_model=DecisionOut)
def certification_period(body: QueryIn, db: DbSession, protector: ProtectorDep, today: Today,
                         ip: ClientIp) -> DecisionOut:
    """The seed's "how to query the verification time": within the period, or the period to come."""
    identification, _ = _lookup(db, protector, body, today, ip, "query.period")
    return decision_out(identification)


@router.post("/history", response_model=QueryOut)
def certification_history(body: QueryIn, db: DbSession, protector: ProtectorDep, today: Today,
                          ip: ClientIp) -> QueryOut:
    """The decision plus the latest certification records (how to be sure a certification passed)."""
    identification, retiree = _lookup(db, protector, body, today, ip, "query.history")
    records: list[RecordOut] = []
    if retiree is not None:
        for record, final in attempts(history(db, retiree.id))[:HISTORY_LIMIT]:
            records.append(RecordOut(
                date=record.certified_on or final.certified_on
                or local_date(record.created_at, get_settings().cycle.time_zone),
                channel=record.channel,
                method=record.method,
                result=final.result,
                proxy=record.proxy_name is not None,
                result_message=Message.of(f"history.{final.result}" if final.result in _KNOWN else "history.other"),
            ))
    return QueryOut(decision=decision_out(identification), history=records)


def attempts(records: list[CertificationRecord]) -> list[tuple[CertificationRecord, CertificationRecord]]:
    """One row per attempt with its final outcome, newest first: a reviewer's decision (an appended
    ``manual_review`` record) is folded into the attempt that asked for review, not listed beside it."""
    decisions = {r.session_id: r for r in reversed(records) if _is_decision(r)}
    asked = {r.session_id for r in records if r.result == "review" and r.session_id in decisions}
    rows: list[tuple[CertificationRecord, CertificationRecord]] = []
    folded: set[str | None] = set()
    for record in records:  # newest first
        if _is_decision(record) and record.session_id in asked:
            continue
        if record.result == "review" and record.session_id in decisions and record.session_id not in folded:
            folded.add(record.session_id)
            rows.append((record, decisions[record.session_id]))
        else:
            rows.append((record, record))
    return rows


def _is_decision(record: CertificationRecord) -> bool:
    """A reviewer's decision on a phone session (the request for review is a manual_review record too)."""
    return record.method == "manual_review" and record.result in ("passed", "rejected") and bool(record.session_id)


_KNOWN = {"passed", "failed", "review", "rejected"}
