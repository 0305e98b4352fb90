"""initial schema: every table of soudan, and the append-only guard on audit_log.

Self-contained on purpose (plain SQLAlchemy types, no import of storage.models), so
that later model changes cannot change what this revision creates.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('audit_log',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=300), nullable=False),
    sa.Column('action', sa.String(length=100), nullable=False),
    sa.Column('target', sa.String(length=300), nullable=True),
    sa.Column('result', sa.String(length=10), nullable=False),
    sa.Column('detail', _JSON, nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_actor'), ['actor'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('consultation_sheet',
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('requester_name', sa.String(length=200), nullable=True),
    sa.Column('business', sa.String(), nullable=False),
    sa.Column('current_problem', sa.String(), nullable=True),
    sa.Column('envisaged_ict', sa.String(), nullable=True),
    sa.Column('initial_cost', sa.BigInteger(), nullable=True),
    sa.Column('running_cost', sa.BigInteger(), nullable=True),
    sa.Column('flow_id', sa.String(length=100), nullable=True),
    sa.Column('slots', _JSON, nullable=False),
    sa.Column('outcomes', _JSON, nullable=False),
    sa.Column('decisions', _JSON, nullable=False),
    sa.Column('concerns', sa.String(), nullable=True),
    sa.Column('personal_info', sa.String(), nullable=True),
    sa.Column('questions', _JSON, nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=False),
    sa.Column('conversation', sa.String(length=500), nullable=False),
    sa.Column('requester_id', sa.String(length=200), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('reference')
    )
    with op.batch_alter_table('consultation_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_sheet_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_sheet_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_sheet_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_sheet_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_consultation_sheet_tenant'), ['tenant'], unique=False)

    op.create_table('conversation_ref',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=False),
    sa.Column('conversation', sa.String(length=500), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=True),
    sa.Column('reference', _JSON, nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'tenant', 'conversation', name='uq_conversation_ref_conversation')
    )
    with op.batch_alter_table('conversation_ref', schema=None) as batch_op:
        batch_op.create_index('ix_conversation_ref_user', ['channel', 'tenant', 'user_id'], unique=False)

    op.create_table('digest_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=10), nullable=False),
    sa.Column('channel', sa.String(length=100), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=True),
    sa.Column('claimed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('week', 'channel', name='uq_digest_run_week_channel')
    )
    op.create_table('feedback',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('answer_id', sa.String(length=36), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('value', sa.String(length=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('answer_id', 'user_id', name='uq_feedback_answer_user')
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_answer_id'), ['answer_id'], unique=False)

    op.create_table('inbound_receipt',
    sa.Column('key', sa.String(length=300), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('inbound_receipt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_receipt_received_at'), ['received_at'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=False),
    sa.Column('conversation', sa.String(length=500), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=True),
    sa.Column('direction', sa.String(length=3), nullable=False),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('question', sa.Boolean(), nullable=False),
    sa.Column('answered', sa.Boolean(), nullable=True),
    sa.Column('in_reply_to', sa.String(length=36), nullable=True),
    sa.Column('flow_session_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_conversation', ['channel', 'tenant', 'conversation', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_created_at'), ['created_at'], unique=False)

    op.create_table('reference_counter',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year')
    )
    op.create_table('user_profile',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=True),
    sa.Column('department', sa.String(length=200), nullable=True),
    sa.Column('role', sa.String(length=10), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('channel', 'tenant', 'user_id', name='uq_user_profile_user')
    )
    op.create_table('flow_session',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('tenant', sa.String(length=200), nullable=False),
    sa.Column('conversation', sa.String(length=500), nullable=False),
    sa.Column('user_id', sa.String(length=200), nullable=False),
    sa.Column('flow_id', sa.String(length=100), nullable=False),
    sa.Column('state', _JSON, nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('sheet_id', sa.String(length=36), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['consultation_sheet.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('flow_session', schema=None) as batch_op:
        batch_op.create_index('ix_flow_session_user', ['channel', 'tenant', 'user_id', 'updated_at'], unique=False)
        batch_op.create_index('uq_flow_session_active_conversation', ['channel', 'tenant', 'conversation'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('sheet_comment',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sheet_id', sa.String(length=36), nullable=False),
    sa.Column('author_id', sa.String(length=200), nullable=False),
    sa.Column('author_name', sa.String(length=200), nullable=True),
    sa.Column('text', sa.String(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['consultation_sheet.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sheet_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sheet_comment_sheet_id'), ['sheet_id'], unique=False)

    op.create_table('sheet_transition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.String(length=36), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('actor_id', sa.String(length=200), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['consultation_sheet.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sheet_transition', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sheet_transition_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sheet_transition_sheet_id'), ['sheet_id'], unique=False)

    _create_audit_guard()


_SQLITE_AUDIT_TRIGGERS = (
    """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
    """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
)

_POSTGRES_AUDIT_GUARD = (
    """CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
    END;
    $$""",
    """CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()""",
    """CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()""",
)


def _create_audit_guard() -> None:
    dialect = op.get_bind().dialect.name
    statements = {"sqlite": _SQLITE_AUDIT_TRIGGERS, "postgresql": _POSTGRES_AUDIT_GUARD}
    for statement in statements.get(dialect, ()):
        op.execute(statement)


def _drop_audit_guard() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS audit_log_refuse_change()")



def downgrade() -> None:
    _drop_audit_guard()
    with op.batch_alter_table('sheet_transition', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sheet_transition_sheet_id'))
        batch_op.drop_index(batch_op.f('ix_sheet_transition_at'))

    op.drop_table('sheet_transition')
    with op.batch_alter_table('sheet_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sheet_comment_sheet_id'))

    op.drop_table('sheet_comment')
    with op.batch_alter_table('flow_session', schema=None) as batch_op:
        batch_op.drop_index('uq_flow_session_active_conversation', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index('ix_flow_session_user')

    op.drop_table('flow_session')
    op.drop_table('user_profile')
    op.drop_table('reference_counter')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_created_at'))
        batch_op.drop_index('ix_message_conversation')

    op.drop_table('message')
    with op.batch_alter_table('inbound_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_receipt_received_at'))

    op.drop_table('inbound_receipt')
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_answer_id'))

    op.drop_table('feedback')
    op.drop_table('digest_run')
    with op.batch_alter_table('conversation_ref', schema=None) as batch_op:
        batch_op.drop_index('ix_conversation_ref_user')

    op.drop_table('conversation_ref')
    with op.batch_alter_table('consultation_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_sheet_tenant'))
        batch_op.drop_index(batch_op.f('ix_consultation_sheet_status'))
        batch_op.drop_index(batch_op.f('ix_consultation_sheet_requester_id'))
        batch_op.drop_index(batch_op.f('ix_consultation_sheet_department'))
        batch_op.drop_index(batch_op.f('ix_consultation_sheet_created_at'))

    op.drop_table('consultation_sheet')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))
        batch_op.drop_index(batch_op.f('ix_audit_log_actor'))
        batch_op.drop_index(batch_op.f('ix_audit_log_action'))

    op.drop_table('audit_log')
