"""phone flow: media of a certification session (ID-card portrait, best frame)

Revision ID: 0003_flow
Revises: 0002_admin
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_flow"
down_revision: str | None = "0002_admin"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "session_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=True),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("media_key", sa.String(length=96), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.ForeignKeyConstraint(["session_id"], ["cert_sessions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_session_media_session_id", "session_media", ["session_id"])


def downgrade() -> None:
    op.drop_index("ix_session_media_session_id", table_name="session_media")
    op.drop_table("session_media")
