"""Results: follow a verification job, then read the outcome with what to do next."""

from __future__ import annotations

from fastapi import APIRouter

from pensioncert.api.deps import DbSession, Today
from pensioncert.api.present import job_out, window_of
from pensioncert.api.schemas import ErrorBody, JobOut, Message, ResultOut
from pensioncert.certification import flow
from pensioncert.certification.service import eligibility_for
from pensioncert.liveness.analyse import USER_CODES
from pensioncert.storage.models import Retiree, VerificationJob
from pensioncert.storage.repository import latest_review_of_session

router = APIRouter(prefix="/api/v1", tags=["results"], responses={404: {"model": ErrorBody}})

_OUTCOME_MESSAGE = {
    "pending": "result.pending",
    "passed": "result.passed",
    "failed": "result.failed",
    "review": "result.review",
    "error": "result.error",
    "none": "result.none",
}


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, db: DbSession) -> JobOut:
    """Progress of one verification (poll it; ``state`` ends at ``decided``)."""
    job = db.get(VerificationJob, job_id)
    if job is None:
        raise flow.FlowError("flow.job_not_found", 404)
    return job_out(job)


@router.get("/sessions/{session_id}/result", response_model=ResultOut)
def get_result(session_id: str, db: DbSession, today: Today) -> ResultOut:
    """The outcome of the session's latest recording: passed (with the next window) or why not and what next."""
    cert_session = flow.load_session(db, session_id)
    job = flow.latest_job(db, cert_session.id)
    if job is None:
        outcome = "none"
    elif job.state != "decided":
        outcome = "pending"
    else:
        outcome = job.result or "error"
    review = latest_review_of_session(db, cert_session.id) if outcome == "review" else None
    if review is not None:  # staff decided the case: the phone shows their decision
        outcome = "passed" if review.result == "passed" else "failed"
    advice = flow.advice_for(db, cert_session, outcome)
    # What the user may know: the identity, splice and replay findings read as one (USER_CODES);
    # staff see the job's own codes in the back office.
    reasons = [USER_CODES.get(r, r) for r in job.reasons] if job is not None and outcome in ("failed", "review") else []
    if review is not None and outcome == "failed":
        reasons = list(review.reasons)
    if outcome == "failed" and advice.cap is not None:
        reasons.append(advice.cap)
    next_window = None
    params: dict[str, object] = {}
    if outcome == "passed" and cert_session.retiree_id is not None:
        decision = eligibility_for(db.get(Retiree, cert_session.retiree_id), today)
        next_window = window_of(decision.cycle)
        if decision.cycle is not None:
            params = {"start_year": decision.cycle.window_start.year, "start_month": decision.cycle.window_start.month,
                      "end_year": decision.cycle.window_end.year, "end_month": decision.cycle.window_end.month}
    code = _OUTCOME_MESSAGE[outcome] if outcome != "passed" or params else "result.passed_plain"
    if outcome == "failed" and advice.manual_review:
        code = "result.failed_final"
    return ResultOut(
        session_id=cert_session.id,
        state=cert_session.state,
        outcome=outcome,  # type: ignore[arg-type]
        job=job_out(job) if job is not None else None,
        message=Message.of(code, **params),
        reasons=[_reason(code) for code in dict.fromkeys(reasons)],
        advice=[Message.of(code) for code in advice.retry_advice],
        offline_channels=[Message.of(code) for code in advice.offline_channels] if outcome != "passed" else [],
        next_window=next_window,
        attempts_left=advice.attempts_left,
        retry_allowed=advice.retry_allowed,
        manual_review=advice.manual_review,
        proxy=cert_session.mode == "proxy",
    )


def _reason(code: str) -> Message:
    """A reason as the user reads it; codes from other catalogues fall back to a generic line."""
    try:
        return Message.of(code)
    except Exception:
        return Message.of("result.reason_unknown")
