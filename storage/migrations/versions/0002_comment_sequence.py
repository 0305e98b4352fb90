"""comment order: ``sheet_comment.seq``, the order of a sheet's comments.

Lists of comments followed ``created_at``, which callers may set to any moment (an
import, a correction, a test clock), so a comment recorded with an earlier time than
the sheet's last event listed out of order. Existing comments are numbered in their
old order (``created_at``, then id).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sheet_comment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    comment = sa.table(
        "sheet_comment",
        sa.column("id", sa.String()),
        sa.column("sheet_id", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("seq", sa.Integer()),
    )
    rows = connection.execute(
        sa.select(comment.c.id, comment.c.sheet_id).order_by(
            comment.c.sheet_id, comment.c.created_at, comment.c.id
        )
    ).all()
    position: dict[str, int] = {}
    for comment_id, sheet_id in rows:
        position[sheet_id] = position.get(sheet_id, 0) + 1
        connection.execute(
            comment.update().where(comment.c.id == comment_id).values(seq=position[sheet_id])
        )
    with op.batch_alter_table("sheet_comment", schema=None) as batch_op:
        batch_op.alter_column("seq", server_default=None)
        batch_op.create_unique_constraint("uq_sheet_comment_seq", ["sheet_id", "seq"])


def downgrade() -> None:
    with op.batch_alter_table("sheet_comment", schema=None) as batch_op:
        batch_op.drop_constraint("uq_sheet_comment_seq", type_="unique")
        batch_op.drop_column("seq")
