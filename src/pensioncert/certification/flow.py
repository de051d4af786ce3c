"""The phone workflow: identify → eligibility → challenge → verify → record.

The API calls these functions inside one unit of work each; they raise
``FlowError`` (a message code, an HTTP status, parameters) before changing
anything when a step is not allowed, so a refused request leaves no trace but
its audit line. Verification itself runs as a job (``pensioncert.jobs``).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pensioncert import clock
from pensioncert.certification.models import SessionMedia
from pensioncert.certification.service import eligibility_for
from pensioncert.domain import calendar
from pensioncert.domain.eligibility import Decision, DecisionCode, names_match
from pensioncert.domain.idnumber import InvalidIdNumber, parse_id_number
from pensioncert.errors import CodedError
from pensioncert.liveness import challenges as rules
from pensioncert.liveness.replay import MotionTrace
from pensioncert.settings import Settings, get_settings
from pensioncert.storage.crypto import Protector
from pensioncert.storage.media_store import MediaStore
from pensioncert.storage.models import (
    CertificationRecord,
    CertSession,
    Challenge,
    MotionTraceRow,
    Retiree,
    VerificationJob,
)
from pensioncert.storage.repository import audit, failures_since, find_retiree, recordings_started

CHANNELS = ("wechat", "alipay", "cityapp", "terminal")
MODES = ("self", "proxy")
# The seed's processes: WeChat reads four digits; Alipay and the city app follow on-screen actions.
CHALLENGE_KIND = {"wechat": "digits", "alipay": "actions", "cityapp": "actions", "terminal": "actions"}
METHOD = {"digits": "face_digits", "actions": "face_actions"}
OFFLINE_CHANNELS = (
    "offline.service_window",
    "offline.community_workstation",
    "offline.self_service_terminal",
    "offline.ems_door_to_door",
)
RETRY_ADVICE = ("advice.quiet_place", "advice.good_light", "advice.remove_hat_glasses", "advice.face_in_circle")

# Session states, in order. ``ineligible`` and the three outcomes end the phone flow.
STARTED, IDENTIFIED, INELIGIBLE = "started", "identified", "ineligible"
CHALLENGED, VERIFYING = "challenged", "verifying"
PASSED, FAILED, REVIEW = "passed", "failed", "review"
_IDENTIFIABLE = (STARTED, IDENTIFIED, INELIGIBLE)


class FlowError(CodedError):
    """A step that is not allowed now; ``code`` is a message code the API returns with both texts."""

    def __init__(self, code: str, status: int = 400, **params: Any) -> None:
        super().__init__(code=code, **params)
        self.status = status


def utcnow() -> datetime:
    """Now, from the one clock (``pensioncert.clock``: the evaluation harness moves it a year)."""
    return clock.now()


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes for timezone columns; they were written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Helper:
    """Who certifies for someone else (DOMAIN.md: record who helped)."""

    name: str
    phone: str
    relationship: str


@dataclass
class Identification:
    """The outcome of identifying the person: the decision and, if found, the retiree."""

    decision: Decision
    retiree: Retiree | None
    has_reference: bool = False
    reference_source: str | None = None  # registry | id_card | enroll | None


@dataclass
class CardReadOutcome:
    """What the ID-card photos said, for the user to confirm."""

    fields: dict[str, str]
    problems: list[str]
    has_portrait: bool


@dataclass
class Advice:
    """What the result page tells the user besides the outcome."""

    retry_advice: list[str] = field(default_factory=list)
    offline_channels: list[str] = field(default_factory=list)
    attempts_left: int = 0
    retry_allowed: bool = False
    manual_review: bool = False
    cap: str | None = None  # flow.retry_cap_session | _day | _month once a cap is reached


# ---------------------------------------------------------------- sessions


def start_session(
    session: Session, *, channel: str, mode: str, language: str, helper: Helper | None, client_ip: str = ""
) -> CertSession:
    """Open a session for one channel; proxy mode needs the helper's name, phone and relationship."""
    if channel not in CHANNELS:
        raise FlowError("flow.bad_channel", 422, channel=channel)
    if mode not in MODES:
        raise FlowError("flow.bad_mode", 422, mode=mode)
    if mode == "proxy":
        if helper is None or not helper.name.strip() or not helper.relationship.strip():
            raise FlowError("flow.helper_missing", 422)
        phone = "".join(helper.phone.split())
        if not (phone.isdigit() and 7 <= len(phone) <= 15):
            raise FlowError("flow.helper_phone_invalid", 422)
        helper = Helper(helper.name.strip(), phone, helper.relationship.strip())
    else:
        helper = None
    cert_session = CertSession(
        id=str(uuid.uuid4()),
        channel=channel,
        mode=mode,
        language="en" if language.lower().startswith("en") else "zh-CN",
        helper_name=helper.name if helper else None,
        helper_phone=helper.phone if helper else None,
        helper_relationship=helper.relationship if helper else None,
        state=STARTED,
        client_ip=client_ip[:45],
        created_at=utcnow(),
        updated_at=utcnow(),
    )
    session.add(cert_session)
    session.flush()
    audit(session, actor=f"session:{cert_session.id}", role="public", action="session.start",
          detail={"channel": channel, "mode": mode}, ip=client_ip)
    return cert_session


def load_session(session: Session, session_id: str, settings: Settings | None = None) -> CertSession:
    """The session, or a 404 flow error; sessions older than the TTL are refused as expired."""
    settings = settings or get_settings()
    cert_session = session.get(CertSession, session_id)
    if cert_session is None:
        raise FlowError("flow.session_not_found", 404)
    if utcnow() - aware(cert_session.created_at) > timedelta(minutes=settings.flow.session_ttl_minutes):
        raise FlowError("flow.session_expired", 410)
    return cert_session


def touch(cert_session: CertSession, state: str | None = None) -> None:
    if state is not None:
        cert_session.state = state
    cert_session.updated_at = utcnow()


# ---------------------------------------------------------------- reference photos

REFERENCE_CONTEXT = b"reference_photo"  # AES-GCM associated data of Retiree.reference_photo_encrypted


def store_reference_photo(protector: Protector, retiree: Retiree, image: bytes) -> None:
    """Keep an encoded image (PNG/JPEG) as the retiree's reference face, encrypted."""
    retiree.reference_photo_encrypted = protector.encrypt(image, REFERENCE_CONTEXT)
    retiree.updated_at = utcnow()


def load_reference_photo(protector: Protector, retiree: Retiree) -> bytes | None:
    if retiree.reference_photo_encrypted is None:
        return None
    return protector.decrypt(retiree.reference_photo_encrypted, REFERENCE_CONTEXT)


MOTION_CONTEXT = b"motion_trace"  # AES-GCM associated data of MotionTraceRow.trace_encrypted


def kept_motion_traces(session: Session, protector: Protector, retiree_id: int, now: datetime,
                       settings: Settings | None = None) -> list[MotionTrace]:
    """The retiree's most recent motion traces still inside retention (the replay check's memory)."""
    settings = settings or get_settings()
    cutoff = now - timedelta(days=settings.security.motion_trace_retention_days)
    rows = session.scalars(
        select(MotionTraceRow.trace_encrypted)
        .where(MotionTraceRow.retiree_id == retiree_id, MotionTraceRow.created_at > cutoff)
        .order_by(MotionTraceRow.created_at.desc(), MotionTraceRow.id.desc())
        .limit(settings.liveness.replay_max_traces)
    )
    return [MotionTrace.from_bytes(protector.decrypt(row, MOTION_CONTEXT)) for row in rows]


def keep_motion_trace(session: Session, protector: Protector, retiree_id: int, job_id: str, trace: bytes,
                      now: datetime) -> None:
    """Keep one analysed recording's motion trace, encrypted, for later replay checks."""
    session.add(MotionTraceRow(retiree_id=retiree_id, job_id=job_id, created_at=now,
                               trace_encrypted=protector.encrypt(trace, MOTION_CONTEXT)))


# ---------------------------------------------------------------- identification


def identify(
    session: Session,
    cert_session: CertSession,
    protector: Protector,
    *,
    name: str,
    id_number: str,
    today: date,
    source: str = "typed",
    corrected: tuple[str, ...] = (),
) -> Identification:
    """Identify by name + ID number and decide eligibility (DOMAIN.md's order of checks).

    Malformed numbers are errors with the precise reason (``id.*``); unknown people,
    name mismatches and every registry state are decisions the page shows. Once an ID card
    was read in this session the identity is the card's (``check_card_binding``): another
    name or number is refused before the registry is asked, so a card cannot lend its
    portrait to someone else. ``corrected`` lists fields the user knowingly changed.
    """
    if cert_session.state not in _IDENTIFIABLE:
        raise FlowError("flow.already_identified", 409)
    if not name.strip():
        raise FlowError("flow.name_missing", 422)
    try:
        info = parse_id_number(id_number, today=today)
    except InvalidIdNumber as invalid:
        raise FlowError(invalid.code, 422) from invalid
    card = card_portrait(session, cert_session.id)
    corrections: list[str] = []
    if card is not None:  # whatever ``source`` says: a card read in this session is who certifies
        corrections = check_card_binding(card.fields, name=name, id_number=info.normalized,
                                         corrected=corrected, today=today)
    retiree = find_retiree(session, protector, info.normalized)
    if retiree is not None and not names_match(name, retiree.name):
        decision = Decision(DecisionCode.NAME_MISMATCH, may_certify=False)
        retiree = None
    else:
        decision = eligibility_for(retiree, today)
    cert_session.retiree_id = retiree.id if retiree is not None else None
    cert_session.decision_code = decision.code.value
    touch(cert_session, IDENTIFIED if decision.may_certify else INELIGIBLE)
    audit(session, actor=_actor(cert_session), role=_role(cert_session), action="session.identify",
          retiree_id=retiree.id if retiree is not None else None,
          detail={"decision": decision.code.value, "source": source, "channel": cert_session.channel,
                  "card_bound": card is not None, "corrected": corrections})
    outcome = Identification(decision, retiree)
    if retiree is not None:
        outcome.reference_source = reference_source(session, cert_session, retiree)
        outcome.has_reference = outcome.reference_source is not None
    return outcome


def current_identification(session: Session, cert_session: CertSession, today: date) -> Identification | None:
    """The decision of an identified session, recomputed (the cycle may have moved since)."""
    if cert_session.decision_code is None:
        return None
    if cert_session.retiree_id is None:
        return Identification(Decision(DecisionCode(cert_session.decision_code), may_certify=False), None)
    retiree = session.get(Retiree, cert_session.retiree_id)
    decision = eligibility_for(retiree, today)
    source = reference_source(session, cert_session, retiree) if retiree is not None else None
    return Identification(decision, retiree, source is not None, source)


def reference_source(session: Session, cert_session: CertSession, retiree: Retiree) -> str | None:
    """Where the face to compare with comes from: registry, this session's ID card, or enrolment."""
    if retiree.reference_photo_encrypted:
        return "registry"
    if card_portrait(session, cert_session.id) is not None:
        return "id_card"
    if get_settings().flow.enroll_reference_on_first_certification:
        return "enroll"
    return None


def check_card_binding(card: dict[str, Any], *, name: str, id_number: str, corrected: tuple[str, ...],
                       today: date) -> list[str]:
    """Refuse an identity other than the card's; return the fields the user was allowed to correct.

    The number must be the card's exactly: the reader only returns numbers whose check digit
    holds, so no correction of it is ever accepted (a changed digit makes another person).
    The name must be the card's unless OCR marked it uncertain (``IdCardReading.uncertain``)
    or could not read it, and the user confirmed the correction; the registry still checks
    the name against the number afterwards. An expired card is refused.
    """
    number = str(card.get("id_number") or "")
    if not number:
        raise FlowError("ocr.id_unreadable", 422)
    if id_number.upper() != number.upper():
        raise FlowError("document.identity_mismatch", 409)
    if card_expired(card, today):
        raise FlowError("document.card_expired", 409)
    card_name = str(card.get("name") or "")
    if not card_name or names_match(name, card_name):
        return []
    if "name" in corrected and "name" in card.get("uncertain", ()):
        return ["name"]
    raise FlowError("document.identity_mismatch", 409)


def card_expired(fields: dict[str, Any], today: date) -> bool:
    """True when the back side's validity ended before ``today`` (unknown or long-term: not expired)."""
    until = str(fields.get("valid_until") or "")
    if not until or until == "long_term":
        return False
    try:
        return date.fromisoformat(until) < today
    except ValueError:
        return False


def card_portrait(session: Session, session_id: str) -> SessionMedia | None:
    return session.scalars(
        select(SessionMedia)
        .where(SessionMedia.session_id == session_id, SessionMedia.kind == "id_card_portrait")
        .order_by(SessionMedia.id.desc())
        .limit(1)
    ).first()


def record_card_reading(
    session: Session,
    cert_session: CertSession,
    store: MediaStore,
    *,
    fields: dict[str, str],
    problems: list[str],
    portrait_png: bytes | None,
    today: date,
    uncertain: list[str] | None = None,
) -> CardReadOutcome:
    """Keep what OCR read (portrait encrypted) so identification can use it as the reference.

    An expired card is refused (``document.card_expired``) and nothing is kept. A card read
    after the person was identified undoes that identification: the identity must then be
    confirmed again, bound to this card (``check_card_binding``).
    """
    if cert_session.state not in _IDENTIFIABLE:
        raise FlowError("flow.already_identified", 409)
    if card_expired(fields, today):
        raise FlowError("document.card_expired", 409)
    if portrait_png is not None:
        key = store.put(portrait_png, "id_card_portraits")
        session.add(SessionMedia(session_id=cert_session.id, kind="id_card_portrait", media_key=key,
                                 fields=dict(fields) | {"uncertain": list(uncertain or ())}, created_at=utcnow()))
        if cert_session.state != STARTED:
            cert_session.retiree_id = None
            cert_session.decision_code = None
            touch(cert_session, STARTED)
    touch(cert_session)
    audit(session, actor=_actor(cert_session), role=_role(cert_session), action="session.id_card_read",
          detail={"problems": problems, "fields_read": sorted(fields), "uncertain": list(uncertain or ())})
    return CardReadOutcome(fields, problems, portrait_png is not None)


# ---------------------------------------------------------------- challenges


def _rng() -> random.Random:
    return random.SystemRandom()


def issue(session: Session, cert_session: CertSession, *, today: date, now: datetime | None = None,
          rng: random.Random | None = None) -> Challenge:
    """A fresh challenge for an identified, eligible session within its retry caps."""
    now = now or utcnow()
    settings = get_settings()
    if cert_session.state in (PASSED, REVIEW):
        raise FlowError("flow.already_finished", 409)
    if cert_session.retiree_id is None:
        raise FlowError("flow.not_identified", 409)
    retiree = session.get(Retiree, cert_session.retiree_id)
    assert retiree is not None
    decision = eligibility_for(retiree, today)
    if not decision.may_certify:
        raise FlowError(decision.code.value, 409, **decision.params)
    if _pending_job(session, cert_session.id) is not None:
        raise FlowError("flow.verification_running", 409)
    _check_caps(session, cert_session, retiree, now, settings)
    if reference_source(session, cert_session, retiree) is None:
        raise FlowError("flow.no_reference", 409)
    kind = CHALLENGE_KIND[cert_session.channel]
    language = "en" if cert_session.language == "en" else "zh"
    issued = rules.issue_challenge(kind, rng or _rng(), now, cert_session.id, settings.liveness, language=language)
    row = Challenge(
        id=uuid.uuid4().hex,  # not from ``rng``: ids stay unguessable whatever draws the challenge
        session_id=cert_session.id,
        kind=issued.kind.value,
        # The schedule is kept with the content and revealed with it only by ``start``.
        payload={"digits": issued.digits, "actions": list(issued.actions), "language": issued.language,
                 "schedule": list(issued.schedule)},
        issued_at=issued.issued_at,
        expires_at=issued.expires_at,
    )
    session.add(row)
    touch(cert_session, CHALLENGED)
    audit(session, actor=_actor(cert_session), role=_role(cert_session), action="challenge.issue",
          retiree_id=retiree.id, detail={"challenge_id": row.id, "kind": row.kind})
    return row


def _check_caps(session: Session, cert_session: CertSession, retiree: Retiree, now: datetime,
                settings: Settings) -> None:
    if rules.attempts_exhausted_in_session(attempts_in_session(session, cert_session.id), settings.liveness):
        raise FlowError("flow.retry_cap_session", 429)
    if rules.attempts_exhausted_today(attempts_today(session, retiree.id, now), settings.liveness):
        raise FlowError("flow.retry_cap_day", 429)
    if rules.attempts_exhausted_in_30_days(attempts_in_30_days(session, retiree.id, now), settings.liveness):
        raise FlowError("flow.retry_cap_month", 429)


def day_start(now: datetime) -> datetime:
    """Start of the agency's day (settings.cycle.time_zone) containing ``now``, in UTC."""
    return calendar.local_day_start(now, get_settings().cycle.time_zone)


def session_failures(session: Session, session_id: str) -> int:
    return len(list(session.scalars(
        select(CertificationRecord.id).where(CertificationRecord.session_id == session_id,
                                             CertificationRecord.result == FAILED)
    )))


def attempts_in_session(session: Session, session_id: str) -> int:
    """Attempts a session has used for its retry cap: every started recording, failed or abandoned."""
    return max(session_failures(session, session_id), recordings_started(session, session_id=session_id))


def attempts_today(session: Session, retiree_id: int, now: datetime) -> int:
    """Attempts a retiree has used today (the agency's day), over all sessions: starts or failures."""
    since = day_start(now)
    return max(failures_since(session, retiree_id, since),
               recordings_started(session, retiree_id=retiree_id, since=since))


def attempts_in_30_days(session: Session, retiree_id: int, now: datetime) -> int:
    """Attempts a retiree has used in the last 30 days (rolling), over all sessions: starts or failures."""
    since = now - timedelta(days=30)
    return max(failures_since(session, retiree_id, since),
               recordings_started(session, retiree_id=retiree_id, since=since))


def as_rule_challenge(row: Challenge) -> rules.Challenge:
    """The pure rules' view of a stored challenge (schedule from the payload, clock from ``started_at``)."""
    payload = row.payload or {}
    return rules.Challenge(
        kind=rules.ChallengeKind(row.kind),
        session_id=row.session_id,
        issued_at=aware(row.issued_at),
        expires_at=aware(row.expires_at),
        challenge_id=row.id,
        digits=str(payload.get("digits", "")),
        actions=tuple(payload.get("actions", ())),
        language=str(payload.get("language", "en")),
        used_at=aware(row.used_at) if row.used_at else None,
        schedule=tuple(float(at) for at in payload.get("schedule", ())),
        started_at=aware(row.started_at) if row.started_at else None,
    )


def start_challenge(session: Session, cert_session: CertSession, challenge_id: str, *, timed: bool,
                    now: datetime | None = None) -> rules.Challenge:
    """Start the challenge's clock: the page records from now on and may show content and schedule.

    Once only, whoever asks: a second start (to learn the schedule, rehearse, then answer) is
    refused as used, and the start is one conditional UPDATE so two racing requests cannot
    both succeed. ``timed=False`` is the native-camera fallback: the schedule is dropped for
    good (such answers are decided by content where it is heard, else by a reviewer).
    """
    now = now or utcnow()
    if cert_session.state in (PASSED, REVIEW):
        raise FlowError("flow.already_finished", 409)
    if _pending_job(session, cert_session.id) is not None:
        raise FlowError("flow.verification_running", 409)
    row = session.get(Challenge, challenge_id)
    if row is None or row.session_id != cert_session.id:
        raise FlowError("liveness.challenge_foreign", 409)
    try:
        started = rules.start_challenge(as_rule_challenge(row), now, timed=timed)
    except rules.ChallengeError as refused:
        raise FlowError(refused.code, 409) from refused
    payload = dict(row.payload or {}) | {"schedule": list(started.schedule)}
    won = session.execute(
        update(Challenge)
        .where(Challenge.id == row.id, Challenge.started_at.is_(None), Challenge.used_at.is_(None))
        .values(started_at=now, payload=payload)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not won:
        raise FlowError("liveness.challenge_used", 409)
    session.refresh(row)
    touch(cert_session)
    audit(session, actor=_actor(cert_session), role=_role(cert_session), action="challenge.start",
          retiree_id=cert_session.retiree_id,
          detail={"challenge_id": row.id, "timed": started.timed, "requested_timed": timed})
    return started


def check_challenge(session: Session, cert_session: CertSession, challenge_id: str, now: datetime) -> Challenge:
    """The challenge this upload answers, or the error that refuses it.

    Foreign / used / expired, and (issue #12) not started → ``liveness.challenge_not_started``,
    arrived after the answer deadline → ``liveness.challenge_expired``; ``now`` is the arrival.
    """
    row = session.get(Challenge, challenge_id)
    if row is None:
        raise FlowError("liveness.challenge_foreign", 409)
    try:
        rules.check_challenge_use(as_rule_challenge(row), cert_session.id, now, get_settings().liveness)
    except rules.ChallengeError as refused:
        raise FlowError(refused.code, 409) from refused
    return row


# ---------------------------------------------------------------- recordings and jobs


def accept_recording(
    session: Session, cert_session: CertSession, challenge: Challenge, store: MediaStore, *,
    data: bytes, content_type: str, now: datetime,
) -> VerificationJob:
    """Consume the challenge, store the recording encrypted and create its job (all or nothing)."""
    challenge.used_at = now
    key = store.put(data, "recordings")
    job = VerificationJob(
        id=str(uuid.uuid4()),
        session_id=cert_session.id,
        challenge_id=challenge.id,
        state="pending",
        progress=0,
        media_path=key,
        media_content_type=content_type[:64],
        created_at=now,
    )
    session.add(job)
    touch(cert_session, VERIFYING)
    audit(session, actor=_actor(cert_session), role=_role(cert_session), action="recording.upload",
          retiree_id=cert_session.retiree_id, detail={"job_id": job.id, "bytes": len(data), "type": content_type})
    return job


def _pending_job(session: Session, session_id: str) -> VerificationJob | None:
    return session.scalars(
        select(VerificationJob).where(VerificationJob.session_id == session_id,
                                      VerificationJob.state.in_(("pending", "running")))
    ).first()


def latest_job(session: Session, session_id: str) -> VerificationJob | None:
    return session.scalars(
        select(VerificationJob).where(VerificationJob.session_id == session_id)
        .order_by(VerificationJob.created_at.desc(), VerificationJob.id.desc()).limit(1)
    ).first()


def advice_for(session: Session, cert_session: CertSession, result: str | None, now: datetime | None = None) -> Advice:
    """Retry advice, offline channels and how many tries are left, for the result page."""
    now = now or utcnow()
    limits = get_settings().liveness
    advice = Advice(offline_channels=list(OFFLINE_CHANNELS))
    if result in (FAILED, REVIEW, "error"):
        advice.retry_advice = list(RETRY_ADVICE)
    used = attempts_in_session(session, cert_session.id)
    left = max(0, limits.max_attempts_per_session - used)
    if left == 0:
        advice.cap = "flow.retry_cap_session"
    if cert_session.retiree_id is not None:
        today_left = limits.max_attempts_per_retiree_per_day - attempts_today(session, cert_session.retiree_id, now)
        if today_left <= 0 and advice.cap is None:
            advice.cap = "flow.retry_cap_day"
        month_left = limits.max_attempts_per_retiree_per_30_days - attempts_in_30_days(
            session, cert_session.retiree_id, now)
        if month_left <= 0 and advice.cap is None:
            advice.cap = "flow.retry_cap_month"
        left = min(left, max(0, today_left), max(0, month_left))
    advice.attempts_left = left
    advice.retry_allowed = result in (FAILED, "error") and left > 0
    advice.manual_review = result == REVIEW or (result == FAILED and left == 0)
    return advice


# ---------------------------------------------------------------- who acted


def _actor(cert_session: CertSession) -> str:
    return f"session:{cert_session.id}"


def _role(cert_session: CertSession) -> str:
    return "proxy" if cert_session.mode == "proxy" else "retiree"


def proxy_of(cert_session: CertSession) -> tuple[str | None, str | None, str | None]:
    return cert_session.helper_name, cert_session.helper_phone, cert_session.helper_relationship
