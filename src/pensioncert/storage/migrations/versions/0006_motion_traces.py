"""motion traces of analysed recordings (encrypted), for the replay check

Revision ID: 0006_motion_traces
Revises: 0005_notify
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_motion_traces"
down_revision: str | None = "0005_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "motion_traces",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("retiree_id", sa.Integer(), sa.ForeignKey("retirees.id"), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False, unique=True),
        sa.Column("trace_encrypted", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_motion_traces_retiree_id", "motion_traces", ["retiree_id"])
    op.create_index("ix_motion_traces_created_at", "motion_traces", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_motion_traces_created_at", table_name="motion_traces")
    op.drop_index("ix_motion_traces_retiree_id", table_name="motion_traces")
    op.drop_table("motion_traces")
