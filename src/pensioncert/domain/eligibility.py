"""Who may certify, and the decision the user sees before any camera opens.

Scope: retirees who retired in this city and draw the enterprise employees' or
the urban and rural residents' basic pension. Registry status decides the rest.
Every decision carries a stable code (a message-catalogue key) and the
parameters its message needs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date

from pensioncert.domain.calendar import first_of_next_month, months_between
from pensioncert.domain.cycle import CycleRules, CycleStatus, WindowState, cycle_status


class PensionType(enum.StrEnum):
    EMPLOYEE = "employee"  # enterprise employees' basic pension
    RESIDENT = "resident"  # urban and rural residents' pension
    OTHER = "other"  # e.g. civil-service schemes: not certified here


class RegistryStatus(enum.StrEnum):
    NORMAL = "normal"
    INFO_ABNORMAL = "info_abnormal"  # ID number, residence or name changed or wrong
    SUSPENDED = "suspended"  # overdue: may certify, which resumes payment
    TERMINATED = "terminated"  # deceased or transferred out: may not certify


class SuspensionReason(enum.StrEnum):
    OVERDUE = "overdue"
    IMPRISONMENT = "imprisonment"  # no back pay on resumption
    OTHER = "other"


@dataclass(frozen=True)
class RetireeFacts:
    """What the rules need to know about one retiree (no I/O, no ORM)."""

    pension_type: PensionType
    retired_locally: bool
    status: RegistryStatus
    first_payment: date
    last_certified: date | None = None
    region_code: str = ""
    suspension_reason: SuspensionReason | None = None


class DecisionCode(enum.StrEnum):
    PROCEED = "decision.proceed"
    PROCEED_OVERDUE = "decision.proceed_overdue"
    NOT_YET = "decision.not_yet"
    ALREADY_CERTIFIED = "decision.already_certified"
    INFO_ABNORMAL = "decision.info_abnormal"
    OUT_OF_SCOPE = "decision.out_of_scope"
    TERMINATED = "decision.terminated"
    NOT_FOUND = "decision.not_found"
    NAME_MISMATCH = "decision.name_mismatch"


@dataclass(frozen=True)
class Decision:
    """The eligibility decision: may this retiree certify now, and what do we tell them."""

    code: DecisionCode
    may_certify: bool
    cycle: CycleStatus | None = None
    params: dict[str, str | int] = field(default_factory=dict)


def window_params(status: CycleStatus) -> dict[str, str | int]:
    """Message parameters describing a window and, where known, the last certification."""
    params: dict[str, str | int] = {
        "start_year": status.window_start.year,
        "start_month": status.window_start.month,
        "end_year": status.window_end.year,
        "end_month": status.window_end.month,
        "due_date": status.due_date.isoformat(),
    }
    if status.last_certified is not None:
        params.update(
            certified_on=status.last_certified.isoformat(),
            certified_year=status.last_certified.year,
            certified_month=status.last_certified.month,
            certified_day=status.last_certified.day,
        )
    return params


_STATE_TO_CODE = {
    WindowState.OPEN: DecisionCode.PROCEED,
    WindowState.OVERDUE: DecisionCode.PROCEED_OVERDUE,
    WindowState.NOT_YET: DecisionCode.NOT_YET,
    WindowState.ALREADY_CERTIFIED: DecisionCode.ALREADY_CERTIFIED,
}


def names_match(typed: str, registered: str) -> bool:
    """Compare names as people type them: ignore spaces and the middle dot of minority names."""

    def canonical(name: str) -> str:
        return "".join(name.split()).replace("·", "").replace("•", "").replace(".", "").casefold()

    return canonical(typed) == canonical(registered)


def decide_eligibility(facts: RetireeFacts | None, today: date, rules: CycleRules) -> Decision:
    """The decision for every case the seed names, in the order an agency checks them."""
    if facts is None:
        return Decision(DecisionCode.NOT_FOUND, may_certify=False)
    if not facts.retired_locally or facts.pension_type is PensionType.OTHER:
        return Decision(DecisionCode.OUT_OF_SCOPE, may_certify=False)
    if facts.status is RegistryStatus.TERMINATED:
        return Decision(DecisionCode.TERMINATED, may_certify=False)
    if facts.status is RegistryStatus.INFO_ABNORMAL:
        return Decision(DecisionCode.INFO_ABNORMAL, may_certify=False)
    status = cycle_status(today, rules, last_certified=facts.last_certified, first_payment=facts.first_payment)
    if facts.status is RegistryStatus.SUSPENDED and not status.may_certify:
        # Suspended by the agency for a reason the cycle does not see: certifying resumes payment.
        status = CycleStatus(
            WindowState.OVERDUE, status.window_start, status.window_end, status.due_date,
            status.last_certified, status.suspended_from or today,
        )
    code = _STATE_TO_CODE[status.state]
    return Decision(code, may_certify=status.may_certify, cycle=status, params=window_params(status))


@dataclass(frozen=True)
class PaymentResumption:
    """What a successful certification does to a suspended pension."""

    resume_from: date  # payments restart from the first day of this month
    back_pay_months: int  # suspended months paid in arrears
    suspended_from: date


def resumption_on_certification(
    suspended_from: date, certified_on: date, reason: SuspensionReason = SuspensionReason.OVERDUE
) -> PaymentResumption:
    """Payment resumes from the month after certification; suspended months are back-paid.

    No back pay where the suspension was for imprisonment (national rules).
    """
    resume_from = first_of_next_month(certified_on)
    months = months_between(suspended_from.replace(day=1), certified_on.replace(day=1))
    if reason is SuspensionReason.IMPRISONMENT:
        months = 0
    return PaymentResumption(resume_from=resume_from, back_pay_months=months, suspended_from=suspended_from)


def overdue_suspension_date(due_date: date) -> date:
    """Payment is suspended from the month after the due date."""
    return first_of_next_month(due_date)
