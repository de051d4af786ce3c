"""The overdue sweep: suspend payment of retirees past their due date."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.certification.rules import cycle_rules_for
from pensioncert.domain.cycle import WindowState, cycle_status
from pensioncert.domain.eligibility import RegistryStatus, SuspensionReason
from pensioncert.settings import CycleSettings
from pensioncert.storage.models import Retiree
from pensioncert.storage.repository import audit, utcnow


def suspend_overdue(session: Session, today: date, settings: CycleSettings, actor: str = "system") -> int:
    """Mark retirees overdue on ``today`` as suspended from the month after their due date."""
    suspended = 0
    candidates = session.scalars(
        select(Retiree).where(Retiree.status.in_([RegistryStatus.NORMAL, RegistryStatus.SUSPENDED]))
    )
    for retiree in candidates:
        if not retiree.retired_locally:
            continue
        rules = cycle_rules_for(retiree.region_code, settings)
        status = cycle_status(today, rules, retiree.last_certified, retiree.first_payment)
        if status.state is not WindowState.OVERDUE or status.suspended_from is None:
            continue
        if retiree.status == RegistryStatus.SUSPENDED and retiree.suspended_from is not None:
            continue
        retiree.status = RegistryStatus.SUSPENDED
        retiree.suspended_from = status.suspended_from
        retiree.suspension_reason = SuspensionReason.OVERDUE
        retiree.updated_at = utcnow()
        audit(session, actor=actor, role="system", action="suspend_overdue", retiree_id=retiree.id,
              detail={"suspended_from": status.suspended_from.isoformat()})
        suspended += 1
    return suspended
