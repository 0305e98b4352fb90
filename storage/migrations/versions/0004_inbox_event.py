"""durable inbox: ``inbox_event``, inbound channel events stored before they are acknowledged.

A Slack event or Teams activity is written here (unique per channel, tenant and
delivery id) before the channel gets its HTTP 200 / socket-mode ack, then processed
by any replica that claims it with a lease. ``inbound_receipt`` stays for the
turns that do not come through the inbox (terminal, web) and the repetition guard.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inbox_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=False),
    sa.Column('conversation', sa.String(length=500), nullable=False),
    sa.Column('delivery_id', sa.String(length=500), nullable=False),
    sa.Column('payload', _JSON, nullable=True),
    sa.Column('reply', _JSON, nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_owner', sa.String(length=200), nullable=True),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('applied_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'tenant', 'delivery_id', name='uq_inbox_event_delivery')
    )
    with op.batch_alter_table('inbox_event', schema=None) as batch_op:
        batch_op.create_index('ix_inbox_event_conversation', ['channel', 'tenant', 'conversation', 'id'], unique=False)
        batch_op.create_index('ix_inbox_event_status', ['status', 'lease_until'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbox_event_finished_at'), ['finished_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('inbox_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbox_event_finished_at'))
        batch_op.drop_index('ix_inbox_event_status')
        batch_op.drop_index('ix_inbox_event_conversation')

    op.drop_table('inbox_event')
