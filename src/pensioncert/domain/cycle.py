"""The certification cycle: when a retiree is due, when the window opens, overdue.

Rolling cycle (default): due 12 months after the last successful certification
(for a new retiree, 12 months after the first payment); the window opens a
configurable number of months before the due date and stays open until the
retiree certifies. Some regions instead run a fixed campaign window each year.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date

from pensioncert.domain.calendar import add_months, clamped_date, first_of_next_month


class WindowState(enum.StrEnum):
    OPEN = "open"
    NOT_YET = "not_yet"
    ALREADY_CERTIFIED = "already_certified"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class CycleRules:
    """The cycle parameters of one region (from settings)."""

    cycle_months: int = 12
    advance_window_months: int = 3
    # Fixed campaign window as ((start_month, start_day), (end_month, end_day)); None = rolling.
    campaign: tuple[tuple[int, int], tuple[int, int]] | None = None


@dataclass(frozen=True)
class CycleStatus:
    """Where a retiree stands on ``today``."""

    state: WindowState
    window_start: date
    window_end: date  # last day of the window proper (the due date); it stays open afterwards
    due_date: date
    last_certified: date | None
    suspended_from: date | None  # first unpaid day when overdue, else None

    @property
    def may_certify(self) -> bool:
        return self.state in (WindowState.OPEN, WindowState.OVERDUE)


def parse_campaign(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Parse a campaign setting ``"MM-DD:MM-DD"``; raise ValueError with the reason."""
    try:
        start_text, end_text = text.split(":")
        start = tuple(int(part) for part in start_text.split("-"))
        end = tuple(int(part) for part in end_text.split("-"))
        if len(start) != 2 or len(end) != 2:
            raise ValueError
        date(2024, *start)
        date(2024, *end)
    except ValueError as bad:
        raise ValueError(f"campaign window must look like 'MM-DD:MM-DD', got {text!r}") from bad
    return (start[0], start[1]), (end[0], end[1])


def _campaign_dates(year: int, campaign: tuple[tuple[int, int], tuple[int, int]]) -> tuple[date, date]:
    (start_month, start_day), (end_month, end_day) = campaign
    start = clamped_date(year, start_month, start_day)
    end = clamped_date(year, end_month, end_day)
    if end < start:  # a campaign spanning new year ends in the following year
        end = clamped_date(year + 1, end_month, end_day)
    return start, end


def _rolling_status(anchor: date, certified: bool, today: date, rules: CycleRules) -> CycleStatus:
    due = add_months(anchor, rules.cycle_months)
    start = add_months(due, -rules.advance_window_months)
    last = anchor if certified else None
    if today < start:
        state = WindowState.ALREADY_CERTIFIED if certified else WindowState.NOT_YET
    elif today <= due:
        state = WindowState.OPEN
    else:
        state = WindowState.OVERDUE
    suspended = first_of_next_month(due) if state is WindowState.OVERDUE and today >= first_of_next_month(due) else None
    return CycleStatus(state, start, due, due, last, suspended)


def _campaign_status(
    anchor: date, certified: bool, today: date, campaign: tuple[tuple[int, int], tuple[int, int]]
) -> CycleStatus:
    last = anchor if certified else None
    this_start, this_end = _campaign_dates(today.year, campaign)
    prev_start, prev_end = _campaign_dates(today.year - 1, campaign)
    if today < this_start and prev_start <= today <= prev_end:
        # A campaign spanning new year that started last year is still running.
        this_start, this_end = prev_start, prev_end
        prev_start, prev_end = _campaign_dates(today.year - 2, campaign)
    if today < this_start:
        # The previous campaign is the latest finished one.
        covered = certified and anchor >= prev_start
        if covered or anchor >= prev_end:  # certified or new retiree after last campaign
            state = WindowState.ALREADY_CERTIFIED if certified else WindowState.NOT_YET
            return CycleStatus(state, this_start, this_end, this_end, last, None)
        return CycleStatus(WindowState.OVERDUE, prev_start, prev_end, prev_end, last, first_of_next_month(prev_end))
    if certified and anchor >= this_start:
        next_start, next_end = _campaign_dates(this_start.year + 1, campaign)
        return CycleStatus(WindowState.ALREADY_CERTIFIED, next_start, next_end, next_end, last, None)
    if today <= this_end:
        return CycleStatus(WindowState.OPEN, this_start, this_end, this_end, last, None)
    suspended = first_of_next_month(this_end) if today >= first_of_next_month(this_end) else None
    return CycleStatus(WindowState.OVERDUE, this_start, this_end, this_end, last, suspended)


def cycle_status(
    today: date,
    rules: CycleRules,
    last_certified: date | None = None,
    first_payment: date | None = None,
) -> CycleStatus:
    """The retiree's window state on ``today``.

    ``last_certified`` is the date of the last successful certification (any
    channel, including passive); a retiree never certified is anchored on
    ``first_payment``. One of the two is required.
    """
    anchor = last_certified or first_payment
    if anchor is None:
        raise ValueError("cycle_status needs last_certified or first_payment")
    certified = last_certified is not None
    if rules.campaign is not None:
        return _campaign_status(anchor, certified, today, rules.campaign)
    return _rolling_status(anchor, certified, today, rules)


def next_window_after_certification(certified_on: date, rules: CycleRules) -> CycleStatus:
    """The window that follows a certification made on ``certified_on`` (shown with "passed")."""
    return cycle_status(certified_on, rules, last_certified=certified_on)
