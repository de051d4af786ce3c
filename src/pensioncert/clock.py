"""The one clock of "now" and of the agency's "today" (settings.cycle.time_zone).

API dependencies, CLI commands and back-office views ask here rather than ``date.today()``
(the server's zone) or the UTC date, so the same instant is the same day everywhere
(issue 13.7). Tests set the instant by replacing ``now``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from pensioncert.domain.calendar import local_date


def now() -> datetime:
    """The current instant, aware (UTC)."""
    return datetime.now(UTC)


def agency_today() -> date:
    """The agency's calendar day now."""
    from pensioncert.settings import get_settings

    return local_date(now(), get_settings().cycle.time_zone)
