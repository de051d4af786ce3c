"""Turn settings into the pure rule parameters of a region."""

from __future__ import annotations

from pensioncert.domain.cycle import CycleRules, parse_campaign
from pensioncert.settings import CycleSettings


def cycle_rules_for(region_code: str, settings: CycleSettings) -> CycleRules:
    """Rolling rules, or the campaign window of the longest matching region prefix."""
    campaign = None
    matches = [prefix for prefix in settings.campaign_windows if region_code.startswith(prefix)]
    if matches:
        campaign = parse_campaign(settings.campaign_windows[max(matches, key=len)])
    return CycleRules(
        cycle_months=settings.cycle_months,
        advance_window_months=settings.advance_window_months,
        campaign=campaign,
    )
