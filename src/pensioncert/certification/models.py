"""Tables of the phone flow (migration ``0003_flow``): media a session produced.

A session may hold an ID-card portrait (the reference when the registry has no
photo), the card's OCR'd fields, and the best frame of its recordings (for
reviewers, and as the enrolled reference where that policy is on). The media
itself is in the encrypted media store; these rows say which key is whose.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, String, func
from sqlalchemy.orm import Mapped, mapped_column

from pensioncert.storage.models import Base


class SessionMedia(Base):
    """One piece of media of a certification session (``kind``: id_card_portrait, best_frame)."""

    __tablename__ = "session_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("cert_sessions.id"), index=True)
    job_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    kind: Mapped[str] = mapped_column(String(24))
    media_key: Mapped[str] = mapped_column(String(96))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
