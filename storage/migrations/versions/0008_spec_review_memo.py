"""仕様書（案） review memos on the 相談シート: the ``spec_review_memo`` table.

A draft 仕様書 reviewed in a consultation's thread (Slack, Teams), with
``soudan review-spec FILE --sheet REFERENCE`` or on the web console keeps its memo
(Markdown and Word), the file name and the judged items on the sheet.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "spec_review_memo",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sheet_id", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=300), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("items", _JSON, nullable=False),
        sa.Column("markdown", sa.Text(), nullable=False),
        sa.Column("docx", sa.LargeBinary(), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["sheet_id"], ["consultation_sheet.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("spec_review_memo", schema=None) as batch_op:
        batch_op.create_index("ix_spec_review_memo_sheet_id", ["sheet_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spec_review_memo", schema=None) as batch_op:
        batch_op.drop_index("ix_spec_review_memo_sheet_id")
    op.drop_table("spec_review_memo")
