"""Sessions: start one per channel visit, identify the person, read the ID card, get the decision."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, UploadFile, status

from pensioncert.api.deps import ClientIp, DbSession, ProtectorDep, SettingsDep, StoreDep, Today
from pensioncert.api.present import decision_out
from pensioncert.api.schemas import (
    CardFields,
    CardReadingOut,
    DecisionOut,
    ErrorBody,
    IdentityIn,
    Message,
    SessionIn,
    SessionOut,
)
from pensioncert.api.uploads import read_limited
from pensioncert.certification import flow
from pensioncert.domain.calendar import local_date
from pensioncert.settings import Settings, get_settings
from pensioncert.storage.models import CertSession

router = APIRouter(prefix="/api/v1/sessions", tags=["sessions"], responses={
    404: {"model": ErrorBody}, 409: {"model": ErrorBody}, 410: {"model": ErrorBody}, 422: {"model": ErrorBody}})

_CARD_FIELDS = set(CardFields.model_fields)


def session_out(db: DbSession, cert_session: CertSession, today: Today) -> SessionOut:
    identification = flow.current_identification(db, cert_session, today)
    advice = flow.advice_for(db, cert_session, None)
    decision = with_cap(db, cert_session, decision_out(identification)) if identification is not None else None
    return SessionOut(
        id=cert_session.id,
        channel=cert_session.channel,  # type: ignore[arg-type]
        mode=cert_session.mode,  # type: ignore[arg-type]
        language=cert_session.language,
        state=cert_session.state,
        decision=decision,
        helper_name=cert_session.helper_name,
        attempts_left=advice.attempts_left,
    )


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SessionOut)
def start_session(body: SessionIn, db: DbSession, today: Today, ip: ClientIp) -> SessionOut:
    """Start a certification visit on one channel; ``proxy`` mode records who helps."""
    helper = flow.Helper(body.helper.name, body.helper.phone, body.helper.relationship) if body.helper else None
    cert_session = flow.start_session(db, channel=body.channel, mode=body.mode, language=body.language,
                                      helper=helper, client_ip=ip)
    return session_out(db, cert_session, today)


@router.get("/{session_id}", response_model=SessionOut)
def get_session(session_id: str, db: DbSession, today: Today) -> SessionOut:
    return session_out(db, flow.load_session(db, session_id), today)


@router.post("/{session_id}/identity", response_model=DecisionOut)
def identify(session_id: str, body: IdentityIn, db: DbSession, protector: ProtectorDep, today: Today) -> DecisionOut:
    """Identify by name + ID number (typed, or confirmed after an ID-card scan) and decide eligibility."""
    cert_session = flow.load_session(db, session_id)
    identification = flow.identify(db, cert_session, protector, name=body.name, id_number=body.id_number,
                                   today=today, source=body.source, corrected=tuple(body.corrected))
    return with_cap(db, cert_session, decision_out(identification))


def with_cap(db: DbSession, cert_session: CertSession, decision: DecisionOut) -> DecisionOut:
    """An eligible person whose tries are used up today hears it now, not after recording (issue #14)."""
    if not decision.may_certify:
        return decision
    advice = flow.advice_for(db, cert_session, None)
    if advice.cap is None:
        return decision
    retry_on = None
    if advice.cap == "flow.retry_cap_day":  # the count restarts at the agency's next midnight
        retry_on = local_date(flow.utcnow(), get_settings().cycle.time_zone) + timedelta(days=1)
    return decision.model_copy(update={"cap": Message.of(advice.cap), "retry_on": retry_on})


@router.get("/{session_id}/eligibility", response_model=DecisionOut)
def eligibility(session_id: str, db: DbSession, today: Today) -> DecisionOut:
    """The current decision of an identified session (recomputed: the cycle may have moved)."""
    cert_session = flow.load_session(db, session_id)
    identification = flow.current_identification(db, cert_session, today)
    if identification is None:
        raise flow.FlowError("flow.not_identified", 409)
    return with_cap(db, cert_session, decision_out(identification))


@router.post("/{session_id}/id-card", response_model=CardReadingOut,
             responses={413: {"model": ErrorBody}, 415: {"model": ErrorBody}})
def read_id_card(
    session_id: str,
    db: DbSession,
    settings: SettingsDep,
    store: StoreDep,
    today: Today,
    front: Annotated[UploadFile, File(description="photo of the front (portrait side)")],
    back: Annotated[UploadFile | None, File(description="photo of the back (issuing authority side)")] = None,
) -> CardReadingOut:
    """OCR the ID card; the user confirms (or corrects) the fields, then calls ``/identity``."""
    from pensioncert.documents import cross_check, read_id_card

    cert_session = flow.load_session(db, session_id)
    if cert_session.state not in ("started", "identified", "ineligible"):
        raise flow.FlowError("flow.already_identified", 409)
    front_bytes = read_limited(front, settings.upload.max_image_bytes, kind="image")
    back_bytes = read_limited(back, settings.upload.max_image_bytes, kind="image") if back is not None else None
    front_reading = read_id_card(_decode_photo(front_bytes, settings), "front", today=today)
    problems = list(front_reading.problems)
    fields = dict(front_reading.fields)
    if back_bytes is not None:
        back_reading = read_id_card(_decode_photo(back_bytes, settings), "back", today=today)
        fields |= back_reading.fields
        problems = cross_check(front_reading, back_reading, today=today)
    elif front_reading.side != "front":
        problems.append("ocr.wrong_side" if front_reading.side == "back" else "ocr.not_id_card")
    problems = list(dict.fromkeys(problems))
    portrait = _png(front_reading.portrait) if front_reading.portrait is not None else None
    # An expired card is refused here (document.card_expired) and nothing of it is kept.
    outcome = flow.record_card_reading(db, cert_session, store, fields=fields, problems=problems,
                                       portrait_png=portrait, today=today, uncertain=front_reading.uncertain)
    return CardReadingOut(
        ok=not outcome.problems and "id_number" in fields and "name" in fields,
        fields=CardFields(**{k: v for k, v in fields.items() if k in _CARD_FIELDS}),
        problems=[_problem(code) for code in outcome.problems],
        portrait_found=outcome.has_portrait,
        uncertain=list(front_reading.uncertain),
    )


def _decode_photo(data: bytes, settings: Settings) -> np.ndarray:
    """Decode a card photo, refusing decompression bombs from the header before any pixel is decoded."""
    from pensioncert.media.images import ImageRejected, decode_image_bgr

    try:
        return decode_image_bgr(data, settings.upload.max_image_pixels)
    except ImageRejected as rejected:
        raise flow.FlowError(rejected.code, 413 if rejected.code == "media.image_too_large" else 422) from rejected


def _problem(code: str) -> Message:
    try:
        return Message.of(code)
    except Exception:  # a reader code without catalogue text must not hide the others
        return Message.of("flow.card_problem", problem=code)


def _png(bgr: object) -> bytes:
    """The OCR portrait (BGR numpy) as PNG bytes, the form every stored reference takes."""
    import numpy as np
    from PIL import Image

    array = np.asarray(bgr)[:, :, ::-1]
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(array)).save(buffer, format="PNG")
    return buffer.getvalue()
