"""timed challenges: when the page started recording (the schedule itself lives in the payload JSON)

Revision ID: 0004_challenge_start
Revises: 0003_flow
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_challenge_start"
down_revision: str | None = "0003_flow"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("challenges") as batch_op:
        batch_op.add_column(sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("challenges") as batch_op:
        batch_op.drop_column("started_at")
