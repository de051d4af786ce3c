"""All queries in one place: retirees, certification records, audit, the notification outbox."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import Executable, func, or_, select
from sqlalchemy.orm import Session

from pensioncert import clock, messages
from pensioncert.domain.calendar import first_of_next_month
from pensioncert.domain.eligibility import (
    PensionType,
    RegistryStatus,
    RetireeFacts,
    SuspensionReason,
    resumption_on_certification,
)
from pensioncert.domain.idnumber import mask_id_number
from pensioncert.storage.crypto import Protector
from pensioncert.storage.models import (
    AuditEntry,
    CertificationRecord,
    CertSession,
    Challenge,
    Notification,
    Retiree,
    VerificationJob,
)


def utcnow() -> datetime:
    """Now, from the one clock (``pensioncert.clock``)."""
    return clock.now()


@dataclass(frozen=True)
class RetireeInput:
    """One registry row, already validated."""

    id_number: str  # normalised 18 characters
    name: str
    sex: str
    birth_date: date
    region_code: str
    pension_type: str
    retired_locally: bool
    status: str
    first_payment: date
    last_certified: date | None = None
    district: str = ""
    phone: str = ""


UpsertOutcome = Literal["created", "updated", "unchanged"]
_COMPARED = [f.name for f in fields(RetireeInput) if f.name != "id_number"]


def find_retiree(session: Session, protector: Protector, id_number: str) -> Retiree | None:
    """Look a retiree up by normalised ID number through its keyed hash."""
    digest = protector.lookup_hash(id_number)
    return session.scalars(select(Retiree).where(Retiree.id_number_hash == digest)).one_or_none()


def upsert_retiree(session: Session, protector: Protector, row: RetireeInput) -> UpsertOutcome:
    """Insert or update one retiree; a row identical to what is stored changes nothing."""
    existing = find_retiree(session, protector, row.id_number)
    values = {name: getattr(row, name) for name in _COMPARED}
    if existing is None:
        session.add(
            Retiree(
                id_number_hash=protector.lookup_hash(row.id_number),
                id_number_encrypted=protector.encrypt_text(row.id_number, "id_number"),
                id_number_masked=mask_id_number(row.id_number),
                **values,
            )
        )
        return "created"
    changed = {name: value for name, value in values.items() if getattr(existing, name) != value}
    if not changed:
        return "unchanged"
    for name, value in changed.items():
        setattr(existing, name, value)
    existing.updated_at = utcnow()
    return "updated"


def retiree_facts(retiree: Retiree) -> RetireeFacts:
    """The rule engine's view of a stored retiree."""
    return RetireeFacts(
        pension_type=PensionType(retiree.pension_type),
        retired_locally=retiree.retired_locally,
        status=RegistryStatus(retiree.status),
        first_payment=retiree.first_payment,
        last_certified=retiree.last_certified,
        region_code=retiree.region_code,
        suspension_reason=SuspensionReason(retiree.suspension_reason) if retiree.suspension_reason else None,
    )


def record_certification(
    session: Session,
    retiree: Retiree,
    *,
    channel: str,
    method: str,
    result: str,
    certified_on: date | None = None,
    reasons: Sequence[str] = (),
    scores: dict[str, Any] | None = None,
    session_id: str | None = None,
    operator: str | None = None,
    proxy: tuple[str | None, str | None, str | None] = (None, None, None),
    evidence_type: str | None = None,
    notes: str = "",
) -> CertificationRecord:
    """Append a certification record; a pass moves the cycle and resumes a suspended pension."""
    back_pay = 0
    resumed_from_suspension = result == "passed" and retiree.status == RegistryStatus.SUSPENDED
    suspended_from = retiree.suspended_from
    if result == "passed":
        certified_on = certified_on or utcnow().date()
        if retiree.status == RegistryStatus.SUSPENDED and retiree.suspended_from is not None:
            reason = SuspensionReason(retiree.suspension_reason or SuspensionReason.OVERDUE)
            back_pay = resumption_on_certification(retiree.suspended_from, certified_on, reason).back_pay_months
        if retiree.status == RegistryStatus.SUSPENDED:
            retiree.status = RegistryStatus.NORMAL
            retiree.suspended_from = None
            retiree.suspension_reason = None
        if retiree.last_certified is None or certified_on > retiree.last_certified:
            retiree.last_certified = certified_on
        retiree.updated_at = utcnow()
    record = CertificationRecord(
        retiree_id=retiree.id,
        certified_on=certified_on if result == "passed" else None,
        channel=channel,
        method=method,
        result=result,
        reasons=list(reasons),
        scores=scores or {},
        session_id=session_id,
        operator=operator,
        proxy_name=proxy[0],
        proxy_phone=proxy[1],
        proxy_relationship=proxy[2],
        evidence_type=evidence_type,
        notes=notes,
        back_pay_months=back_pay,
    )
    session.add(record)
    session.flush()
    if resumed_from_suspension and certified_on is not None:
        _notify_resumption(session, retiree.id, certified_on, suspended_from, back_pay)
    return record


def _notify_resumption(session: Session, retiree_id: int, certified_on: date, suspended_from: date | None,
                       back_pay_months: int) -> None:
    """Tell the retiree that payment resumes: one message per suspension, whatever the channel."""
    resumed_from = first_of_next_month(certified_on)
    code = "notify.resumed" if back_pay_months > 0 else "notify.resumed_plain"
    since = suspended_from.isoformat() if suspended_from else "unknown"
    enqueue_notification(session, retiree_id, "resumed", code,
                         {"resumed_from": resumed_from, "back_pay_months": back_pay_months},
                         key=f"resumed:{retiree_id}:{since}:{certified_on.isoformat()}")


def history(session: Session, retiree_id: int) -> list[CertificationRecord]:
    return list(
        session.scalars(
            select(CertificationRecord)
            .where(CertificationRecord.retiree_id == retiree_id)
            .order_by(CertificationRecord.id.desc())
        )
    )


def recordings_started(session: Session, *, session_id: str | None = None, retiree_id: int | None = None,
                       since: datetime | None = None) -> int:
    """Challenges whose recording was started (content and schedule revealed), in a session or of a retiree.

    A start is an attempt whether or not an answer is uploaded: otherwise an attacker could
    start challenge after challenge, look at what each asks and when, and answer only the one
    an old recording happens to fit (challenge shopping). A start whose verification ended in
    a system error (``result == "error"``: the service's fault) does not count.
    """
    query = (
        select(func.count()).select_from(Challenge)
        .join(CertSession, CertSession.id == Challenge.session_id)
        .outerjoin(VerificationJob, VerificationJob.challenge_id == Challenge.id)
        .where(Challenge.started_at.is_not(None),
               or_(VerificationJob.result.is_(None), VerificationJob.result != "error"))
    )
    if session_id is not None:
        query = query.where(Challenge.session_id == session_id)
    if retiree_id is not None:
        query = query.where(CertSession.retiree_id == retiree_id)
    if since is not None:
        query = query.where(Challenge.started_at >= since)
    return int(session.scalar(query) or 0)


def failures_since(session: Session, retiree_id: int, since: datetime) -> int:
    """Failed attempts of a retiree since ``since`` (for the per-day retry cap)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(CertificationRecord)
            .where(
                CertificationRecord.retiree_id == retiree_id,
                CertificationRecord.result == "failed",
                CertificationRecord.created_at >= since,
            )
        )
        or 0
    )


def audit(
    session: Session,
    *,
    actor: str,
    role: str,
    action: str,
    retiree_id: int | None = None,
    detail: dict[str, Any] | None = None,
    ip: str = "",
) -> AuditEntry:
    """Append one audit entry (who did or saw what)."""
    entry = AuditEntry(actor=actor, actor_role=role, action=action, retiree_id=retiree_id, detail=detail or {}, ip=ip)
    session.add(entry)
    return entry


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _sms_value(value: Any, language: str) -> Any:
    """Dates read as people write them: 2027年3月12日 in Chinese, ISO in English."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        value = date.fromisoformat(value)
    if isinstance(value, date):
        return f"{value.year}年{value.month}月{value.day}日" if messages.normalise_language(language) == "zh" \
            else value.isoformat()
    return value


def render_notification(message_code: str, params: Mapping[str, Any]) -> str:
    """The SMS text of ``message_code``: the signature, then the catalogue text in the SMS language."""
    from pensioncert.settings import get_settings

    settings = get_settings().notify
    values = {name: _sms_value(value, settings.language) for name, value in params.items()}
    return settings.signature + messages.text(message_code, settings.language, **values)


def enqueue_notification(session: Session, retiree_id: int, kind: str, message_code: str,
                         params: Mapping[str, Any], *, key: str, channel: str = "sms") -> bool:
    """Put one message in the outbox unless the event named by ``key`` is already there.

    The text is rendered now, from the catalogue, in the deployment's SMS language: what the
    retiree reads is what staff see in the outbox, even if the catalogue changes later. The insert
    is ``ON CONFLICT DO NOTHING`` on the unique key, so two concurrent retries of one event still
    leave exactly one row. Returns True when a row was added.
    """
    text = render_notification(message_code, params)
    stored = {name: value.isoformat() if isinstance(value, date) else value for name, value in params.items()}
    values = {"retiree_id": retiree_id, "channel": channel, "message_code": message_code, "params": stored,
              "kind": kind[:32], "text": text, "state": "pending", "attempts": 0, "idempotency_key": key[:96],
              "created_at": utcnow(), "updated_at": utcnow()}
    statement: Executable
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        statement = pg_insert(Notification).values(**values).on_conflict_do_nothing(
            index_elements=["idempotency_key"]).returning(Notification.id)
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(Notification).values(**values).on_conflict_do_nothing(
            index_elements=["idempotency_key"]).returning(Notification.id)
    # RETURNING yields the new id, or nothing when the key existed (rowcount is not reliable here).
    return session.execute(statement).first() is not None


def notify(session: Session, retiree_id: int, message_code: str, params: dict[str, Any], channel: str = "sms",
           *, key: str | None = None) -> bool:
    """Queue the message ``message_code`` for a retiree (see ``enqueue_notification``).

    Without an explicit ``key`` the event is named by the code, the retiree and the parameters: the
    same certification reported twice (a retried job) queues one message.
    """
    kind = message_code.rsplit(".", 1)[-1]
    if key is None:
        digest = hashlib.sha256(json.dumps(params, sort_keys=True, default=str).encode()).hexdigest()[:24]
        key = f"{kind}:{retiree_id}:{digest}"
    return enqueue_notification(session, retiree_id, kind, message_code, params, key=key, channel=channel)


def latest_review_of_session(session: Session, session_id: str) -> CertificationRecord | None:
    """The newest manual-review decision on a phone session's recording, if staff decided it."""
    return session.scalars(
        select(CertificationRecord)
        .where(
            CertificationRecord.session_id == session_id,
            CertificationRecord.method == "manual_review",
            CertificationRecord.result.in_(("passed", "rejected")),
        )
        .order_by(CertificationRecord.id.desc())
        .limit(1)
    ).one_or_none()
