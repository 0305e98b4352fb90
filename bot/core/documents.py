"""Documents a finished flow produces (the draft 情報提供依頼書 of the ``rfi`` flow).

One place builds them, for the chat (Markdown at the end of the flow) and for
``soudan flow document`` (Word or Markdown), from what the 相談シート stores.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlmodel import Session, col, select

import storage
from flows.outline_document import build_outline_draft
from flows.rfi_document import RfiDraft, build_rfi_draft

DocumentBuilder = Callable[[Session, storage.ConsultationSheet, date], RfiDraft]


def rfi_request(session: Session, sheet: storage.ConsultationSheet, today: date) -> RfiDraft:
    """情報提供依頼書（案） from an ``rfi`` sheet, with the business of the consultation it continues."""
    flow_session = session.exec(
        select(storage.FlowSession)
        .where(storage.FlowSession.sheet_id == sheet.id)
        .order_by(col(storage.FlowSession.updated_at).desc())
    ).first()
    parent_id = flow_session.state.get("parent_sheet_id") if flow_session else None
    parent = storage.get_sheet(session=session, sheet_id=parent_id) if parent_id else None
    return build_rfi_draft(
        sheet.slots,
        issued_on=today,
        sheet_slots=parent.slots if parent is not None else None,
        department=sheet.department or "",
    )


def outline_draft(session: Session, sheet: storage.ConsultationSheet, today: date) -> RfiDraft:
    """所管課概要案（案） from an ``outline`` sheet."""
    return build_outline_draft(sheet.slots, issued_on=today, department=sheet.department or "")


DOCUMENTS: dict[str, tuple[str, DocumentBuilder]] = {
    "rfi": ("情報提供依頼書（案）", rfi_request),
    "outline": ("所管課概要案（案）", outline_draft),
}
"""flow id -> (document name, builder). A flow without an entry produces no document."""
