"""A draft 仕様書 shared in a conversation: refuse it by name and size, or review it.

The core decides; the channel adapters only translate the shared file into an
:class:`~bot.core.messages.Attachment` and download it when asked. The review itself
is the knowledge side's (``knowledge.spec_review``), reached through
:class:`DraftReviewPort` so that no model library is imported here.

Example:
    >>> port = DraftDesk(reviewer, max_bytes=10_000_000)          # doctest: +SKIP
    >>> port.refusal("仕様書.xlsx", 2_000)                            # doctest: +SKIP
    '対応していない形式です（…）'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

import storage
from bot.core.messages import Memo, Part, Text
from bot.core.policy import write_audit


@dataclass(frozen=True)
class ReviewedDraft:
    """A finished review, in the forms the core shows and keeps."""

    file_name: str
    title: str
    """The memo's title (仕様書（案）レビューメモ　…)."""
    chat_text: str
    """The memo as chat text (simple Markdown, no tables)."""
    markdown: str
    """The memo as Markdown (what is saved on the 相談シート and exported)."""
    summary: str
    """One line: how many items are present / weak / missing, how many findings."""
    items: tuple[tuple[str, str], ...]
    """(checklist item label, judgement label) in checklist order."""
    docx: bytes | None = None
    """The memo as Word, kept with it on the sheet (downloadable on the web console)."""


class DraftReviewPort(Protocol):
    """What the core needs to review a shared draft 仕様書 (``bot.spec_drafts.DraftDesk``)."""

    @property
    def max_bytes(self) -> int: ...

    def refusal(self, name: str, size: int) -> str | None:
        """Why a file of this name and size is refused before it is read (Japanese), or None."""
        ...

    def review(self, name: str, data: bytes) -> ReviewedDraft | str:
        """The review of the file, or why it cannot be read (the ingest's Japanese reason)."""
        ...


def keep_memo(
    session: Session,
    *,
    sheet_id: str,
    reviewed: ReviewedDraft,
    actor: str,
    tenant: str | None = None,
    via: str | None = None,
) -> storage.spec_memos.SpecReviewMemo:
    """Save the memo on the sheet and its audit row (``sheet.spec_memo``), in the caller's
    transaction: the one way a memo is kept, from chat, the console or the CLI.

    Who may keep one is the caller's question to the policy (``spec_memo``:
    :func:`bot.core.policy.decide`)."""
    memo = storage.spec_memos.save_spec_memo(
        session=session, sheet_id=sheet_id, file_name=reviewed.file_name,
        title=reviewed.title, summary=reviewed.summary, items=reviewed.items,
        markdown=reviewed.markdown, actor=actor, docx=reviewed.docx,
    )
    write_audit(
        session, actor, "sheet.spec_memo", target=sheet_id, tenant=tenant,
        detail={"via": via} if via else None,
    )
    return memo


def refusal_text(name: str, reason: str) -> str:
    return f"⚠️ {name} を仕様書（案）としてレビューできません: {reason}"


def memo_parts(reviewed: ReviewedDraft, *, sheet_reference: str | None) -> list[Part]:
    """The memo as the conversation shows it, with where it was saved."""
    if sheet_reference:
        saved = (
            f"レビューメモを相談シート {sheet_reference} に保存しました"
            "（CIO補佐は `soudan review show` や管理画面で確認でき、管理画面の相談シートの画面から"
            "Word 形式でダウンロードして編集・送付できます）。"
        )
    else:
        saved = (
            "このメモは相談シートには保存していません（相談のスレッドで共有すると、"
            "その相談シートに保存します）。Word 形式は `soudan review-spec ファイル --out メモ.docx`。"
        )
    return [
        Text(f"{reviewed.file_name} を仕様書（案）としてレビューしました。{reviewed.summary}"),
        Memo(reviewed.title, reviewed.chat_text),
        Text(saved),
    ]
