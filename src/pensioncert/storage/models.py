"""Typed ORM models.

Certification records and the audit log are append-only: rows are inserted,
never updated or deleted (the repository offers no way to, and PostgreSQL
triggers from the migration refuse it).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    """Declarative base of every pensioncert table."""


class Retiree(Base):
    __tablename__ = "retirees"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    id_number_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(64), index=True)
    sex: Mapped[str] = mapped_column(String(8))
    birth_date: Mapped[date] = mapped_column(Date)
    region_code: Mapped[str] = mapped_column(String(6))
    district: Mapped[str] = mapped_column(String(32), default="")
    pension_type: Mapped[str] = mapped_column(String(16))
    retired_locally: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="normal", index=True)
    first_payment: Mapped[date] = mapped_column(Date)
    last_certified: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    suspended_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    suspension_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    # Encrypted reference photo (registry photo or portrait cropped from the ID card).
    reference_photo_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    records: Mapped[list[CertificationRecord]] = relationship(
        back_populates="retiree", order_by="CertificationRecord.id"
    )


class CertificationRecord(Base):
    """One certification attempt or outcome, any channel. Append-only."""

    __tablename__ = "certification_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    retiree_id: Mapped[int] = mapped_column(ForeignKey("retirees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    certified_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    channel: Mapped[str] = mapped_column(String(24))  # wechat, alipay, cityapp, terminal, window, community, …
    method: Mapped[str] = mapped_column(String(24))  # face_digits, face_actions, manual_review, offline, passive
    result: Mapped[str] = mapped_column(String(16), index=True)  # passed, failed, review, rejected
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # staff only
    proxy_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    proxy_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    proxy_relationship: Mapped[str | None] = mapped_column(String(32), nullable=True)
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    evidence_type: Mapped[str | None] = mapped_column(String(32), nullable=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    back_pay_months: Mapped[int] = mapped_column(Integer, default=0)

    retiree: Mapped[Retiree] = relationship(back_populates="records")


class AuditEntry(Base):
    """Who did or saw what, when. Append-only."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), index=True)
    actor: Mapped[str] = mapped_column(String(64), index=True)
    actor_role: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(48), index=True)
    retiree_id: Mapped[int | None] = mapped_column(ForeignKey("retirees.id"), nullable=True, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    ip: Mapped[str] = mapped_column(String(45), default="")


class CertSession(Base):
    """One visit of the phone flow, from channel entry to result."""

    __tablename__ = "cert_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    channel: Mapped[str] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8), default="self")
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    helper_name: Mapped[str | None] = mapped_column(String(64), nullable=True)
    helper_phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    helper_relationship: Mapped[str | None] = mapped_column(String(32), nullable=True)
    retiree_id: Mapped[int | None] = mapped_column(ForeignKey("retirees.id"), nullable=True, index=True)
    decision_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    state: Mapped[str] = mapped_column(String(16), default="started")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    client_ip: Mapped[str] = mapped_column(String(45), default="")
    device_id: Mapped[str] = mapped_column(String(64), default="")


class Challenge(Base):
    """A server-issued liveness challenge: single use, short-lived, bound to one session."""

    __tablename__ = "challenges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("cert_sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # digits | actions
    # {"digits", "actions", "language", "schedule": [prompt seconds after start]} ([] once started untimed)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When the page started recording and learnt the content and schedule; set once (a conditional UPDATE).
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class VerificationJob(Base):
    """One verification of one recording: pending → running → decided, decided exactly once."""

    __tablename__ = "verification_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("cert_sessions.id"), index=True)
    challenge_id: Mapped[str] = mapped_column(ForeignKey("challenges.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    media_path: Mapped[str | None] = mapped_column(String(255), nullable=True)
    media_content_type: Mapped[str] = mapped_column(String(64), default="")
    result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error_code: Mapped[str | None] = mapped_column(String(48), nullable=True)
    worker: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    media_deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MotionTraceRow(Base):
    """One analysed recording's motion (``liveness.replay.MotionTrace``, encrypted; no image).

    Kept ``security.motion_trace_retention_days`` so that a later recording of the same retiree
    can be compared with it (a replay of an earlier recording moves exactly like it).
    """

    __tablename__ = "motion_traces"

    id: Mapped[int] = mapped_column(primary_key=True)
    retiree_id: Mapped[int] = mapped_column(ForeignKey("retirees.id"), index=True)
    job_id: Mapped[str] = mapped_column(String(36), unique=True)
    trace_encrypted: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class StaffUser(Base):
    """An agency staff account (back office)."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(24))  # administrator, reviewer, operator, auditor
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Notification(Base):
    """One SMS in the outbox: rendered when an event happens, delivered later by the sender.

    ``idempotency_key`` names the event (``review:<case record>``, ``reminder:<retiree>:<due>:<days>``
    …): a retried job or a double click inserts nothing new, and the gateway drops a resend.
    States: pending → ready → exported (export provider), pending → sending → sent | pending
    (retry later) | failed (HTTP provider), undeliverable (no usable phone number).
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    retiree_id: Mapped[int] = mapped_column(ForeignKey("retirees.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    channel: Mapped[str] = mapped_column(String(16), default="sms")
    message_code: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    kind: Mapped[str] = mapped_column(String(32), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    idempotency_key: Mapped[str] = mapped_column(String(96), unique=True, index=True)
    last_error: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
