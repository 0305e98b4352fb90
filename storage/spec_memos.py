"""仕様書（案） review memos kept on a 相談シート (``spec_review_memo``).

A draft 仕様書 reviewed in a consultation's thread, with ``soudan review-spec FILE
--sheet REFERENCE`` or on the web console is saved on that sheet: the memo as
Markdown, the file name and the judged items, newest last. The CIO補佐 sees them in
``soudan review show`` and the console, and the exports count them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from storage.columns import JSONDocument, UTCDateTime, utc_now
from storage.models import ConsultationSheet, FlowSession, new_id
from storage.sheets import rows_by_sheet


class SpecReviewMemo(SQLModel, table=True):
    """One review memo of a draft 仕様書, on the sheet it was shared for."""

    __tablename__ = "spec_review_memo"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=36)
    sheet_id: str = Field(foreign_key="consultation_sheet.id", max_length=36, index=True)
    file_name: str = Field(max_length=300)
    title: str = Field(max_length=500)
    summary: str = Field(max_length=500, description="記載あり・不十分・なしの件数と指摘事項数")
    items: list[Any] = Field(
        default_factory=list,
        sa_type=JSONDocument,
        description="[[項目, 判定], ...] in checklist order",
    )
    markdown: str = Field(sa_type=sa.Text)
    docx: bytes | None = Field(default=None, sa_type=sa.LargeBinary)
    """The memo as Word, as ``knowledge.spec_review_memo.render_docx`` wrote it."""
    actor: str = Field(max_length=300, description="who shared the file, e.g. slack:T1:U1")
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)


def save_spec_memo(
    *,
    session: Session,
    sheet_id: str,
    file_name: str,
    title: str,
    summary: str,
    items: list[tuple[str, str]] | tuple[tuple[str, str], ...],
    markdown: str,
    actor: str,
    docx: bytes | None = None,
) -> SpecReviewMemo:
    """Keep a review memo on the sheet ``sheet_id`` (flushed, not committed)."""
    memo = SpecReviewMemo(
        sheet_id=sheet_id,
        file_name=file_name[:300],
        title=title[:500],
        summary=summary[:500],
        items=[list(item) for item in items],
        markdown=markdown,
        actor=actor[:300],
        docx=docx,
    )
    session.add(memo)
    session.flush()
    return memo


def list_spec_memos(*, session: Session, sheet_id: str) -> list[SpecReviewMemo]:
    """The sheet's review memos, oldest first."""
    statement = (
        select(SpecReviewMemo)
        .where(col(SpecReviewMemo.sheet_id) == sheet_id)
        .order_by(col(SpecReviewMemo.created_at), col(SpecReviewMemo.id))
    )
    return list(session.exec(statement).all())


def memos_by_sheet(*, session: Session, sheet_ids: list[str]) -> dict[str, list[SpecReviewMemo]]:
    """Sheet id -> its review memos, oldest first (for exports)."""
    return rows_by_sheet(
        session=session, model=SpecReviewMemo, sheet_column=SpecReviewMemo.sheet_id,
        sheet_ids=sheet_ids,
        order=(col(SpecReviewMemo.created_at), col(SpecReviewMemo.id)),
    )


def get_spec_memo(*, session: Session, memo_id: str) -> SpecReviewMemo | None:
    return session.get(SpecReviewMemo, memo_id)


def sheet_of_conversation(
    *, session: Session, channel: str, tenant: str, conversation: str
) -> ConsultationSheet | None:
    """The 相談シート a conversation (a consultation's thread) is about, or None.

    The sheet of the conversation's most recent flow session; else a sheet submitted
    from it (its review results go there).
    """
    flow_session = session.exec(
        select(FlowSession)
        .where(
            FlowSession.channel == channel,
            FlowSession.tenant == tenant,
            FlowSession.conversation == conversation,
            col(FlowSession.sheet_id).is_not(None),
        )
        .order_by(col(FlowSession.updated_at).desc())
    ).first()
    if flow_session is not None and flow_session.sheet_id:
        return session.get(ConsultationSheet, flow_session.sheet_id)
    return session.exec(
        select(ConsultationSheet)
        .where(
            ConsultationSheet.channel == channel,
            ConsultationSheet.tenant == tenant,
            ConsultationSheet.conversation == conversation,
        )
        .order_by(col(ConsultationSheet.updated_at).desc())
    ).first()
