"""Turn flow objects into response models: masking, messages, windows. No queries here."""

from __future__ import annotations

from pensioncert.api.schemas import DecisionOut, JobOut, Message, Window
from pensioncert.certification.flow import Identification
from pensioncert.domain.cycle import CycleStatus
from pensioncert.domain.eligibility import DecisionCode
from pensioncert.storage.models import VerificationJob


def mask_name(name: str) -> str:
    """Show the surname and, for long names, the last character: 张*, 张*英."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def window_of(cycle: CycleStatus | None) -> Window | None:
    if cycle is None:
        return None
    return Window(start=cycle.window_start, end=cycle.window_end, due_date=cycle.due_date)


# "No such retiree" and "this number's retiree has another name" are one answer to the public, or
# anyone could learn which ID numbers belong to pensioners (issue 13.3). The audit log and the
# back office keep the precise decision.
NO_MATCH = "decision.no_match"
_PUBLIC_CODES = {DecisionCode.NOT_FOUND: NO_MATCH, DecisionCode.NAME_MISMATCH: NO_MATCH}


def public_code(code: DecisionCode) -> str:
    """The decision code a phone or integrator is shown."""
    return _PUBLIC_CODES.get(code, code.value)


def decision_out(identification: Identification) -> DecisionOut:
    decision = identification.decision
    retiree = identification.retiree
    code = public_code(decision.code)
    return DecisionOut(
        code=code,
        may_certify=decision.may_certify,
        message=Message.of(code, **(decision.params if code == decision.code.value else {})),
        window=window_of(decision.cycle),
        retiree_name=mask_name(retiree.name) if retiree is not None else None,
        id_number_masked=retiree.id_number_masked if retiree is not None else None,
        has_reference=identification.has_reference,
    )


def job_out(job: VerificationJob) -> JobOut:
    return JobOut(id=job.id, session_id=job.session_id, state=job.state,  # type: ignore[arg-type]
                  progress=job.progress, result=job.result)
