"""Challenges: what the user must do on video (four digits, or a sequence of actions).

Two steps, so that the content is fresh in time (issue #12): ``POST …/challenges`` issues one
and says only its kind and length; ``POST …/challenges/{id}/start`` starts its clock when the
page starts recording and only then reveals the digits or actions and the time at which each
is prompted. The upload must arrive before the answer deadline.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from pensioncert.api.deps import DbSession, SettingsDep, Today
from pensioncert.api.schemas import ChallengeOut, ChallengeStartIn, ChallengeStartOut, ChallengeStep, ErrorBody, Message
from pensioncert.certification import flow
from pensioncert.liveness import challenges as rules
from pensioncert.settings import Settings
from pensioncert.storage.models import Challenge

router = APIRouter(prefix="/api/v1/sessions", tags=["challenges"])


def challenge_out(row: Challenge, settings: Settings) -> ChallengeOut:
    """The issued challenge without its content or schedule."""
    challenge = flow.as_rule_challenge(row)
    return ChallengeOut(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        language=challenge.language,  # type: ignore[arg-type]
        step_count=len(challenge.steps),
        expires_at=challenge.expires_at,
        record_seconds=_record_seconds(challenge, settings),
    )


def _record_seconds(challenge: rules.Challenge, settings: Settings) -> float:
    return round(min(challenge.record_seconds(settings.liveness), settings.upload.max_video_seconds), 2)


def start_out(challenge: rules.Challenge, settings: Settings) -> ChallengeStartOut:
    """Content, one step per prompt (with its time when timed), and the answer deadline."""
    times: list[float | None] = list(challenge.schedule) if challenge.timed else [None] * len(challenge.steps)
    steps = []
    for step, at in zip(challenge.steps, times, strict=True):
        if challenge.kind is rules.ChallengeKind.DIGITS:
            steps.append(ChallengeStep(at=at, code="challenge.digit", digit=step,
                                       prompt=Message.of("challenge.digit", digit=step)))
        else:
            code = f"challenge.action.{step}"
            steps.append(ChallengeStep(at=at, code=code, action=step, prompt=Message.of(code)))
    deadline = challenge.answer_deadline(settings.liveness)
    assert challenge.started_at is not None and deadline is not None
    return ChallengeStartOut(
        id=challenge.challenge_id,
        kind=challenge.kind.value,
        timed=challenge.timed,
        started_at=challenge.started_at,
        answer_deadline=deadline,
        record_seconds=_record_seconds(challenge, settings),
        digits=challenge.digits or None,
        actions=list(challenge.actions),
        steps=steps,
    )


@router.post("/{session_id}/challenges", status_code=status.HTTP_201_CREATED, response_model=ChallengeOut,
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 429: {"model": ErrorBody}})
def issue_challenge(session_id: str, request: Request, db: DbSession, settings: SettingsDep,
                    today: Today) -> ChallengeOut:
    """Issue a fresh single-use challenge (digits on WeChat, actions on Alipay and the city app)."""
    cert_session = flow.load_session(db, session_id)
    # Production draws from SystemRandom; only tests put a seeded Random here (create_app(challenge_rng=…)).
    rng = getattr(request.app.state, "challenge_rng", None)
    row = flow.issue(db, cert_session, today=today, rng=rng)
    return challenge_out(row, settings)


@router.post("/{session_id}/challenges/{challenge_id}/start", response_model=ChallengeStartOut,
             responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 410: {"model": ErrorBody}})
def start_challenge(session_id: str, challenge_id: str, body: ChallengeStartIn, db: DbSession,
                    settings: SettingsDep) -> ChallengeStartOut:
    """Start recording: reveal the prompts and their times, once (a second start is ``liveness.challenge_used``).

    ``{"timed": false}`` is the native-camera fallback: every step at once (``at`` null); such
    an answer is decided automatically only for English digits, otherwise by a reviewer.
    """
    cert_session = flow.load_session(db, session_id)
    started = flow.start_challenge(db, cert_session, challenge_id, timed=body.timed)
    return start_out(started, settings)
