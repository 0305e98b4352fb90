"""Neutral outbound parts for the review desk: sheet summaries, the queue, the detail.

Channels render these (Block Kit, Adaptive Cards, terminal); the buttons carry
``review.*`` actions whose value is the sheet id.
"""

from __future__ import annotations

from datetime import tzinfo

from bot.core.consultations import reopen_choice
from bot.core.messages import Action, Choice, Choices, Form, FormField, Part, SheetSummary, Text
from bot.review.records import Actor, CommentRecord
from bot.review.weeks import TOKYO
from flows.answer_reading import short_yen as yen
from storage.lifecycle import SheetStatus, status_label
from storage.models import ConsultationSheet
from storage.sheet_view import (
    COMMENT_KIND_LABELS,
    SheetContent,
    answer_lines_text,
    decision_lines_text,
    sheet_content,
)

QUEUE_LIMIT = 10

def sheet_summary(sheet: ConsultationSheet, zone: tzinfo = TOKYO) -> SheetSummary:
    """The sheet at a glance (department, business, cost, its flows' decisions, submitted
    — in ``zone``, the ``timezone`` setting)."""
    submitted = (
        sheet.submitted_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
        if sheet.submitted_at else "未提出"
    )
    return SheetSummary(
        sheet_id=sheet.id,
        reference=sheet.reference,
        status=status_label(sheet.status),
        rows=(
            ("部署", sheet.department or "未設定"),
            ("対象業務", sheet.business or "未記入"),
            *((("イニシャルコスト", yen(sheet.initial_cost)),) if sheet.initial_cost is not None else ()),
            *((d.label, d.value_label) for d in sheet_content(sheet.sections).headline),
            ("提出日時", submitted),
        ),
    )


def content_parts(content: SheetContent) -> list[Part]:
    """Every answer, then every decision with its sources (the sheet's full content)."""
    parts: list[Part] = []
    answers = answer_lines_text(content)
    if answers:
        parts.append(Text("**回答**\n" + answers))
    decisions = decision_lines_text(content)
    if decisions:
        parts.append(Text("**判断と根拠**\n" + decisions))
    return parts


def comment_parts(comments: list[CommentRecord], zone: tzinfo = TOKYO) -> list[Part]:
    """The comments and return reasons, oldest first (times in ``zone``)."""
    if not comments:
        return []
    lines = [
        f"- {c.created_at.astimezone(zone):%m/%d %H:%M} "
        f"{COMMENT_KIND_LABELS.get(c.kind, 'コメント')}: {c.text}"
        for c in comments
    ]
    return [Text("**コメント**\n" + "\n".join(lines))]


def queue_parts(
    sheets: list[ConsultationSheet], total: int, *, title: str, zone: tzinfo = TOKYO
) -> list[Part]:
    """The first sheets of a list of ``total``, each with an 「開く」 button
    (``review.open``); a line says how many more there are."""
    if not sheets:
        return [Text(f"{title}: 該当する相談シートはありません。")]
    shown = sheets[:QUEUE_LIMIT]
    parts: list[Part] = [Text(f"{title}（{total}件）")]
    for sheet in shown:
        parts.append(sheet_summary(sheet, zone))
        parts.append(
            Choices("", (Choice("開く", Action("review.open", sheet.id), "primary"),))
        )
    if total > len(shown):
        parts.append(
            Text(
                f"ほかに {total - len(shown)} 件あります。"
                "すべて見るには `soudan review list` を使ってください。"
            )
        )
    return parts


def review_choices(sheet: ConsultationSheet) -> Choices | None:
    """The reviewer's next steps for the sheet's status, as buttons."""
    value = sheet.id
    options: list[Choice] = []
    if sheet.status == SheetStatus.SUBMITTED:
        options.append(Choice("確認を開始", Action("review.start", value), "primary"))
    elif sheet.status == SheetStatus.IN_REVIEW:
        options.append(Choice("受理", Action("review.accept", value), "primary"))
        options.append(Choice("差し戻し", Action("review.return", value), "danger"))
    elif sheet.status == SheetStatus.ACCEPTED:
        options.append(Choice("完了にする", Action("review.close", value)))
    options.append(Choice("コメント", Action("review.comment", value)))
    return Choices("次の操作を選んでください。", tuple(options))


def detail_parts(
    sheet: ConsultationSheet, comments: list[CommentRecord], *, reviewer: bool, zone: tzinfo = TOKYO
) -> list[Part]:
    """The sheet, all it holds, its comments, and (for reviewers) the next-step buttons."""
    parts: list[Part] = [sheet_summary(sheet, zone), *content_parts(sheet_content(sheet.sections))]
    parts.extend(comment_parts(comments, zone))
    if reviewer:
        choices = review_choices(sheet)
        if choices is not None:
            parts.append(choices)
    return parts


def return_form(sheet_id: str) -> Form:
    """Ask the reviewer why the sheet goes back (the requester reads it)."""
    return Form(
        title="差し戻しの理由",
        fields=(
            FormField(
                "comment", "差し戻しの理由（依頼者に届きます）", multiline=True, required=True
            ),
        ),
        submit=Action("review.return", sheet_id),
        submit_label="差し戻す",
        reopen=Action("review.return", sheet_id),
    )


def comment_form(sheet_id: str) -> Form:
    return Form(
        title="コメント",
        fields=(FormField("comment", "コメント", multiline=True, required=True),),
        submit=Action("review.comment", sheet_id),
        submit_label="コメントする",
        reopen=Action("review.comment", sheet_id),
    )


def department_form() -> Form:
    """Ask a new chat user for their department, once."""
    return Form(
        title="所属部署の登録",
        fields=(FormField("department", "所属部署（例: 総務課）", required=True),),
        submit=Action("review.set_department"),
        submit_label="登録",
    )


PENDING_DEPARTMENT_NOTE = (
    "管理者（情報政策課）が所属部署を確認するまでは、ご自身が作成した相談シートだけを表示します。"
)


def department_registered(department: str | None) -> Text:
    """The reply to a self-declared department: recorded, pending confirmation."""
    return Text(f"所属部署を「{department}」で登録しました。{PENDING_DEPARTMENT_NOTE}")


def pending_users_parts(users: list[Actor]) -> list[Part]:
    """Self-declared departments awaiting an administrator, each with 「承認」."""
    if not users:
        return [Text("確認待ちの所属部署はありません。")]
    parts: list[Part] = [Text(f"確認待ちの所属部署（{len(users)}件）")]
    for user in users[:QUEUE_LIMIT]:
        who = user.display_name or user.user_id
        parts.append(Text(f"{who}（{user.key}）: {user.department}"))
        parts.append(Choices("", (
            Choice("承認", Action("review.confirm_department", user.key), "primary"),
        )))
    if len(users) > QUEUE_LIMIT:
        parts.append(Text(
            f"ほかに {len(users) - QUEUE_LIMIT} 件あります。"
            "`soudan users list --pending` で確認できます。"
        ))
    return parts


def requester_notice(
    sheet: ConsultationSheet, comment: str | None, zone: tzinfo = TOKYO
) -> list[Part]:
    """What the requester reads when the CIO補佐 returns or accepts their sheet."""
    if sheet.status == SheetStatus.RETURNED:
        text = (
            f"相談シート {sheet.reference}「{sheet.business}」が CIO補佐から差し戻されました。\n"
            f"理由: {comment or '（記載なし）'}\n"
            "内容を修正して、もう一度提出してください。"
        )
    else:
        text = (
            f"相談シート {sheet.reference}「{sheet.business}」が CIO補佐に受理されました。"
            + (f"\nコメント: {comment}" if comment else "")
            + "\n次の手続きに進んでください。"
        )
    parts: list[Part] = [Text(text), sheet_summary(sheet, zone)]
    if sheet.status == SheetStatus.RETURNED:
        parts.append(Choices("", (reopen_choice(sheet.id),)))
    return parts
