"""Verification of one recording, as an idempotent job over the persisted state machine.

``pending → running → decided``. A worker claims a job with one conditional
UPDATE (pending, or running with an expired lease: the previous worker died),
analyses outside any transaction, then decides with another conditional UPDATE
in the same transaction as the certification record. So a job is decided
exactly once whichever backend runs it, and running it again after a crash or
a duplicate delivery is safe: a decided job is left alone.
"""

from __future__ import annotations

import io
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from pensioncert.certification import flow
from pensioncert.certification.models import SessionMedia
from pensioncert.domain import calendar
from pensioncert.liveness import challenges as rules
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import protector_from_settings
from pensioncert.storage.db import Database, get_database
from pensioncert.storage.media_store import MediaStore, media_store_from_settings
from pensioncert.storage.models import CertSession, Challenge, Retiree, VerificationJob
from pensioncert.storage.repository import audit, notify, record_certification

log = logging.getLogger(__name__)

# Lease length and retry cap live in settings.jobs (lease_seconds, max_runs): the kill tests shorten the lease.


@dataclass
class Analysis:
    """What the face and liveness checks concluded about one recording (scores: staff only).

    ``passed`` is the analyser's verdict; ``review`` lists why a machine may not pass it even
    so (a person must look): the decision is ``passed`` only when ``passed`` and no ``review``.
    """

    passed: bool
    reasons: list[str]
    scores: dict[str, Any] = field(default_factory=dict)
    best_frame_png: bytes | None = None
    reference_source: str | None = None
    review: list[str] = field(default_factory=list)
    trace: bytes | None = None  # the recording's motion (liveness.replay), kept for later replay checks


class FaceEngineUnavailable(RuntimeError):
    """The face engine could not run: the job errors (retried, then ``verify.internal_error``), never skips."""


# Why a recording that the analyser passed still goes to a reviewer (codes in flow.toml).
REVIEW_NO_REFERENCE = "flow.review_no_reference"  # nothing to compare with: the enrolment policy
REVIEW_CARD_PORTRAIT = "flow.review_card_portrait"  # compared only with this session's ID-card portrait
REVIEW_UNTIMED = "flow.review_untimed"  # native-camera fallback: no prompt timing, content not recognised


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def run_verification(job_id: str, *, database: Database | None = None, worker: str | None = None) -> str:
    """Run (or resume) the job ``job_id``; return its state afterwards. Safe to call any number of times."""
    database = database or get_database()
    worker = worker or worker_name()
    jobs = get_settings().jobs
    now = flow.utcnow()
    with database.session() as session:
        claimed = session.execute(
            update(VerificationJob)
            .where(
                VerificationJob.id == job_id,
                or_(VerificationJob.state == "pending",
                    and_(VerificationJob.state == "running", VerificationJob.lease_until < now)),
            )
            .values(state="running", worker=worker, started_at=now, progress=10,
                    lease_until=now + timedelta(seconds=jobs.lease_seconds), attempts=VerificationJob.attempts + 1)
            .execution_options(synchronize_session=False)
        ).rowcount
        job = session.get(VerificationJob, job_id)
        if job is None:
            log.warning("verification job %s does not exist", job_id)
            return "missing"
        if not claimed:
            return job.state
        runs = job.attempts
    store = media_store_from_settings()
    try:
        with _lease_kept(database, job_id, worker, jobs.lease_seconds):
            analysis = _analyse(database, store, job_id)
    except Exception:
        log.exception("verification job %s failed unexpectedly (run %d)", job_id, runs)
        if runs < jobs.max_runs:
            _release(database, job_id, worker)
            return "pending"
        analysis = Analysis(False, ["verify.internal_error"])
        return _decide(database, store, job_id, worker, analysis, error=True)
    return _decide(database, store, job_id, worker, analysis)


@contextmanager
def _lease_kept(database: Database, job_id: str, worker: str, lease_seconds: float) -> Iterator[None]:
    """Renew the job's lease while this worker is alive and analysing.

    The lease tells other workers that this one is still at work; without renewal a run
    longer than the lease (a slow machine, a long upload) would be started again elsewhere.
    A worker that dies stops renewing, and its job is taken over once the lease runs out.
    """
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(lease_seconds / 3):
            try:
                with database.session() as session:
                    session.execute(
                        update(VerificationJob)
                        .where(VerificationJob.id == job_id, VerificationJob.state == "running",
                               VerificationJob.worker == worker)
                        .values(lease_until=flow.utcnow() + timedelta(seconds=lease_seconds))
                        .execution_options(synchronize_session=False)
                    )
            except Exception:  # the next renewal retries; the lease is long enough for a miss
                log.warning("could not renew the lease of job %s", job_id, exc_info=True)

    renewer = threading.Thread(target=renew, name=f"lease-{job_id[:8]}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join(timeout=5)


def _release(database: Database, job_id: str, worker: str) -> None:
    """Hand a job back to the queue after an unexpected error (it will be retried)."""
    with database.session() as session:
        session.execute(
            update(VerificationJob)
            .where(VerificationJob.id == job_id, VerificationJob.state == "running", VerificationJob.worker == worker)
            .values(state="pending", lease_until=None, progress=0)
            .execution_options(synchronize_session=False)
        )


def _progress(database: Database, job_id: str, worker: str, value: int) -> None:
    with database.session() as session:
        session.execute(
            update(VerificationJob)
            .where(VerificationJob.id == job_id, VerificationJob.state == "running", VerificationJob.worker == worker)
            .values(progress=value)
            .execution_options(synchronize_session=False)
        )


def _analyse(database: Database, store: MediaStore, job_id: str) -> Analysis:
    """Decrypt the recording, find the reference face, run the real liveness pipeline, then
    decide fail-closed what a machine may conclude (``_review_reasons``)."""
    from pensioncert import biometrics
    from pensioncert.liveness import analyse_recording
    from pensioncert.media.decode import MediaError

    _require_face_engine()
    protector = protector_from_settings()
    with database.session() as session:
        job = session.get(VerificationJob, job_id)
        assert job is not None and job.media_path is not None
        challenge_row = session.get(Challenge, job.challenge_id)
        cert_session = session.get(CertSession, job.session_id)
        assert challenge_row is not None and cert_session is not None and cert_session.retiree_id is not None
        retiree = session.get(Retiree, cert_session.retiree_id)
        assert retiree is not None
        challenge = flow.as_rule_challenge(challenge_row)
        source = flow.reference_source(session, cert_session, retiree)
        reference: bytes | None = None
        card_checked = False
        if source == "registry" and retiree.reference_photo_encrypted is not None:
            reference = flow.load_reference_photo(protector, retiree)
        elif source == "id_card":
            portrait = flow.card_portrait(session, cert_session.id)
            assert portrait is not None
            reference = store.get(portrait.media_key)
            card_checked = bool(portrait.fields.get("valid_until"))  # the back side was read: not expired
        media_key = job.media_path
        earlier = flow.kept_motion_traces(session, protector, retiree.id, flow.utcnow())
    video = store.get(media_key)
    embedding = None
    if reference is not None:
        try:
            embedding = biometrics.face_embedding(biometrics.load_image(reference))
        except biometrics.FaceEngineError as unusable:
            log.warning("reference photo unusable for job %s: %s", job_id, unusable.code)
            return Analysis(False, ["verify.reference_unusable"], reference_source=source)
    elif source != "enroll":
        return Analysis(False, ["flow.no_reference"], reference_source=source)
    try:
        verdict = analyse_recording(video, challenge, embedding, earlier=earlier)
    except MediaError as bad_media:
        return Analysis(False, [bad_media.code], reference_source=source)
    # With no reference (enrolment) the analyser's identity check is consistency alone; the
    # verdict's own per-check evidence decides, and _review_reasons sends it to a reviewer.
    passed = bool(verdict.passed)
    reasons = [str(reason) for reason in verdict.reasons]
    match = getattr(verdict, "face_match", None)
    if passed and match is None:
        # A pass with no identity evidence means the face engine did not run: an error, never a skip.
        raise FaceEngineUnavailable(f"job {job_id}: the analyser passed without a face match")
    if passed and not (getattr(match, "same_person", False) and getattr(match, "identity_consistent", False)):
        passed, reasons = False, reasons or ["liveness.not_reference_person"]
    best = getattr(verdict, "best_frame", None)
    scores = dict(getattr(verdict, "scores", {}) or {}) | {"timed": challenge.timed,
                                                            "auto_decidable": challenge.auto_decidable}
    review = _review_reasons(source, challenge, get_settings().flow.trust_card_portrait and card_checked)
    trace = verdict.trace.to_bytes() if verdict.trace is not None else None
    return Analysis(passed, reasons, scores, _png(best), source, review, trace)


def _require_face_engine() -> None:
    """Load the face engine's models now: if it cannot run, the job errors instead of skipping it."""
    try:
        from pensioncert.biometrics import engines

        engines.shape_predictor_5()
        engines.face_encoder()
    except Exception as missing:
        raise FaceEngineUnavailable("the face engine is unavailable") from missing


def _review_reasons(source: str | None, challenge: rules.Challenge, trust_card_portrait: bool) -> list[str]:
    """Why a machine may not pass this recording even if every check passed (a person must look).

    Fail closed: only a timed challenge (or untimed English digits, whose content is heard)
    compared with an accepted reference (the registry's photo; an ID-card portrait only where
    the agency trusts them, ``flow.trust_card_portrait``, and the card's validity was read)
    may pass without a reviewer.
    """
    review = []
    if source == "id_card":
        if not trust_card_portrait:
            review.append(REVIEW_CARD_PORTRAIT)
    elif source != "registry":  # enrolment (or anything new): no accepted face to compare with
        review.append(REVIEW_NO_REFERENCE)
    if not challenge.auto_decidable:
        review.append(REVIEW_UNTIMED)
    return review


def _png(frame: Any) -> bytes | None:
    """Encode an RGB frame (numpy) as PNG for the media store; None when there is none."""
    if frame is None:
        return None
    from PIL import Image

    buffer = io.BytesIO()
    # Fastest zlib level: the PNG is written once, encrypted, and deleted by retention; level 6
    # (Pillow's default) cost ~7 % of a worker's time in the load test's profile (docs/scaling.md).
    Image.fromarray(frame).save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _decide(database: Database, store: MediaStore, job_id: str, worker: str, analysis: Analysis,
            error: bool = False) -> str:
    """Record the outcome exactly once: the state change and the record share one transaction."""
    now = flow.utcnow()
    result = _result_of(analysis, error)
    if result == flow.REVIEW:
        analysis.reasons = list(dict.fromkeys([*analysis.reasons, *analysis.review]))
    with database.session() as session:
        decided = session.execute(
            update(VerificationJob)
            .where(VerificationJob.id == job_id, VerificationJob.state == "running", VerificationJob.worker == worker)
            .values(state="decided", result=result, reasons=list(analysis.reasons), scores=analysis.scores,
                    progress=100, decided_at=now, lease_until=None,
                    error_code=analysis.reasons[0] if error else None)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not decided:
            job = session.get(VerificationJob, job_id)
            return job.state if job is not None else "missing"
        job = session.get(VerificationJob, job_id)
        assert job is not None
        cert_session = session.get(CertSession, job.session_id)
        assert cert_session is not None and cert_session.retiree_id is not None
        retiree = session.get(Retiree, cert_session.retiree_id)
        assert retiree is not None
        _apply(session, store, cert_session, retiree, job, analysis, result, now)
    return "decided"


def _result_of(analysis: Analysis, error: bool) -> str:
    """Passed only when the analyser passed and nothing asks for a reviewer; never passed by default."""
    if error:
        return "error"
    if not analysis.passed:
        return flow.FAILED
    return flow.REVIEW if analysis.review else flow.PASSED


def _apply(session: Session, store: MediaStore, cert_session: CertSession, retiree: Retiree, job: VerificationJob,
           analysis: Analysis, result: str, now: datetime) -> None:
    """Append the record, keep the best frame, move the session, and escalate past the retry caps."""
    challenge = session.get(Challenge, job.challenge_id)
    method = flow.METHOD.get(challenge.kind if challenge else "", "face_actions")
    if analysis.best_frame_png is not None:
        key = store.put(analysis.best_frame_png, "best_frames")
        session.add(SessionMedia(session_id=cert_session.id, job_id=job.id, kind="best_frame", media_key=key,
                                 created_at=now))
        # Enrolment policy: this best frame becomes the reference only when a reviewer accepts the
        # case (admin.review.decide); until then every attempt goes to review, none passes.
    # Nor does an ID-card portrait ever become the stored reference here, even after a pass: only a
    # reviewer's acceptance enrols it (admin.review.decide), or whoever shows a card once owns the face.
    if analysis.trace is not None:  # every analysed recording, passed or not: any may be replayed later
        flow.keep_motion_trace(session, protector_from_settings(), retiree.id, job.id, analysis.trace, now)
    if result == "error":
        flow.touch(cert_session, flow.IDENTIFIED)
        audit(session, actor="system", role="worker", action="verification.error", retiree_id=retiree.id,
              detail={"job_id": job.id, "session_id": cert_session.id})
        return
    # Nothing is enrolled by a job; a reviewer's acceptance enrols (and notes it on the decision).
    notes = ""
    record_certification(
        session, retiree, channel=cert_session.channel,
        method="manual_review" if result == flow.REVIEW else method, result=result,
        certified_on=_today(now) if result == flow.PASSED else None, reasons=analysis.reasons,
        scores=analysis.scores | {"reference": analysis.reference_source, "job_id": job.id,
                                  "review": list(analysis.review)},
        session_id=cert_session.id, proxy=flow.proxy_of(cert_session), notes=notes,
    )
    state = result
    if result == flow.FAILED:
        limits = get_settings().liveness
        session_capped = flow.attempts_in_session(session, cert_session.id) >= limits.max_attempts_per_session
        day_capped = flow.attempts_today(session, retiree.id, now) >= limits.max_attempts_per_retiree_per_day
        month_capped = flow.attempts_in_30_days(session, retiree.id, now) >= limits.max_attempts_per_retiree_per_30_days
        if session_capped or day_capped or month_capped:
            # DOMAIN.md: after a few failures, advise another channel and offer manual review.
            record_certification(
                session, retiree, channel=cert_session.channel, method="manual_review", result=flow.REVIEW,
                reasons=["flow.retry_cap_session" if session_capped
                         else "flow.retry_cap_day" if day_capped else "flow.retry_cap_month"],
                scores={"job_id": job.id}, session_id=cert_session.id, proxy=flow.proxy_of(cert_session),
                notes="retry cap reached on the phone channel",
            )
    if result == flow.PASSED:
        notify(session, retiree.id, "notify.certified", {"certified_on": _today(now).isoformat(),
                                                         "channel": cert_session.channel})
    flow.touch(cert_session, state)
    audit(session, actor="system", role="worker", action=f"verification.{result}", retiree_id=retiree.id,
          detail={"job_id": job.id, "session_id": cert_session.id, "reasons": analysis.reasons})


def _today(now: datetime) -> date:
    """The certification date in the agency's zone (a pass at 01:00 in Shanghai is that day)."""
    return calendar.local_date(now, get_settings().cycle.time_zone)


def recover(database: Database | None = None) -> list[str]:
    """Jobs to (re)enqueue at start-up: pending ones and running ones whose worker died."""
    from sqlalchemy import select

    database = database or get_database()
    now = flow.utcnow()
    with database.session() as session:
        return list(session.scalars(
            select(VerificationJob.id).where(
                or_(VerificationJob.state == "pending",
                    and_(VerificationJob.state == "running", VerificationJob.lease_until < now))
            )
        ))
