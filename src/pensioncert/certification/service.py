"""The certification workflow's entry points used by the API, the CLI and the back office."""

from __future__ import annotations

from datetime import date

from pensioncert.certification.rules import cycle_rules_for
from pensioncert.domain.eligibility import Decision, decide_eligibility
from pensioncert.settings import get_settings
from pensioncert.storage.models import Retiree
from pensioncert.storage.repository import retiree_facts


def eligibility_for(retiree: Retiree | None, today: date) -> Decision:
    """The eligibility decision for a stored retiree (or an unknown one)."""
    if retiree is None:
        return decide_eligibility(None, today, cycle_rules_for("", get_settings().cycle))
    rules = cycle_rules_for(retiree.region_code, get_settings().cycle)
    return decide_eligibility(retiree_facts(retiree), today, rules)
