"""A file shared with a message, in the core (the real Assistant on a real database, fakes for
the knowledge side and the draft reviewer): refused by type or size before it is fetched,
the memo for a draft, and a screenshot sent with a question leaves the question as it was."""

from __future__ import annotations

import pytest

from bot.core.assistant import Assistant
from bot.core.messages import Attachment, AttachmentError, Inbound, Memo, Text
from bot.core.spec_drafts import ReviewedDraft
from bot.settings import Settings
from flows import load_flows
from storage import Database
from tests.teams.fakes import GuidelineExcerpts

LIMIT = 1_000


class FakeDrafts:
    """A draft reviewer that refuses like the real one by name and size and records reviews."""

    max_bytes = LIMIT

    def __init__(self) -> None:
        self.reviewed: list[str] = []

    def refusal(self, name: str, size: int) -> str | None:
        if not name.endswith((".docx", ".pdf", ".md", ".txt")):
            return "対応していない形式です。"
        return "ファイルが大きすぎます。" if size > LIMIT else None

    def review(self, name: str, data: bytes) -> ReviewedDraft | str:
        if not data.strip():
            return "本文を取り出せませんでした。"
        self.reviewed.append(name)
        return ReviewedDraft(
            file_name=name,
            title=f"仕様書（案）レビューメモ　{name}",
            chat_text="**1. 概要**",
            markdown="# メモ\n",
            summary="要約。",
            items=(("業務の対象", "記載あり"),),
        )


class Fetches:
    def __init__(self, data: bytes = b"# draft", error: str | None = None) -> None:
        self.calls = 0
        self.data = data
        self.error = error

    def __call__(self, max_bytes: int) -> bytes:
        self.calls += 1
        if self.error is not None:
            raise AttachmentError(self.error)
        return self.data


@pytest.fixture
def drafts() -> FakeDrafts:
    return FakeDrafts()


@pytest.fixture
def assistant(database: Database, drafts: FakeDrafts) -> Assistant:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return Assistant(
        database=database,
        knowledge=GuidelineExcerpts(),
        flows=load_flows(settings.flows_dir),
        titles={},
        drafts=drafts,
    )


def shared(name: str, size: int | None, fetch: Fetches, text: str | None = None) -> Inbound:
    return Inbound(
        channel="terminal",
        tenant="local",
        conversation="c1",
        user_id="u1",
        text=text,
        attachment=Attachment(name=name, size=size, fetch=fetch),
    )


def texts(parts: list[object]) -> str:
    return "\n".join(p.text for p in parts if isinstance(p, Text | Memo))


@pytest.mark.parametrize(
    ("name", "size", "reason"),
    [
        ("予算.xlsx", 100, "対応していない形式です"),
        ("仕様書.pdf", LIMIT + 1, "ファイルが大きすぎます"),
    ],
)
def test_a_file_is_refused_by_its_name_and_size_before_it_is_fetched(
    assistant: Assistant, name: str, size: int, reason: str
) -> None:
    fetch = Fetches()
    shown = texts(assistant.handle(shared(name, size, fetch)))
    assert f"⚠️ {name} を仕様書（案）としてレビューできません: {reason}" in shown
    assert fetch.calls == 0


def test_a_draft_gets_its_memo_and_a_failed_fetch_or_bad_file_a_reason(
    assistant: Assistant, drafts: FakeDrafts
) -> None:
    parts = assistant.handle(shared("仕様書.md", None, Fetches()))
    assert any(isinstance(p, Memo) and p.title.endswith("仕様書.md") for p in parts)
    assert "保存していません" in texts(parts)  # no consultation in this conversation
    failed = texts(assistant.handle(shared("b.docx", 10, Fetches(error="取得できませんでした。"))))
    assert "b.docx を仕様書（案）としてレビューできません: 取得できませんでした。" in failed
    empty = texts(assistant.handle(shared("c.txt", 3, Fetches(data=b"   "))))
    assert "本文を取り出せませんでした" in empty
    assert drafts.reviewed == ["仕様書.md"]


def test_a_screenshot_sent_with_a_question_leaves_the_question_as_it_was(
    assistant: Assistant, drafts: FakeDrafts
) -> None:
    fetch = Fetches()
    shown = texts(assistant.handle(shared("画面.png", 50_000, fetch, text="RFI とは？")))
    assert "レビューできません" not in shown and "RFI" in shown
    assert fetch.calls == 0 and drafts.reviewed == []
