"""相談シート (consultation sheet) status lifecycle, enforced in this one place.

::

    draft ──submit──▶ submitted ──start review──▶ in_review ──▶ returned
                          ▲                             │           │
                          └────────── resubmit ─────────┼───────────┘
                                                        ▼
                                                    accepted ──▶ closed
    draft ──cancel (「やめる」)──▶ cancelled (取消: out of the digest's counts)

Content (business, costs, slots, ...) may be edited only while the sheet is
``draft`` or ``returned``: once submitted, the CIO補佐 reviews a fixed text, and a
change needs a return first. Comments can be added in any status.
"""

from __future__ import annotations

from enum import StrEnum

from storage.errors import IllegalTransitionError, SheetNotEditableError


class SheetStatus(StrEnum):
    """相談シートの状態 (sheet status)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    CLOSED = "closed"
    CANCELLED = "cancelled"


STATUS_LABELS: dict[SheetStatus, str] = {
    SheetStatus.DRAFT: "下書き",
    SheetStatus.SUBMITTED: "提出済み",
    SheetStatus.IN_REVIEW: "確認中",
    SheetStatus.RETURNED: "差し戻し",
    SheetStatus.ACCEPTED: "受理",
    SheetStatus.CLOSED: "完了",
    SheetStatus.CANCELLED: "取消",
}
"""Japanese labels for display, in lifecycle order."""

ALLOWED_TRANSITIONS: dict[SheetStatus, frozenset[SheetStatus]] = {
    SheetStatus.DRAFT: frozenset({SheetStatus.SUBMITTED, SheetStatus.CANCELLED}),
    SheetStatus.SUBMITTED: frozenset({SheetStatus.IN_REVIEW}),
    SheetStatus.IN_REVIEW: frozenset({SheetStatus.RETURNED, SheetStatus.ACCEPTED}),
    SheetStatus.RETURNED: frozenset({SheetStatus.SUBMITTED}),
    SheetStatus.ACCEPTED: frozenset({SheetStatus.CLOSED}),
    SheetStatus.CLOSED: frozenset(),
    SheetStatus.CANCELLED: frozenset(),
}

EDITABLE_STATUSES: frozenset[SheetStatus] = frozenset({SheetStatus.DRAFT, SheetStatus.RETURNED})
"""Statuses in which the requester may change the sheet's content."""

OPEN_STATUSES: frozenset[SheetStatus] = frozenset(
    {SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW}
)
"""Statuses in which the sheet waits for the CIO補佐."""

# What the requester/reviewer should do instead, per current status.
_NEXT_STEP_HINTS: dict[SheetStatus, str] = {
    SheetStatus.DRAFT: "まず提出してください。",
    SheetStatus.SUBMITTED: "CIO補佐が確認を開始するまでお待ちください。",
    SheetStatus.IN_REVIEW: "差し戻しまたは受理のどちらかを選んでください。",
    SheetStatus.RETURNED: "内容を修正して再提出してください。",
    SheetStatus.ACCEPTED: "受理済みです。対応が終わったら完了にしてください。",
    SheetStatus.CLOSED: "完了したシートは変更できません。新しい相談を始めてください。",
    SheetStatus.CANCELLED: "取り消した相談シートは変更できません。新しい相談を始めてください。",
}


def status_label(status: SheetStatus | str) -> str:
    """Japanese label of ``status`` (e.g. ``"submitted"`` -> ``"提出済み"``)."""
    return STATUS_LABELS[SheetStatus(status)]


def parse_status(text: str) -> SheetStatus:
    """A status from its value (``submitted``) or its Japanese label (``提出済み``).

    Raises:
        ValueError: with a Japanese message listing what is accepted.

    Example:
        >>> parse_status("提出済み")
        <SheetStatus.SUBMITTED: 'submitted'>
    """
    given = text.strip()
    for status, label in STATUS_LABELS.items():
        if given in (status.value, label):
            return status
    choices = "、".join(f"{label}（{status.value}）" for status, label in STATUS_LABELS.items())
    raise ValueError(f"状態「{text}」はありません。次のどれかを指定してください: {choices}")




def check_transition(from_status: SheetStatus | str, to_status: SheetStatus | str) -> None:
    """Raise :class:`IllegalTransitionError` unless the lifecycle allows the change.

    Example:
        >>> check_transition("draft", "submitted")
        >>> try:
        ...     check_transition("draft", "accepted")
        ... except IllegalTransitionError as error:
        ...     print(error)
        「下書き」の相談シートを「受理」にはできません。まず提出してください。
    """
    source, target = SheetStatus(from_status), SheetStatus(to_status)
    if target in ALLOWED_TRANSITIONS[source]:
        return
    raise IllegalTransitionError(
        f"「{STATUS_LABELS[source]}」の相談シートを「{STATUS_LABELS[target]}」にはできません。"
        f"{_NEXT_STEP_HINTS[source]}",
        from_status=source.value,
        to_status=target.value,
    )


def check_editable(status: SheetStatus | str) -> None:
    """Raise :class:`SheetNotEditableError` unless the content may be edited in ``status``."""
    current = SheetStatus(status)
    if current in EDITABLE_STATUSES:
        return
    raise SheetNotEditableError(
        f"「{STATUS_LABELS[current]}」の相談シートは編集できません。"
        "編集できるのは下書きと差し戻しのシートだけです。"
        "修正が必要な場合は CIO補佐に差し戻しを依頼してください。",
        status=current.value,
    )
