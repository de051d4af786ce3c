"""back office: staff sessions and passive evidence types

Revision ID: 0002_admin
Revises: 0001
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_admin"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_TYPES = [
    ("hospital_visit", "医院就诊记录", "Hospital visit"),
    ("bank_counter", "银行柜台业务", "Bank counter visit"),
    ("community_event", "社区活动签到", "Community event"),
    ("public_security", "公安部门记录", "Public-security record"),
]


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("(CURRENT_TIMESTAMP)"),
                  nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.ForeignKeyConstraint(["staff_user_id"], ["staff_users.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_staff_sessions_token_hash", "staff_sessions", ["token_hash"], unique=True)
    op.create_index("ix_staff_sessions_staff_user_id", "staff_sessions", ["staff_user_id"])
    types = op.create_table(
        "passive_evidence_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("label_zh", sa.String(length=64), nullable=False),
        sa.Column("label_en", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("max_age_days", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.bulk_insert(
        types,
        [{"code": c, "label_zh": zh, "label_en": en, "active": True, "max_age_days": 90}
         for c, zh, en in DEFAULT_TYPES],
    )


def downgrade() -> None:
    op.drop_table("passive_evidence_types")
    op.drop_index("ix_staff_sessions_staff_user_id", table_name="staff_sessions")
    op.drop_index("ix_staff_sessions_token_hash", table_name="staff_sessions")
    op.drop_table("staff_sessions")
