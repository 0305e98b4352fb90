"""One reviewer for the session (the real bundled embedding model and Sudachi tokenizer);
a review of the same document content is computed once and shared by the tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings
from knowledge.documents import SourceDocument
from knowledge.embedder import TextEmbedder
from knowledge.lexical import JapaneseTokenizer
from knowledge.spec_review import Method, SpecReview, SpecReviewer, read_draft

DRAFTS = Path(__file__).with_name("drafts")


class SharedReviewer(SpecReviewer):
    """The real reviewer; a document reviewed before (same content digest) is not redone."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._done: dict[tuple[str, str, str | None], SpecReview] = {}
        self.computed = 0

    def review(self, document: SourceDocument, *, method: Method | None = None) -> SpecReview:
        key = (document.name, document.digest, method)
        if key not in self._done:
            self.computed += 1
            self._done[key] = super().review(document, method=method)
        return self._done[key]


@pytest.fixture(scope="session")
def reviewer(project_settings: Settings) -> SharedReviewer:
    embedder = TextEmbedder(
        str(project_settings.bundled_model_dir), bundled_model_dir=project_settings.bundled_model_dir
    )
    return SharedReviewer(embedder, JapaneseTokenizer())


@pytest.fixture(scope="session")
def review_of(reviewer: SharedReviewer):  # type: ignore[no-untyped-def]
    def review(name: str) -> SpecReview:
        return reviewer.review(read_draft(DRAFTS / name, max_bytes=20 * 1024 * 1024))

    return review
