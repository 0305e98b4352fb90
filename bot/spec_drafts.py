"""The draft 仕様書 review as the chat core and the web console use it (``DraftReviewPort``).

Wraps ``knowledge.spec_review``: a file is refused by its name and size before a byte
is read (``check_upload``), then read with the guideline loaders and judged; the memo
comes back as chat text and as Markdown for the 相談シート. The reviewer (the embedding
model) is made on first use and shared with the knowledge base when there is one.

Example:
    >>> desk = DraftDesk(lambda: reviewer, max_bytes=settings.max_document_bytes)  # doctest: +SKIP
    >>> desk.review("仕様書案.docx", data).summary                             # doctest: +SKIP
    'ガイドラインが示す仕様書の主な内容 16 項目のうち、記載あり 12・…'
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.core.spec_drafts import ReviewedDraft

if TYPE_CHECKING:
    from bot.settings import Settings
    from knowledge.spec_review import SpecReview, SpecReviewer


class DraftDesk:
    """Implements :class:`bot.core.spec_drafts.DraftReviewPort` over ``knowledge.spec_review``."""

    def __init__(
        self,
        reviewer: Callable[[], SpecReviewer],
        *,
        max_bytes: int,
        timezone: str = "Asia/Tokyo",
        today: Callable[[], date] | None = None,
    ) -> None:
        self._make_reviewer = reviewer
        self._reviewer: SpecReviewer | None = None
        self._lock = threading.Lock()
        self._max_bytes = max_bytes
        zone = ZoneInfo(timezone)
        self._today = today or (lambda: datetime.now(zone).date())

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def refusal(self, name: str, size: int) -> str | None:
        from knowledge.documents import DocumentError
        from knowledge.spec_review import check_upload

        try:
            check_upload(name, size, max_bytes=self._max_bytes)
        except DocumentError as error:
            return error.reason
        return None

    def review(self, name: str, data: bytes) -> ReviewedDraft | str:
        from knowledge.documents import DocumentError
        from knowledge.spec_review import review_draft_bytes

        try:
            review = review_draft_bytes(self.reviewer(), name, data, max_bytes=self._max_bytes)
        except DocumentError as error:
            return error.reason
        return reviewed_draft(review, reviewed_on=self._today())

    def reviewer(self) -> SpecReviewer:
        with self._lock:
            if self._reviewer is None:
                self._reviewer = self._make_reviewer()
            return self._reviewer


def reviewed_draft(review: SpecReview, *, reviewed_on: date) -> ReviewedDraft:
    """The review in the forms the core shows and keeps."""
    from knowledge.spec_review_memo import (
        STATUS_LABELS,
        memo_sections,
        render_chat,
        render_docx,
        render_markdown,
        summary_line,
    )

    title, _ = memo_sections(review)
    return ReviewedDraft(
        file_name=review.name,
        title=title,
        chat_text=render_chat(review),
        markdown=render_markdown(review, reviewed_on=reviewed_on),
        summary=summary_line(review),
        items=tuple((j.item.label, STATUS_LABELS[j.status]) for j in review.items),
        docx=render_docx(review, reviewed_on=reviewed_on),
    )


def draft_desk(settings: Settings, knowledge: object | None = None) -> DraftDesk:
    """The desk for ``settings``: the knowledge base's embedder and tokenizer when it has
    them (one model in memory), else the configured model, loaded on first use."""

    def make() -> SpecReviewer:
        from knowledge.spec_review import SpecReviewer

        embedder = getattr(knowledge, "embedder", None)
        tokenizer = getattr(knowledge, "tokenizer", None)
        if embedder is not None and tokenizer is not None:
            return SpecReviewer(embedder, tokenizer)
        from knowledge.embedder import TextEmbedder
        from knowledge.lexical import JapaneseTokenizer

        return SpecReviewer(
            TextEmbedder(
                settings.effective_embedding_model, bundled_model_dir=settings.bundled_model_dir
            ),
            JapaneseTokenizer(),
        )

    return DraftDesk(make, max_bytes=settings.max_document_bytes, timezone=settings.timezone)
