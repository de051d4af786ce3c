"""Month arithmetic the cycle rules need (no dateutil: clamping is the rule, so it is explicit)."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, clamped to the month's last day.

    A retiree certified on 29 February is due on 28 February of a common year.
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def clamped_date(year: int, month: int, day: int) -> date:
    """``date(year, month, day)`` with ``day`` clamped to the month's length (29 Feb → 28 Feb)."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def first_of_next_month(day: date) -> date:
    """The first day of the month after ``day``."""
    return add_months(day.replace(day=1), 1)


def months_between(first_month: date, last_month: date) -> int:
    """Number of calendar months from ``first_month`` to ``last_month`` inclusive (0 if reversed)."""
    count = (last_month.year - first_month.year) * 12 + last_month.month - first_month.month + 1
    return max(count, 0)


def local_date(moment: datetime, zone: str) -> date:
    """The calendar day of ``moment`` (an aware instant) in the agency's time zone.

    One rule for "today" everywhere (API, CLI, back office, job decisions): a pass at 00:30 in
    Shanghai is that day, whatever the server's own zone or UTC says (issue 13.7). A naive
    ``moment`` is UTC (SQLite hands back the UTC instants we stored without their zone).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone)).date()


def local_day_start(moment: datetime, zone: str) -> datetime:
    """The instant (UTC) at which the agency's calendar day containing ``moment`` began."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(zone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
