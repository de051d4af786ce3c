"""notification outbox: kind, rendered text, state, attempts, unique idempotency key

Revision ID: 0005_notify
Revises: 0004_challenge_start
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_notify"
down_revision: str | None = "0004_challenge_start"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("text", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("state", sa.String(length=16), nullable=False, server_default="pending"))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=96), nullable=True))
        batch_op.add_column(sa.Column("last_error", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    _backfill()
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.alter_column("idempotency_key", existing_type=sa.String(length=96), nullable=False)
        batch_op.create_index("ix_notifications_idempotency_key", ["idempotency_key"], unique=True)
        batch_op.create_index("ix_notifications_state", ["state"], unique=False)


def _backfill() -> None:
    """Rows from before the outbox: render their text now; the ones already sent stay sent."""
    from pensioncert import messages
    from pensioncert.storage.repository import render_notification

    connection = op.get_bind()
    table = sa.table("notifications", sa.column("id", sa.Integer()), sa.column("message_code", sa.String()),
                     sa.column("params", sa.JSON()), sa.column("sent_at", sa.DateTime()),
                     sa.column("kind", sa.String()), sa.column("text", sa.Text()), sa.column("state", sa.String()),
                     sa.column("idempotency_key", sa.String()), sa.column("last_error", sa.String()))
    rows = connection.execute(sa.select(table.c.id, table.c.message_code, table.c.params, table.c.sent_at)).all()
    for row_id, code, params, sent_at in rows:
        try:
            text, state, error = render_notification(code, params or {}), "pending", None
        except (messages.UnknownMessage, KeyError, IndexError, ValueError):
            text, state, error = "", "failed", "notify.error.unrenderable"
        connection.execute(sa.update(table).where(table.c.id == row_id).values(
            kind=code.rsplit(".", 1)[-1][:32], text=text, state="sent" if sent_at is not None else state,
            idempotency_key=f"legacy:{row_id}", last_error=error))


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_state")
        batch_op.drop_index("ix_notifications_idempotency_key")
        for column in ("next_attempt_at", "updated_at", "last_error", "idempotency_key", "attempts", "state", "text",
                       "kind"):
            batch_op.drop_column(column)
