"""The pure notification rules: which reminder is due, and how phone numbers are shown."""

from __future__ import annotations

from datetime import date

import pytest

from pensioncert.domain.cycle import CycleRules, cycle_status
from pensioncert.notify.rules import (
    due_reminder,
    mask_phone,
    normalise_phone,
    reminder_key,
    review_key,
    suspension_key,
)

RULES = CycleRules()  # 12-month rolling cycle, window opens 3 months before the due date
LAST = date(2025, 6, 15)  # due 2026-06-15


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 5, 15), None),  # 31 days left: no offset reached yet
    (date(2026, 5, 16), (30, 30)),  # exactly 30 days left
    (date(2026, 5, 26), (30, 20)),  # between the offsets: still the 30-day one (deduplicated by its key)
    (date(2026, 6, 8), (7, 7)),
    (date(2026, 6, 14), (7, 1)),
    (date(2026, 6, 15), (7, 0)),  # the due date itself
    (date(2026, 6, 16), None),  # overdue: the suspension notice takes over, no reminder
    (date(2026, 3, 10), None),  # window not open yet
])
def test_the_most_urgent_applicable_reminder_is_due(today: date, expected: tuple[int, int] | None) -> None:
    reminder = due_reminder(today, cycle_status(today, RULES, last_certified=LAST), [30, 7])
    assert (None if reminder is None else (reminder.days, reminder.days_left)) == expected
    if reminder is not None:
        assert reminder.due_date == date(2026, 6, 15)


def test_no_reminder_after_certifying_for_the_window() -> None:
    today = date(2026, 6, 10)
    certified_again = cycle_status(today, RULES, last_certified=date(2026, 6, 1))
    assert due_reminder(today, certified_again, [30, 7]) is None


def test_offsets_come_from_the_caller_in_any_order() -> None:
    today = date(2026, 6, 1)  # 14 days left
    status = cycle_status(today, RULES, last_certified=LAST)
    assert due_reminder(today, status, [7, 60, 30]).days == 30  # type: ignore[union-attr]
    assert due_reminder(today, status, [14]).days == 14  # type: ignore[union-attr]
    assert due_reminder(today, status, []) is None


def test_keys_name_the_event_not_the_run() -> None:
    today = date(2026, 5, 20)
    first = due_reminder(today, cycle_status(today, RULES, last_certified=LAST), [30, 7])
    later = due_reminder(date(2026, 5, 25), cycle_status(date(2026, 5, 25), RULES, last_certified=LAST), [30, 7])
    assert first is not None and later is not None
    assert reminder_key(3, first) == reminder_key(3, later) == "reminder:3:2026-06-15:30"
    assert reminder_key(4, first) != reminder_key(3, first)
    assert review_key(17) == "review:17"
    assert suspension_key(3, date(2026, 7, 1)) == "suspended:3:2026-07-01"


@pytest.mark.parametrize(("raw", "normalised", "masked"), [
    ("13812345678", "13812345678", "138****5678"),
    ("138 1234 5678", "13812345678", "138****5678"),
    ("+86 138-1234-5678", "13812345678", "138****5678"),
    ("0755-12345678", None, "**********78"),  # a landline gets no SMS and is still masked
    ("", None, "—"),
    ("12812345678", None, "*********78"),  # no mobile prefix 12
])
def test_phone_numbers(raw: str, normalised: str | None, masked: str) -> None:
    assert normalise_phone(raw) == normalised
    assert mask_phone(raw) == masked
    if normalised:
        assert normalised[3:7] not in mask_phone(raw)
