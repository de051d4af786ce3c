from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pensioncert.domain.calendar import add_months, months_between
from pensioncert.domain.cycle import CycleRules, WindowState, cycle_status, parse_campaign

ROLLING = CycleRules()
any_day = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))


def test_leap_day_certification_is_due_on_28_february() -> None:
    status = cycle_status(date(2024, 6, 1), ROLLING, last_certified=date(2024, 2, 29))
    assert status.due_date == date(2025, 2, 28)
    assert status.window_start == date(2024, 11, 28)
    assert status.state is WindowState.ALREADY_CERTIFIED


def test_month_end_clamps() -> None:
    assert add_months(date(2025, 8, 31), -3) == date(2025, 5, 31)
    assert add_months(date(2025, 5, 31), 1) == date(2025, 6, 30)
    assert add_months(date(2025, 11, 30), 3) == date(2026, 2, 28)


@given(any_day, st.integers(min_value=-600, max_value=600))
def test_add_months_keeps_day_or_clamps(day: date, months: int) -> None:
    moved = add_months(day, months)
    assert months_between(day.replace(day=1), moved.replace(day=1)) == (months + 1 if months >= 0 else 0)
    assert moved.day <= day.day


@given(any_day, st.integers(min_value=0, max_value=800))
def test_states_follow_the_calendar(certified: date, days_later: int) -> None:
    from datetime import timedelta

    today = certified + timedelta(days=days_later)
    status = cycle_status(today, ROLLING, last_certified=certified)
    assert status.due_date == add_months(certified, 12)
    assert status.window_start == add_months(status.due_date, -3)
    if today < status.window_start:
        assert status.state is WindowState.ALREADY_CERTIFIED and not status.may_certify
    elif today <= status.due_date:
        assert status.state is WindowState.OPEN and status.may_certify
    else:
        assert status.state is WindowState.OVERDUE and status.may_certify
        if status.suspended_from is not None:
            assert status.suspended_from.day == 1 and status.suspended_from > status.due_date


def test_year_boundary_window() -> None:
    status = cycle_status(date(2026, 11, 15), ROLLING, last_certified=date(2026, 1, 20))
    assert (status.window_start, status.due_date) == (date(2026, 10, 20), date(2027, 1, 20))
    assert status.state is WindowState.OPEN


def test_new_retiree_is_not_yet_due() -> None:
    status = cycle_status(date(2026, 3, 1), ROLLING, first_payment=date(2026, 1, 15))
    assert status.state is WindowState.NOT_YET
    assert status.window_start == date(2026, 10, 15)


def test_overdue_suspends_from_next_month() -> None:
    status = cycle_status(date(2026, 7, 2), ROLLING, last_certified=date(2025, 6, 10))
    assert status.state is WindowState.OVERDUE
    assert status.suspended_from == date(2026, 7, 1)
    still_grace = cycle_status(date(2026, 6, 20), ROLLING, last_certified=date(2025, 6, 10))
    assert still_grace.state is WindowState.OVERDUE and still_grace.suspended_from is None


def test_configurable_advance_window() -> None:
    rules = CycleRules(advance_window_months=1)
    status = cycle_status(date(2026, 4, 15), rules, last_certified=date(2025, 6, 10))
    assert status.state is WindowState.ALREADY_CERTIFIED
    assert status.window_start == date(2026, 5, 10)


CAMPAIGN = CycleRules(campaign=parse_campaign("03-01:06-30"))


def test_campaign_open_and_already_certified() -> None:
    assert cycle_status(date(2026, 4, 1), CAMPAIGN, last_certified=date(2025, 5, 1)).state is WindowState.OPEN
    done = cycle_status(date(2026, 5, 1), CAMPAIGN, last_certified=date(2026, 4, 2))
    assert done.state is WindowState.ALREADY_CERTIFIED
    assert done.window_start == date(2027, 3, 1)


def test_campaign_overdue_and_before_start() -> None:
    late = cycle_status(date(2026, 8, 1), CAMPAIGN, last_certified=date(2025, 5, 1))
    assert late.state is WindowState.OVERDUE and late.suspended_from == date(2026, 7, 1)
    early = cycle_status(date(2026, 1, 10), CAMPAIGN, last_certified=date(2025, 5, 1))
    assert early.state is WindowState.ALREADY_CERTIFIED and early.window_start == date(2026, 3, 1)
    missed = cycle_status(date(2026, 1, 10), CAMPAIGN, last_certified=date(2024, 5, 1))
    assert missed.state is WindowState.OVERDUE


def test_campaign_spanning_new_year() -> None:
    rules = CycleRules(campaign=parse_campaign("11-01:02-29"))
    status = cycle_status(date(2027, 1, 15), rules, last_certified=date(2025, 12, 1))
    assert status.state is WindowState.OPEN
    assert (status.window_start, status.window_end) == (date(2026, 11, 1), date(2027, 2, 28))


@pytest.mark.parametrize("bad", ["03-01", "13-01:06-30", "03-01:06-31", "a-b:c-d"])
def test_bad_campaign_setting(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_campaign(bad)
