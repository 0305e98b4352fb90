"""Chat turns for the review desk: 「レビュー」, 「ダイジェスト」 and ``review.*`` buttons.

The core routes these here (:meth:`bot.review.port.ReviewChat.handle` ->
:func:`handle_review_turn`, over a :class:`~bot.review.desk.ReviewDesk`); the answer is
neutral parts, so Slack, Teams and the terminal render the same thing.

Words (first word of the text, after an optional ``/soudan``):
    ``レビュー``   reviewers: the queue of sheets waiting for review;
                   staff: their department's sheets (their own sheets while the
                   department they declared awaits confirmation);
                   admins: the self-declared departments awaiting confirmation.
    ``ダイジェスト [2026-W47]``  reviewers only: the digest (default: this week).

Actions (``Action.value`` = sheet id):
    ``review.queue`` ``review.open`` ``review.start`` ``review.accept``
    ``review.return`` (form field ``comment``; without it, the form is shown)
    ``review.comment`` (form field ``comment``) ``review.close``
    ``review.set_department`` (form field ``department``)
    ``review.confirm_department`` (admins; value = the user's ``channel:tenant:user_id``)
"""

from __future__ import annotations

import unicodedata

from bot.core.commands import Command, command_words
from bot.core.messages import Inbound, Part, Text
from bot.review.desk import ReviewDesk
from bot.review.digest_render import render_chat
from bot.review.outcomes import ReviewOutcome, ReviewRefused
from bot.review.parts import (
    QUEUE_LIMIT,
    comment_form,
    department_form,
    department_registered,
    detail_parts,
    pending_users_parts,
    queue_parts,
    return_form,
)
from bot.review.records import Actor
from bot.review.weeks import IsoWeek, WeekFormatError
from storage.lifecycle import SheetStatus, status_label

# The core's words (bot.core.commands), read here as the first word of the message.
REVIEW_WORDS = command_words(Command.REVIEW)
DIGEST_WORDS = command_words(Command.DIGEST)

_DONE: dict[str, str] = {
    SheetStatus.IN_REVIEW: "確認を開始しました。",
    SheetStatus.RETURNED: "差し戻しました。",
    SheetStatus.ACCEPTED: "受理しました。",
    SheetStatus.CLOSED: "完了にしました。",
    SheetStatus.SUBMITTED: "提出しました。",
}


def review_words(text: str | None) -> list[str]:
    """The words of a review command, ``/soudan`` removed; [] when it is not one."""
    words = unicodedata.normalize("NFKC", text or "").split()
    if words and words[0].lower() in ("/soudan", "soudan"):
        words = words[1:]
    if words and words[0].lower() in REVIEW_WORDS + DIGEST_WORDS:
        return words
    return []


def is_review_turn(inbound: Inbound) -> bool:
    """Whether the core should route ``inbound`` to the review desk."""
    if inbound.action is not None:
        return inbound.action.kind.startswith("review.")
    return bool(review_words(inbound.text))


def handle_review_turn(desk: ReviewDesk, inbound: Inbound, actor: Actor) -> list[Part]:
    """The reply to one review turn; refusals become a Japanese :class:`Text`.

    Example:
        >>> handle_review_turn(desk, Inbound("slack", "T1", "C1:1.0", "U9", text="レビュー"),
        ...                    reviewer)                                  # doctest: +SKIP
        [Text('確認待ちの相談シート（2件）'), SheetSummary(...), Choices(...), ...]
    """
    try:
        if inbound.action is not None:
            return _action(desk, inbound, actor)
        return _words(desk, review_words(inbound.text), actor)
    except ReviewRefused as refusal:
        return [Text(refusal.message)]


def queue(desk: ReviewDesk, actor: Actor) -> list[Part]:
    """The reviewer's queue (or a staff member's own department list), e.g. for App Home.

    An administrator gets the self-declared departments awaiting confirmation.
    """
    if actor.role == "reviewer":
        sheets, total = desk.first_pending(actor, QUEUE_LIMIT)
        return queue_parts(sheets, total, title="確認待ちの相談シート", zone=desk.zone)
    if actor.role == "admin" and actor.outside_from is None:
        return pending_users_parts(desk.pending_departments(actor))
    sheets, total = desk.first_sheets(actor, QUEUE_LIMIT)
    if actor.department_pending:
        return [
            Text(f"所属部署「{actor.department}」は管理者の確認待ちです。"
                 "確認されるまでは、ご自身が作成した相談シートだけを表示します。"),
            *queue_parts(sheets, total, title="あなたの相談シート", zone=desk.zone),
        ]
    return queue_parts(
        sheets, total, title=f"{actor.department or '所属部署'}の相談シート", zone=desk.zone
    )


def _words(desk: ReviewDesk, words: list[str], actor: Actor) -> list[Part]:
    if words and words[0].lower() in DIGEST_WORDS:
        week = None
        if len(words) > 1:
            try:
                week = IsoWeek.parse(words[1], desk.zone)
            except WeekFormatError as error:
                return [Text(str(error))]
        return render_chat(desk.digest(actor, week))
    if desk.needs_department(actor) and actor.role in (None, "staff"):
        return [
            Text("相談シートを表示するには、まず所属部署を登録してください。"),
            department_form(),
        ]
    return queue(desk, actor)


def _outcome_parts(outcome: ReviewOutcome, desk: ReviewDesk) -> list[Part]:
    sheet = outcome.sheet
    line = f"{sheet.reference}: {_DONE.get(sheet.status, '更新しました。')}"
    line += f"（現在の状態: {status_label(sheet.status)}）"
    if outcome.notice:
        line += "\n" + outcome.notice
    # The comments come with the change just made; reading them is not another view.
    comments = desk.store.comments(sheet.id)
    return [Text(line), *detail_parts(sheet, comments, reviewer=True, zone=desk.zone)]


def _action(desk: ReviewDesk, inbound: Inbound, actor: Actor) -> list[Part]:
    assert inbound.action is not None
    kind, sheet_id = inbound.action.kind, inbound.action.value
    form = inbound.form or {}
    comment = form.get("comment", "").strip()
    if kind == "review.queue":
        return queue(desk, actor)
    if kind == "review.set_department":
        saved = desk.set_department(actor, form.get("department", ""))
        return [department_registered(saved.department)]
    if kind == "review.confirm_department":
        confirmed = desk.confirm_department(actor, inbound.action.value)
        return [
            Text(f"{confirmed.display_name or confirmed.user_id} の所属部署"
                 f"「{confirmed.department}」を承認しました。"),
            *pending_users_parts(desk.pending_departments(actor)),
        ]
    if kind == "review.open":
        detail = desk.show(actor, sheet_id)
        return detail_parts(
            detail.sheet, list(detail.comments), reviewer=actor.role == "reviewer",
            zone=desk.zone,
        )
    if kind == "review.start":
        return _outcome_parts(desk.start_review(actor, sheet_id), desk)
    if kind == "review.accept":
        return _outcome_parts(desk.accept(actor, sheet_id, comment or None), desk)
    if kind == "review.close":
        return _outcome_parts(desk.close(actor, sheet_id), desk)
    if kind == "review.return":
        if not comment:
            desk.authorize(actor, "change_status", sheet_id, target_status=SheetStatus.RETURNED)
            return [return_form(sheet_id)]
        return _outcome_parts(desk.return_sheet(actor, sheet_id, comment), desk)
    if kind == "review.comment":
        if not comment:
            desk.authorize(actor, "comment", sheet_id)
            return [comment_form(sheet_id)]
        detail = desk.comment(actor, sheet_id, comment)
        return [
            Text(f"{detail.sheet.reference} にコメントしました。"),
            *detail_parts(detail.sheet, list(detail.comments), reviewer=True, zone=desk.zone),
        ]
    return [Text("この操作には対応していません。「レビュー」と送ると一覧を表示します。")]
