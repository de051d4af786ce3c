"""Challenges: what the user must do on video (four digits, or a sequence of actions)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from pensioncert.api.deps import DbSession, SettingsDep, Today
from pensioncert.api.schemas import ChallengeOut, ErrorBody, Message
from pensioncert.certification import flow
from pensioncert.settings import Settings
from pensioncert.storage.models import Challenge

router = APIRouter(prefix="/api/v1/sessions", tags=["challenges"])


def challenge_out(row: Challenge, settings: Settings) -> ChallengeOut:
    payload = row.payload or {}
    digits = str(payload.get("digits") or "") or None
    actions = [str(action) for action in payload.get("actions", ())]
    if row.kind == "digits":
        prompts = [Message.of("challenge.read_digits", digits=" ".join(digits or ""))]
        seconds = settings.flow.digits_record_seconds
    else:
        prompts = [Message.of(f"challenge.action.{action}") for action in actions]
        seconds = settings.flow.action_record_seconds * (len(actions) + 0.5)
    return ChallengeOut(
        id=row.id,
        kind=row.kind,  # type: ignore[arg-type]
        digits=digits,
        actions=actions,
        prompts=prompts,
        expires_at=flow.aware(row.expires_at),
        record_seconds=min(seconds, settings.upload.max_video_seconds),
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
