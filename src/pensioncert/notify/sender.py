"""The sender: deliver queued messages through a provider, and the export file for the SMS platform.

Each message is claimed in its own short transaction (pending → sending, attempts + 1), handed to
the provider outside any transaction, and its outcome written in another. Two senders never claim
the same row; a row left "sending" by a crash is claimed again after the lease, and the provider's
idempotency key lets the gateway drop the resend.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from pensioncert.notify.providers import Delivery, OutgoingMessage, Provider
from pensioncert.notify.rules import mask_phone, normalise_phone
from pensioncert.settings import NotifySettings
from pensioncert.storage.db import Database
from pensioncert.storage.models import Notification, Retiree
from pensioncert.storage.repository import utcnow

log = logging.getLogger(__name__)

PENDING, SENDING, READY, EXPORTED, SENT, FAILED, UNDELIVERABLE = (
    "pending", "sending", "ready", "exported", "sent", "failed", "undeliverable")
STATES = (PENDING, SENDING, READY, EXPORTED, SENT, FAILED, UNDELIVERABLE)
EXPORT_HEADER = ("手机号码", "短信内容", "业务编号", "类型")


def _claimable(now: datetime, settings: NotifySettings) -> ColumnElement[bool]:
    stale = now - timedelta(minutes=settings.sending_lease_minutes)
    return or_(
        and_(Notification.state == PENDING,
             or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)),
        and_(Notification.state == SENDING, Notification.updated_at < stale),
    )


def due_ids(session: Session, now: datetime, settings: NotifySettings, limit: int | None = None) -> list[int]:
    """Messages the next run would deliver, oldest first."""
    query = select(Notification.id).where(_claimable(now, settings)).order_by(Notification.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def _retry_delay(attempts: int) -> timedelta:
    """5 min, 10, 20 … capped at 6 h: a gateway outage of an afternoon is ridden out, not hammered."""
    return timedelta(minutes=min(5 * 2 ** max(attempts - 1, 0), 360))


@dataclass
class SendReport:
    outcomes: Counter[str]

    def line(self) -> str:
        return ", ".join(f"{state} {count}" for state, count in sorted(self.outcomes.items())) or "nothing to send"


def send_pending(database: Database, provider: Provider, settings: NotifySettings, now: datetime | None = None,
                 limit: int | None = None) -> SendReport:
    """Deliver every claimable message through ``provider``; return how many ended in which state."""
    now = now or utcnow()
    outcomes: Counter[str] = Counter()
    with database.session() as session:
        ids = due_ids(session, now, settings, limit)
    for notification_id in ids:
        message = _claim(database, notification_id, now, settings)
        if message is None:
            continue
        if isinstance(message, str):
            outcomes[message] += 1
            continue
        delivery = provider.deliver(message)
        outcomes[_record(database, notification_id, delivery, settings)] += 1
    return SendReport(outcomes)


def _claim(database: Database, notification_id: int, now: datetime,
           settings: NotifySettings) -> OutgoingMessage | str | None:
    """Take one row (None if another sender did); a row without a mobile number ends undeliverable."""
    with database.session() as session:
        claimed = session.execute(
            update(Notification).where(Notification.id == notification_id, _claimable(now, settings))
            .values(state=SENDING, attempts=Notification.attempts + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            return None
        row = session.get(Notification, notification_id)
        assert row is not None
        retiree = session.get(Retiree, row.retiree_id)
        phone = normalise_phone(retiree.phone) if retiree is not None else None
        if phone is None:
            row.state, row.last_error = UNDELIVERABLE, "notify.error.no_phone"
            log.warning("sms %s: no mobile number on file (%s)", row.idempotency_key,
                        mask_phone(retiree.phone if retiree else ""))
            return UNDELIVERABLE
        return OutgoingMessage(row.idempotency_key, phone, row.text, row.kind)


def _record(database: Database, notification_id: int, delivery: Delivery, settings: NotifySettings) -> str:
    with database.session() as session:
        row = session.get(Notification, notification_id)
        assert row is not None
        now = utcnow()
        row.updated_at, row.last_error = now, delivery.error
        if delivery.outcome == "sent":
            row.state, row.sent_at, row.next_attempt_at = SENT, now, None
        elif delivery.outcome == "ready":
            row.state, row.next_attempt_at = READY, None
        elif delivery.outcome == "retry" and row.attempts < settings.max_attempts:
            row.state, row.next_attempt_at = PENDING, now + _retry_delay(row.attempts)
        else:
            row.state, row.last_error = FAILED, delivery.error or "notify.error.gave_up"
            if delivery.outcome == "retry":
                row.last_error = "notify.error.gave_up"
        return row.state


def take_ready(session: Session, now: datetime | None = None) -> list[list[object]]:
    """The export file's rows (full numbers: the SMS platform needs them); the rows become "exported".

    Runs in the caller's transaction: if writing the file fails, nothing is marked exported.
    """
    now = now or utcnow()
    rows: list[list[object]] = []
    query = (select(Notification, Retiree).join(Retiree, Retiree.id == Notification.retiree_id)
             .where(Notification.state == READY).order_by(Notification.id))
    for notification, retiree in session.execute(query).tuples():
        phone = normalise_phone(retiree.phone)
        if phone is None:  # the number was removed since the row was marked ready
            notification.state, notification.last_error = UNDELIVERABLE, "notify.error.no_phone"
            continue
        rows.append([phone, notification.text, notification.idempotency_key, notification.kind])
        notification.state, notification.sent_at, notification.updated_at = EXPORTED, now, now
    return rows
