"""Pure notification rules (no I/O): which reminder is due, idempotency keys, phone numbers.

Kept apart from the sender so that the rules a caseworker may ask about ("why did she get the
7-day reminder and not the 30-day one?") run in tests in microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pensioncert.domain.cycle import CycleStatus, WindowState

# Mainland mobile numbers: 11 digits starting 13-19 (an optional +86/0086 prefix is dropped).
_MOBILE = re.compile(r"1[3-9]\d{9}")


@dataclass(frozen=True)
class ReminderDue:
    """One reminder to queue: ``days`` is the configured offset it stands for."""

    due_date: date
    days: int
    days_left: int


def due_reminder(today: date, status: CycleStatus, offsets: Sequence[int]) -> ReminderDue | None:
    """The reminder due on ``today`` for a retiree whose window is ``status``, or None.

    Only while the window is open and the retiree has not certified for it. The due offset is the
    smallest configured offset not below the days left: with offsets (30, 7), 20 days left means
    the 30-day reminder and 5 days left the 7-day one. A sweep that did not run for a while
    therefore sends the most urgent applicable reminder only, and the caller's idempotency key
    (``reminder_key``) keeps each offset to one message per window.
    """
    if status.state is not WindowState.OPEN:
        return None
    days_left = (status.due_date - today).days
    if days_left < 0:
        return None
    applicable = sorted(offset for offset in offsets if offset >= days_left and offset >= 0)
    if not applicable:
        return None
    return ReminderDue(status.due_date, applicable[0], days_left)


def reminder_key(retiree_id: int, reminder: ReminderDue) -> str:
    return f"reminder:{retiree_id}:{reminder.due_date.isoformat()}:{reminder.days}"


def review_key(case_record_id: int) -> str:
    """One message per review case, whichever way and however often the decision is submitted."""
    return f"review:{case_record_id}"


def suspension_key(retiree_id: int, suspended_from: date) -> str:
    return f"suspended:{retiree_id}:{suspended_from.isoformat()}"


def normalise_phone(phone: str) -> str | None:
    """The 11-digit mobile number in ``phone`` (spaces, hyphens, +86 allowed), or None if there is none.

    Landlines cannot receive SMS, so they count as no number.
    """
    digits = re.sub(r"[\s\-()]", "", phone or "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11:
            digits = digits[len(prefix):]
            break
    return digits if _MOBILE.fullmatch(digits) else None


def mask_phone(phone: str) -> str:
    """``138****5678``: lists, plans and logs show only this; the full number goes to the gateway alone."""
    digits = normalise_phone(phone)
    if digits is not None:
        return f"{digits[:3]}****{digits[-4:]}"
    raw = re.sub(r"\D", "", phone or "")
    if not raw:
        return "—"
    return "*" * max(len(raw) - 2, 1) + raw[-2:] if len(raw) > 2 else "*" * len(raw)
