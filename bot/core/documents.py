"""Documents a finished flow produces (e.g. the draft 情報提供依頼書 of the ``rfi`` flow)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from flows.rfi_document import build_rfi_draft, render_markdown

DocumentMaker = Callable[..., str]


def rfi_request_markdown(
    slots: Mapping[str, Any],
    *,
    today: date,
    parent_slots: Mapping[str, Any] | None,
    department: str,
) -> str:
    """情報提供依頼書（案） in Markdown from the ``rfi`` flow's answers."""
    draft = build_rfi_draft(
        slots, issued_on=today, sheet_slots=parent_slots, department=department
    )
    return render_markdown(draft)


DOCUMENTS: dict[str, tuple[str, DocumentMaker]] = {
    "rfi": ("情報提供依頼書（案）", rfi_request_markdown),
}
"""flow id -> (document name, maker). A flow without an entry produces no document."""
