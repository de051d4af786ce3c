"""Offline certification: a window, community workstation, self-service terminal or door-to-door visit,
recorded by the staff member who saw the retiree, under their own identity.

Face recognition must never be the only way to certify (DOMAIN.md): this is the other way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from pensioncert.certification.rules import cycle_rules_for
from pensioncert.certification.service import eligibility_for
from pensioncert.domain.cycle import CycleStatus, next_window_after_certification
from pensioncert.domain.eligibility import names_match
from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number
from pensioncert.errors import CodedError
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import Protector
from pensioncert.storage.models import CertificationRecord, Retiree
from pensioncert.storage.repository import find_retiree, notify, record_certification

CHANNELS = ("window", "community", "terminal", "home_visit")


class OfflineError(CodedError, ValueError):
    """Refused; ``code`` and ``params`` make the message shown to the operator."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code=code, **params)


@dataclass(frozen=True)
class OfflineOutcome:
    retiree: Retiree
    record: CertificationRecord
    was_suspended: bool
    next_window: CycleStatus
    proxy: tuple[str | None, str | None, str | None] = field(default=(None, None, None))


def record_offline(
    session: Session,
    protector: Protector,
    *,
    id_number: str,
    name: str,
    channel: str,
    certified_on: date,
    today: date,
    operator: str,
    notes: str = "",
    proxy: tuple[str | None, str | None, str | None] = (None, None, None),
) -> OfflineOutcome:
    """Check the person and the cycle, then append a passed offline record (resuming a suspended pension)."""
    if channel not in CHANNELS:
        raise OfflineError("admin.offline.bad_channel")
    try:
        info = parse_id_number(id_number, today=today)
    except InvalidIdNumber as invalid:
        raise OfflineError(invalid.code) from invalid
    if certified_on > today:
        raise OfflineError("admin.offline.future_date")
    max_backdate = get_settings().admin.offline_max_backdate_days
    if certified_on < today - timedelta(days=max_backdate):
        raise OfflineError("admin.offline.too_old", days=max_backdate)
    retiree = find_retiree(session, protector, info.normalized)
    if retiree is None:
        raise OfflineError("decision.not_found")
    if not names_match(name, retiree.name):
        raise OfflineError("decision.name_mismatch")
    decision = eligibility_for(retiree, certified_on)
    if not decision.may_certify:
        raise OfflineError(decision.code.value, **decision.params)
    was_suspended = retiree.status == "suspended"
    record = record_certification(
        session, retiree, channel=channel, method="offline", result="passed", certified_on=certified_on,
        operator=operator, notes=notes.strip()[:2000], proxy=proxy,
    )
    notify(session, retiree.id, "admin.notice.offline_certified",
           {"certified_on": certified_on.isoformat(), "channel": channel})
    rules = cycle_rules_for(retiree.region_code, get_settings().cycle)
    return OfflineOutcome(retiree, record, was_suspended, next_window_after_certification(certified_on, rules), proxy)
