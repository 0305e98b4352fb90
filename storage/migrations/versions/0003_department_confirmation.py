"""department confirmation: ``user_profile.department_confirmed_at`` / ``_by``.

A department a chat user declared themselves used to open that department's
相談シート at once. It is now *pending* until an administrator confirms it, and
only a confirmed department counts for access.

Existing departments are judged by the audit log: a department whose latest
allowed setting was made by someone other than the user (``soudan users add`` /
``set-department`` / ``import``, audited as ``review.user.*`` with the user as
target) is confirmed by that actor at that moment; one the user declared
themselves (``user.set_department`` by the user in chat, or
``review.user.set_department`` by the user through the review desk), or one with
no audit row at all, is left pending for an administrator to confirm
(``soudan users list --pending``, ``soudan users confirm-department``).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-09
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SELF_ACTIONS = ("user.set_department", "review.user.set_department")
_ADMIN_ACTIONS = ("review.user.add", "review.user.set_department")


def upgrade() -> None:
    with op.batch_alter_table("user_profile", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("department_confirmed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(
            sa.Column("department_confirmed_by", sa.String(length=300), nullable=True)
        )
    connection = op.get_bind()
    profile = sa.table(
        "user_profile",
        sa.column("id", sa.String()),
        sa.column("channel", sa.String()),
        sa.column("tenant", sa.String()),
        sa.column("user_id", sa.String()),
        sa.column("department", sa.String()),
        sa.column("department_confirmed_at", sa.DateTime(timezone=True)),
        sa.column("department_confirmed_by", sa.String()),
    )
    audit = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        sa.column("at", sa.DateTime(timezone=True)),
        sa.column("actor", sa.String()),
        sa.column("action", sa.String()),
        sa.column("target", sa.String()),
        sa.column("result", sa.String()),
    )
    rows = connection.execute(
        sa.select(profile.c.id, profile.c.channel, profile.c.tenant, profile.c.user_id).where(
            profile.c.department.is_not(None)
        )
    ).all()
    for profile_id, channel, tenant, user_id in rows:
        key = f"{channel}:{tenant}:{user_id}"
        by_self = sa.and_(audit.c.actor == key, audit.c.action.in_(_SELF_ACTIONS))
        by_admin = sa.and_(
            audit.c.target == key, audit.c.actor != key, audit.c.action.in_(_ADMIN_ACTIONS)
        )
        latest = connection.execute(
            sa.select(audit.c.actor, audit.c.at)
            .where(audit.c.result == "allowed", sa.or_(by_self, by_admin))
            .order_by(audit.c.at.desc(), audit.c.id.desc())
            .limit(1)
        ).first()
        if latest is None or latest[0] == key:
            continue  # self-declared or unknown: pending
        actor, at = latest
        confirmed_at: datetime = at
        connection.execute(
            profile.update()
            .where(profile.c.id == profile_id)
            .values(department_confirmed_at=confirmed_at, department_confirmed_by=actor)
        )


def downgrade() -> None:
    with op.batch_alter_table("user_profile", schema=None) as batch_op:
        batch_op.drop_column("department_confirmed_by")
        batch_op.drop_column("department_confirmed_at")
