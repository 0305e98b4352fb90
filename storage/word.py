"""Word documents that open cleanly in Japanese Word: East Asian font, ja-JP, core properties.

Used by every .docx soudan writes (情報提供依頼書（案）, 所管課概要案（案）, 仕様書（案）
レビューメモ). ``python-docx`` is imported inside the functions: commands that write
no document do not pay for it.

Example:
    >>> document = japanese_document(DocumentMeta(author="子育て支援課",  # doctest: +SKIP
    ...     created=datetime.now(ZoneInfo("Asia/Tokyo")), title="情報提供依頼書（案）"))
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

EAST_ASIAN_FONT = "游明朝"
"""East Asian font of the Word documents (Word substitutes a Mincho font where it is absent)."""
LANGUAGE = "ja-JP"


@dataclass(frozen=True)
class DocumentMeta:
    """Core properties of a document (File > Info in Word)."""

    author: str
    """Who the document is from (the 所管課); also the last editor."""
    created: datetime
    """When it was made; timezone-aware (stored in UTC, as the format requires)."""
    title: str = ""
    subject: str = ""
    """e.g. the municipality's name."""


def set_japanese_styles(document: Any) -> None:
    """Every style gets the East Asian font and ja-JP as its language (proofing, line breaking)."""
    from docx.oxml.ns import qn

    for style in document.styles:
        element = getattr(style, "element", None)
        if element is None or getattr(style, "font", None) is None:
            continue
        r_pr = element.get_or_add_rPr()
        for tag, values in (
            ("w:rFonts", {"w:eastAsia": EAST_ASIAN_FONT}),
            ("w:lang", {"w:eastAsia": LANGUAGE, "w:val": LANGUAGE}),
        ):
            node = r_pr.find(qn(tag))
            if node is None:
                node = r_pr.makeelement(qn(tag), {})
                r_pr.append(node)
            for key, value in values.items():
                node.set(qn(key), value)


def set_core_properties(document: Any, meta: DocumentMeta) -> None:
    """Author, dates, language and title instead of python-docx's template defaults.

    Raises:
        ValueError: ``meta.created`` has no timezone.
    """
    if meta.created.tzinfo is None:
        raise ValueError("DocumentMeta.created must be timezone-aware")
    created = meta.created.astimezone(UTC)
    properties = document.core_properties
    properties.author = meta.author
    properties.last_modified_by = meta.author
    properties.created = created
    properties.modified = created
    properties.last_printed = created
    properties.language = LANGUAGE
    properties.title = meta.title
    properties.subject = meta.subject
    properties.comments = ""
    properties.keywords = ""
    properties.category = ""
    properties.revision = 1


def japanese_document(meta: DocumentMeta | None = None) -> Any:
    """A new ``docx.Document`` with Japanese styles (and ``meta``'s core properties)."""
    from docx import Document

    document = Document()
    set_japanese_styles(document)
    if meta is not None:
        set_core_properties(document, meta)
    return document
