"""Documents a finished flow produces (the draft 情報提供依頼書 of the RFI flow).

One place builds them, for the chat (Markdown at the end of the flow) and for
``soudan flow document`` (Word or Markdown), from what the 相談シート stores. A
flow file names its document (``sheet.document: rfi_request``) and maps its slots to
the document's parts (``sheet.parts``); the sheet's section carries the document name
and the flow id, so no flow id or slot name appears here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

import storage
from flows import FlowDefinition
from flows.document_parts import context_values, part_values
from flows.outline_document import build_outline_draft
from flows.rfi_document import RfiDraft, build_rfi_draft


@dataclass(frozen=True)
class DocumentContext:
    """What a document needs besides the sheet."""

    today: date
    flows: Mapping[str, FlowDefinition]
    """Flow id → definition: their ``sheet.parts`` say which answer fills which part."""
    municipality: str = ""
    """Printed as the sender (``SOUDAN_MUNICIPALITY``); empty prints nothing."""


DocumentBuilder = Callable[[Session, storage.ConsultationSheet, DocumentContext], RfiDraft]


def _own_values(
    sheet: storage.ConsultationSheet, document: str, context: DocumentContext
) -> tuple[dict[str, Any], str | None]:
    """The parts the flow that produces ``document`` fills, and that flow's id."""
    for section in reversed(sheet.sections):
        if isinstance(section, dict) and section.get("document") == document:
            flow_id = str(section.get("flow") or "")
            definition = context.flows.get(flow_id)
            if definition is not None:
                return part_values(definition, sheet.slots), flow_id
            return {}, flow_id
    return {}, None


def _context_values(
    sheet: storage.ConsultationSheet, context: DocumentContext, *, skip: str | None
) -> dict[str, Any]:
    """Parts the other flows on ``sheet`` map (the consultation a document continues)."""
    flow_ids = [str(s.get("flow") or "") for s in sheet.sections if isinstance(s, dict)]
    definitions = [context.flows[f] for f in flow_ids if f != skip and f in context.flows]
    return context_values(definitions, sheet.slots)


def rfi_request(
    session: Session, sheet: storage.ConsultationSheet, context: DocumentContext
) -> RfiDraft:
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
    values, flow_id = _own_values(sheet, "rfi_request", context)
    return build_rfi_draft(
        values,
        issued_on=context.today,
        context=_context_values(parent if parent is not None else sheet, context, skip=flow_id),
        municipality=context.municipality,
        department=sheet.department or "",
    )


def outline_draft(
    session: Session, sheet: storage.ConsultationSheet, context: DocumentContext
) -> RfiDraft:
    """所管課概要案（案） from a sheet with an outline section."""
    values, _ = _own_values(sheet, "outline_draft", context)
    return build_outline_draft(
        values,
        issued_on=context.today,
        department=sheet.department or "",
        municipality=context.municipality,
    )


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
