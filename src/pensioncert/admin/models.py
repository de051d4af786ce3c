"""Back-office tables (migration ``0002_admin``): staff sessions and the configurable passive evidence types."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from pensioncert.storage.models import Base


class StaffSession(Base):
    """A signed-in staff member. Server-side so that logout and deactivation take effect at once."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 of the cookie token
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_seen: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    ip: Mapped[str] = mapped_column(String(45), default="")


class PassiveEvidenceType(Base):
    """A kind of trusted evidence of life (hospital visit, bank counter …); administrators configure them."""

    __tablename__ = "passive_evidence_types"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    label_zh: Mapped[str] = mapped_column(String(64))
    label_en: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Evidence older than this many days on import is refused (stale evidence proves nothing about today).
    max_age_days: Mapped[int] = mapped_column(Integer, default=90)
