"""The overdue sweep: suspend payment of retirees past their due date, and tell them by SMS."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.certification.rules import cycle_rules_for
from pensioncert.domain.cycle import CycleStatus, WindowState, cycle_status
from pensioncert.domain.eligibility import RegistryStatus, SuspensionReason
from pensioncert.notify.rules import suspension_key
from pensioncert.settings import CycleSettings
from pensioncert.storage.models import Retiree
from pensioncert.storage.repository import audit, enqueue_notification, utcnow


def overdue_candidates(session: Session, today: date, settings: CycleSettings) -> list[tuple[Retiree, CycleStatus]]:
    """Retirees the sweep would suspend on ``today`` (read only: ``notify plan`` shows them too)."""
    found = []
    candidates = session.scalars(
        select(Retiree).where(Retiree.status.in_([RegistryStatus.NORMAL, RegistryStatus.SUSPENDED]))
        .order_by(Retiree.id)
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
        found.append((retiree, status))
    return found


def suspension_notice(retiree: Retiree, status: CycleStatus) -> tuple[str, dict[str, object]]:
    """The message code and parameters of the SMS that tells a retiree payment is suspended."""
    return "notify.suspended", {"due_date": status.due_date, "suspended_from": status.suspended_from}


def suspend_overdue(session: Session, today: date, settings: CycleSettings, actor: str = "system") -> int:
    """Mark retirees overdue on ``today`` as suspended from the month after their due date."""
    suspended = 0
    for retiree, status in overdue_candidates(session, today, settings):
        assert status.suspended_from is not None
        retiree.status = RegistryStatus.SUSPENDED
        retiree.suspended_from = status.suspended_from
        retiree.suspension_reason = SuspensionReason.OVERDUE
        retiree.updated_at = utcnow()
        audit(session, actor=actor, role="system", action="suspend_overdue", retiree_id=retiree.id,
              detail={"suspended_from": status.suspended_from.isoformat()})
        code, params = suspension_notice(retiree, status)
        enqueue_notification(session, retiree.id, "suspended", code, params,
                             key=suspension_key(retiree.id, status.suspended_from))
        suspended += 1
    return suspended
