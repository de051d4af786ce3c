"""Load the demo registry into the configured database."""

from __future__ import annotations

from datetime import date

from pensioncert.admin.demo import ensure_demo_staff
from pensioncert.certification.demo_data import demo_retirees
from pensioncert.certification.service import eligibility_for
from pensioncert.jobs.overdue import suspend_overdue
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import protector_from_settings
from pensioncert.storage.db import get_database
from pensioncert.storage.repository import find_retiree, upsert_retiree


def load_demo(today: date) -> list[tuple[str, str, str]]:
    """Upsert the demo retirees; return (name, full ID number, decision code) for the console."""
    database = get_database()
    protector = protector_from_settings()
    rows = demo_retirees(today)
    summary: list[tuple[str, str, str]] = []
    with database.session() as session:
        for row in rows:
            upsert_retiree(session, protector, row)
        session.flush()
        suspend_overdue(session, today, get_settings().cycle)
        ensure_demo_staff(session)  # back office: one account per role (docs/admin.md)
        for row in rows:
            decision = eligibility_for(find_retiree(session, protector, row.id_number), today)
            summary.append((row.name, row.id_number, decision.code.value))
    return summary
