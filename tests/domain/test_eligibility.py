from datetime import date

import pytest

from pensioncert import messages
from pensioncert.domain.cycle import CycleRules
from pensioncert.domain.eligibility import (
    DecisionCode,
    PensionType,
    RegistryStatus,
    RetireeFacts,
    SuspensionReason,
    decide_eligibility,
    names_match,
    resumption_on_certification,
)

TODAY = date(2026, 11, 27)
RULES = CycleRules()


def facts(**changes: object) -> RetireeFacts:
    base: dict[str, object] = dict(
        pension_type=PensionType.EMPLOYEE,
        retired_locally=True,
        status=RegistryStatus.NORMAL,
        first_payment=date(2015, 3, 1),
        last_certified=date(2025, 12, 20),
    )
    base.update(changes)
    return RetireeFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "code", "may"),
    [
        ({}, DecisionCode.PROCEED, True),
        ({"last_certified": date(2026, 6, 1)}, DecisionCode.ALREADY_CERTIFIED, False),
        ({"last_certified": None, "first_payment": date(2026, 6, 1)}, DecisionCode.NOT_YET, False),
        ({"last_certified": date(2025, 9, 1)}, DecisionCode.PROCEED_OVERDUE, True),
        ({"status": RegistryStatus.INFO_ABNORMAL}, DecisionCode.INFO_ABNORMAL, False),
        ({"status": RegistryStatus.TERMINATED}, DecisionCode.TERMINATED, False),
        ({"retired_locally": False}, DecisionCode.OUT_OF_SCOPE, False),
        ({"pension_type": PensionType.OTHER}, DecisionCode.OUT_OF_SCOPE, False),
        ({"status": RegistryStatus.SUSPENDED, "last_certified": date(2026, 6, 1)}, DecisionCode.PROCEED_OVERDUE, True),
    ],
)
def test_every_seed_case(changes: dict[str, object], code: DecisionCode, may: bool) -> None:
    decision = decide_eligibility(facts(**changes), TODAY, RULES)
    assert decision.code is code
    assert decision.may_certify is may
    # Every decision renders in both languages with its parameters.
    rendered = messages.both(decision.code, **decision.params)
    assert rendered["zh"] and rendered["en"]


def test_unknown_retiree() -> None:
    assert decide_eligibility(None, TODAY, RULES).code is DecisionCode.NOT_FOUND


def test_messages_name_the_window() -> None:
    decision = decide_eligibility(facts(last_certified=date(2026, 6, 1)), TODAY, RULES)
    zh = messages.text(decision.code, "zh-CN", **decision.params)
    assert "2026年6月1日" in zh and "2027年3月至2027年6月" in zh
    en = messages.text(decision.code, "en", **decision.params)
    assert "2026-06-01" in en and "2027-03 to 2027-06" in en


def test_back_pay_counts_suspended_months() -> None:
    resumption = resumption_on_certification(date(2026, 7, 1), date(2026, 9, 15))
    assert resumption.resume_from == date(2026, 10, 1)
    assert resumption.back_pay_months == 3
    none = resumption_on_certification(date(2026, 7, 1), date(2026, 9, 15), SuspensionReason.IMPRISONMENT)
    assert none.back_pay_months == 0


def test_names_match_tolerates_spacing_and_middle_dot() -> None:
    assert names_match("张 三", "张三")
    assert names_match("买买提·艾力", "买买提艾力")
    assert not names_match("张三", "张四")
