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
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, update
from sqlalchemy.orm import Session

from pensioncert.certification import flow
from pensioncert.certification.models import SessionMedia
from pensioncert.settings import get_settings
from pensioncert.storage.crypto import protector_from_settings
from pensioncert.storage.db import Database, get_database
from pensioncert.storage.media_store import MediaStore, media_store_from_settings
from pensioncert.storage.models import CertSession, Challenge, Retiree, VerificationJob
from pensioncert.storage.repository import audit, failures_since, notify, record_certification

log = logging.getLogger(__name__)

# Lease length and retry cap live in settings.jobs (lease_seconds, max_runs): the kill tests shorten the lease.


@dataclass
class Analysis:
    """What the face and liveness checks concluded about one recording (scores: staff only)."""

    passed: bool
    reasons: list[str]
    scores: dict[str, Any] = field(default_factory=dict)
    best_frame_png: bytes | None = None
    reference_source: str | None = None


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
    """Decrypt the recording, find the reference face and run the real liveness pipeline."""
    from pensioncert import biometrics
    from pensioncert.liveness import analyse_recording
    from pensioncert.media.decode import MediaError

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
        if source == "registry" and retiree.reference_photo_encrypted is not None:
            reference = flow.load_reference_photo(protector, retiree)
        elif source == "id_card":
            portrait = flow.card_portrait(session, cert_session.id)
            assert portrait is not None
            reference = store.get(portrait.media_key)
        media_key = job.media_path
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
        verdict = analyse_recording(video, challenge, embedding)
    except MediaError as bad_media:
        return Analysis(False, [bad_media.code], reference_source=source)
    passed = bool(verdict.passed)
    reasons = [str(reason) for reason in verdict.reasons]
    if source == "enroll":
        # Nothing to compare with: liveness alone decides whether a reviewer gets the case.
        reasons = [r for r in reasons if not r.startswith("face.no_reference")]
        passed = not reasons
    best = getattr(verdict, "best_frame", None)
    return Analysis(passed, reasons, dict(getattr(verdict, "scores", {}) or {}), _png(best), source)


def _png(frame: Any) -> bytes | None:
    """Encode an RGB frame (numpy) as PNG for the media store; None when there is none."""
    if frame is None:
        return None
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(frame).save(buffer, format="PNG")
    return buffer.getvalue()


def _decide(database: Database, store: MediaStore, job_id: str, worker: str, analysis: Analysis,
            error: bool = False) -> str:
    """Record the outcome exactly once: the state change and the record share one transaction."""
    now = flow.utcnow()
    result = _result_of(analysis, error)
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
    if error:
        return "error"
    if analysis.reference_source == "enroll":
        return flow.REVIEW if analysis.passed else flow.FAILED
    return flow.PASSED if analysis.passed else flow.FAILED


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
    if result == flow.PASSED and analysis.reference_source == "id_card":
        portrait = flow.card_portrait(session, cert_session.id)
        if portrait is not None and retiree.reference_photo_encrypted is None:
            flow.store_reference_photo(protector_from_settings(), retiree, store.get(portrait.media_key))
    if result == "error":
        flow.touch(cert_session, flow.IDENTIFIED)
        audit(session, actor="system", role="worker", action="verification.error", retiree_id=retiree.id,
              detail={"job_id": job.id, "session_id": cert_session.id})
        return
    notes = "reference enrolled from this recording" if analysis.reference_source == "enroll" else ""
    record_certification(
        session, retiree, channel=cert_session.channel,
        method="manual_review" if result == flow.REVIEW else method, result=result,
        certified_on=_today(now) if result == flow.PASSED else None, reasons=analysis.reasons,
        scores=analysis.scores | {"reference": analysis.reference_source, "job_id": job.id},
        session_id=cert_session.id, proxy=flow.proxy_of(cert_session), notes=notes,
    )
    state = result
    if result == flow.FAILED:
        limits = get_settings().liveness
        session_capped = flow.session_failures(session, cert_session.id) >= limits.max_attempts_per_session
        failed_today = failures_since(session, retiree.id, flow.day_start(now))
        day_capped = failed_today >= limits.max_attempts_per_retiree_per_day
        if session_capped or day_capped:
            # DOMAIN.md: after a few failures, advise another channel and offer manual review.
            record_certification(
                session, retiree, channel=cert_session.channel, method="manual_review", result=flow.REVIEW,
                reasons=["flow.retry_cap_session" if session_capped else "flow.retry_cap_day"],
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
    """The certification date in China Standard Time (a pass at 01:00 CST is that day)."""
    return (now.astimezone(UTC) + timedelta(hours=8)).date()


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
