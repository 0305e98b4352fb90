"""The parts of the documents flows produce, and the answers that fill them.

A document builder (:mod:`flows.rfi_document`, :mod:`flows.outline_document`) knows
only the names of its parts (``business``, ``deadline`` …). Which answer fills a
part is data: a flow file maps parts to its slots in ``sheet.parts``, checked when
the flow is loaded (the part must be one of :data:`KNOWN_PARTS`, the slot one of the
flow's own). A flow without a document may map parts too: a document made later on
the same 相談シート (the RFI request after the ICT-adoption consultation) takes them
as its context.

Example:
    >>> part_values(flows["rfi"], {"rfi_business": "保育所入所申請"})  # doctest: +SKIP
    {'business': '保育所入所申請'}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.definition import FlowDefinition

RFI_PARTS = (
    "business",
    "purpose",
    "estimate",
    "concept",
    "structure",
    "preparation",
    "cautions",
    "deadline",
    "contact",
)
"""情報提供依頼書（案）: 対象業務, RFI の目的, the five items asked of vendors, 回答期限, 問い合わせ先."""

CONTEXT_PARTS = ("business", "problem", "ict")
"""What a document takes from the consultation it continues: 対象業務, 現状の課題, 想定している ICT."""

OUTLINE_PARTS = (
    "business",
    "work",
    "introduction_start",
    "ict_start",
    "budget",
    "budget_basis",
    "quotes_taken",
    "quote_vendors",
    "quote_basis_shown",
    "personal_information",
    "privacy_notes",
    "other_notes",
)
"""所管課概要案（案）: the four items the CIO補佐 examines, part by part."""

KNOWN_PARTS = frozenset((*RFI_PARTS, *CONTEXT_PARTS, *OUTLINE_PARTS))
"""Every part name a flow file's ``sheet.parts`` may use."""


def part_values(definition: FlowDefinition, slots: Mapping[str, Any]) -> dict[str, Any]:
    """Part name → the value of the slot ``definition``'s ``sheet.parts`` maps it to."""
    return {part: slots[slot] for part, slot in definition.sheet.parts.items() if slot in slots}


def context_values(
    definitions: Iterable[FlowDefinition], slots: Mapping[str, Any]
) -> dict[str, Any]:
    """The parts every flow in ``definitions`` maps, from ``slots`` (the first flow wins)."""
    values: dict[str, Any] = {}
    for definition in definitions:
        for part, value in part_values(definition, slots).items():
            values.setdefault(part, value)
    return values
