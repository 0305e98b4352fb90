"""durable outbox (``outbox_message``) and shared versions (``shared_version``).

``outbox_message``: messages to users (review notices) written in the transaction
that causes them and posted after it commits by a leased dispatcher, retried with
back-off, listed by ``soudan review outbox`` when undeliverable.
``shared_version``: the flow definition files every replica runs (name ``flows``),
re-checked by each replica every few seconds.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("tenant", sa.String(length=200), nullable=False),
        sa.Column("conversation", sa.String(length=500), nullable=False),
        sa.Column("user_id", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=True),
        sa.Column("parts", _JSON, nullable=True),
        sa.Column("status", sa.String(length=15), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            "ix_outbox_message_recipient", ["channel", "tenant", "user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_outbox_message_sent_at"), ["sent_at"], unique=False)
    op.create_table(
        "shared_version",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("digest", sa.String(length=128), nullable=False),
        sa.Column("content", _JSON, nullable=True),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("shared_version")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_sent_at"))
        batch_op.drop_index("ix_outbox_message_recipient")
        batch_op.drop_index("ix_outbox_message_due")
    op.drop_table("outbox_message")
