"""Programme figures for the dashboard: where every in-scope retiree stands today, and how the
share certified within the last cycle moved month by month.

Categories partition the in-scope registry: certified (this cycle done), due (never certified,
first window not open yet), in window, overdue (past due, payment not yet suspended), suspended.
Out-of-scope, abnormal and terminated retirees are counted apart as "other".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from pensioncert.certification.rules import cycle_rules_for
from pensioncert.domain.calendar import add_months
from pensioncert.domain.cycle import WindowState, cycle_status
from pensioncert.domain.eligibility import PensionType, RegistryStatus
from pensioncert.settings import get_settings
from pensioncert.storage.models import CertificationRecord, Retiree

CATEGORIES = ("certified", "due", "in_window", "overdue", "suspended")
PROGRESS_MONTHS = 12


@dataclass
class Figures:
    totals: Counter[str] = field(default_factory=Counter)
    by_district: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_pension_type: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    other: int = 0
    progress: list[tuple[date, float]] = field(default_factory=list)  # month end, share certified in the cycle

    @property
    def in_scope(self) -> int:
        return sum(self.totals.values())


def category(retiree: Retiree, today: date) -> str | None:
    """The dashboard category of one retiree, None if out of the programme's scope today."""
    if not retiree.retired_locally or retiree.pension_type == PensionType.OTHER:
        return None
    if retiree.status == RegistryStatus.SUSPENDED:
        return "suspended"
    if retiree.status != RegistryStatus.NORMAL:
        return None
    rules = cycle_rules_for(retiree.region_code, get_settings().cycle)
    state = cycle_status(today, rules, retiree.last_certified, retiree.first_payment).state
    return {
        WindowState.ALREADY_CERTIFIED: "certified",
        WindowState.NOT_YET: "due",
        WindowState.OPEN: "in_window",
        WindowState.OVERDUE: "overdue",
    }[state]


def figures(session: Session, today: date) -> Figures:
    result = Figures()
    in_scope_ids: set[int] = set()
    last_known: dict[int, set[date]] = defaultdict(set)
    for retiree in session.scalars(select(Retiree)):
        kind = category(retiree, today)
        if kind is None:
            result.other += 1
            continue
        in_scope_ids.add(retiree.id)
        result.totals[kind] += 1
        result.by_district[retiree.district or "—"][kind] += 1
        result.by_pension_type[retiree.pension_type][kind] += 1
        if retiree.last_certified:
            last_known[retiree.id].add(retiree.last_certified)
    start = add_months(today, -PROGRESS_MONTHS - get_settings().cycle.cycle_months)
    passes = session.execute(select(CertificationRecord.retiree_id, CertificationRecord.certified_on).where(
        CertificationRecord.result == "passed", CertificationRecord.certified_on >= start)).tuples()
    for retiree_id, certified_on in passes:
        if certified_on is not None:
            last_known[retiree_id].add(certified_on)
    cycle = get_settings().cycle.cycle_months
    for back in range(PROGRESS_MONTHS - 1, -1, -1):
        month_end = add_months(today, -back)
        cycle_start = add_months(month_end, -cycle)
        done = sum(1 for rid in in_scope_ids if any(cycle_start < d <= month_end for d in last_known.get(rid, ())))
        result.progress.append((month_end, done / len(in_scope_ids) if in_scope_ids else 0.0))
    return result
