"""What is due on a day: reminders before windows close, the suspension notices the overdue sweep
would queue, and what already waits in the outbox. ``queue_reminders`` queues the reminders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.certification.service import eligibility_for
from pensioncert.domain.eligibility import DecisionCode
from pensioncert.jobs.overdue import overdue_candidates, suspension_notice
from pensioncert.notify.rules import (
    ReminderDue,
    due_reminder,
    mask_phone,
    reminder_key,
    suspension_key,
)
from pensioncert.notify.sender import PENDING, READY, SENDING
from pensioncert.settings import get_settings
from pensioncert.storage.models import Notification, Retiree
from pensioncert.storage.repository import enqueue_notification, render_notification

REMINDER_CODE = "notify.reminder"


@dataclass(frozen=True)
class PlannedMessage:
    """One line of ``notify plan``: a message that the next send would deliver or queue first."""

    source: str  # "reminder" | "suspension" (queued when the sweep runs) | "outbox" (already queued)
    retiree_id: int
    name: str
    phone: str  # masked
    kind: str
    state: str  # "new" for messages not queued yet, else the outbox state
    key: str
    text: str

    def as_dict(self) -> dict[str, object]:
        return {"source": self.source, "retiree_id": self.retiree_id, "name": self.name, "phone": self.phone,
                "kind": self.kind, "state": self.state, "key": self.key, "text": self.text}


def reminders_due(session: Session, today: date) -> list[tuple[Retiree, ReminderDue]]:
    """Retirees in their window who have not certified and reach a reminder offset on ``today``."""
    offsets = get_settings().notify.reminder_days
    due = []
    for retiree in session.scalars(select(Retiree).where(Retiree.status == "normal").order_by(Retiree.id)):
        decision = eligibility_for(retiree, today)
        if decision.code is not DecisionCode.PROCEED or decision.cycle is None:
            continue
        reminder = due_reminder(today, decision.cycle, offsets)
        if reminder is not None:
            due.append((retiree, reminder))
    return due


def _reminder_params(reminder: ReminderDue) -> dict[str, object]:
    return {"due_date": reminder.due_date, "days": reminder.days_left}


def queue_reminders(session: Session, today: date) -> int:
    """Queue the reminders due on ``today``; a second run on the same day queues nothing."""
    queued = 0
    for retiree, reminder in reminders_due(session, today):
        queued += enqueue_notification(session, retiree.id, "reminder", REMINDER_CODE, _reminder_params(reminder),
                                       key=reminder_key(retiree.id, reminder))
    return queued


def plan(session: Session, today: date) -> list[PlannedMessage]:
    """Everything ``notify send`` would deliver on ``today``, phone numbers masked. Changes nothing."""
    planned: list[PlannedMessage] = []

    def exists(key: str) -> bool:
        return session.scalar(select(Notification.id).where(Notification.idempotency_key == key)) is not None

    for retiree, reminder in reminders_due(session, today):
        key = reminder_key(retiree.id, reminder)
        if not exists(key):
            planned.append(PlannedMessage("reminder", retiree.id, retiree.name, mask_phone(retiree.phone), "reminder",
                                          "new", key, render_notification(REMINDER_CODE, _reminder_params(reminder))))
    for retiree, status in overdue_candidates(session, today, get_settings().cycle):
        assert status.suspended_from is not None
        key = suspension_key(retiree.id, status.suspended_from)
        if not exists(key):
            code, params = suspension_notice(retiree, status)
            planned.append(PlannedMessage("suspension", retiree.id, retiree.name, mask_phone(retiree.phone),
                                          "suspended", "new", key, render_notification(code, params)))
    queued = session.execute(
        select(Notification, Retiree).join(Retiree, Retiree.id == Notification.retiree_id)
        .where(Notification.state.in_((PENDING, SENDING, READY))).order_by(Notification.id)
    ).tuples()
    for notification, retiree in queued:
        planned.append(PlannedMessage("outbox", retiree.id, retiree.name, mask_phone(retiree.phone),
                                      notification.kind, notification.state, notification.idempotency_key,
                                      notification.text))
    return planned
