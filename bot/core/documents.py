"""Documents a finished flow produces (the draft 情報提供依頼書 of the RFI flow).

One place builds them, for the chat (Markdown at the end of the flow) and for
``soudan flow document`` (Word or Markdown), from what the 相談シート stores. A
flow file names its document (``sheet.document: rfi_request``); the sheet's
section carries that name, so no flow id appears here.
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
    """情報提供依頼書（案） from a sheet with an RFI section (and the consultation it continues).

    A sheet made before follow-ups continued the same sheet points at its parent
    through its flow session; its parent's answers describe the business.
    """
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
        sheet_slots=parent.slots if parent is not None else sheet.slots,
        department=sheet.department or "",
    )


def outline_draft(session: Session, sheet: storage.ConsultationSheet, today: date) -> RfiDraft:
    """所管課概要案（案） from an ``outline`` sheet."""
    return build_outline_draft(sheet.slots, issued_on=today, department=sheet.department or "")


DOCUMENTS: dict[str, tuple[str, DocumentBuilder]] = {
    "rfi_request": ("情報提供依頼書（案）", rfi_request),
    "outline_draft": ("所管課概要案（案）", outline_draft),
}
"""document name (a flow file's ``sheet.document``) -> (Japanese title, builder)."""


def sheet_document(sheet: storage.ConsultationSheet) -> tuple[str, DocumentBuilder] | None:
    """The document the sheet's last section that produces one names, if any."""
    for section in reversed(sheet.sections):
        name = section.get("document") if isinstance(section, dict) else None
        if name in DOCUMENTS:
            return DOCUMENTS[str(name)]
    return None
