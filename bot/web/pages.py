"""The console's pages: what each one reads, through the review desk's policy and audit.

Every page and action resolves the signed-in person to an :class:`Actor` (fresh
from the database on each request, so a role change applies at once) and asks the
same :class:`~bot.core.policy.AccessGate` as chat and the CLI: one audit row per
attempt, allowed or denied. A sheet the viewer may not see is a 404 whether it
exists or not. Functions here are synchronous (they run in a worker thread).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, cast
from urllib.parse import urlencode

from sqlmodel import col, func, select

from bot.core.links import sheet_address, sheet_link
from bot.core.messages import ChannelName, Choices
from bot.core.policy import AccessAction, Decision, decide
from bot.review.content import content_parts
from bot.review.desk import ReviewDesk, compile_digest
from bot.review.digest import Digest
from bot.review.digest_render import FORMATS as DIGEST_FORMATS
from bot.review.digest_render import render as render_digest
from bot.review.outcomes import Notification, ReviewOutcome, ReviewRefused, notice_for
from bot.review.parts import COMMENT_KIND_LABELS, comment_form, return_form, review_choices
from bot.review.parts import sheet_summary as summary_part
from bot.review.records import ROLE_LABELS, Actor
from bot.review.store import ReviewStore
from bot.review.weeks import TOKYO, IsoWeek, WeekFormatError
from bot.web.charts import bar_chart, column_chart
from bot.web.queue import COST_BAND_KEYS, SORTS, QueueQuery, queue_page, waiting_days
from storage.lifecycle import STATUS_LABELS, SheetStatus, status_label
from storage.masking import mask_personal_data
from storage.models import ConsultationSheet, Feedback, FeedbackValue, Message
from storage.transcript import unanswered_questions

WAITING_HIGHLIGHT_DAYS = 7
TREND_WEEKS = 12

ACTIONS: dict[str, tuple[str, AccessAction, str | None]] = {
    "review.start": ("start", "change_status", SheetStatus.IN_REVIEW),
    "review.accept": ("accept", "change_status", SheetStatus.ACCEPTED),
    "review.return": ("return", "change_status", SheetStatus.RETURNED),
    "review.close": ("close", "change_status", SheetStatus.CLOSED),
    "review.comment": ("comment", "comment", None),
}
"""Chat action kind -> (URL verb, policy action, target status)."""

DONE_MESSAGES = {
    "comment": "コメントを追加しました。",
    "start": "確認を開始しました。",
    "return": "差し戻しました。",
    "accept": "受理しました。",
    "close": "完了にしました。",
}


def notification_notice(code: str | None) -> str:
    """The desk's own Japanese line about telling the requester (``sent``, ``failed`` …)."""
    if code not in ("sent", "failed", "queued"):
        return ""
    return notice_for(cast(Notification, code))


class PageError(Exception):
    """A page cannot be shown; ``status`` is the HTTP status, ``message`` Japanese."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ActionForm:
    """One action button of the sheet page (a form posting to ``/sheets/<ref>/<verb>``)."""

    verb: str
    label: str
    style: str
    text_label: str | None = None
    """The textarea's label when the action takes text (return reason, comment)."""
    text_required: bool = False


def parse_actor_key(key: str) -> tuple[ChannelName, str, str]:
    """``channel:tenant:user_id`` -> its parts (the user id may contain colons)."""
    channel, tenant, user_id = key.split(":", 2)
    return cast(ChannelName, channel), tenant, user_id


class ConsolePages:
    """The data behind each page; templates only lay it out."""

    def __init__(
        self, desk: ReviewDesk, *, titles: Mapping[str, str], flows: Mapping[str, Any]
    ) -> None:
        self.desk = desk
        self.store: ReviewStore = desk.store
        self.titles = titles
        self.flows = flows

    # --- who ---------------------------------------------------------------------------

    def actor(self, key: str) -> Actor:
        channel, tenant, user_id = parse_actor_key(key)
        return dataclasses.replace(self.store.actor(channel, tenant, user_id), via="web")

    def home_path(self, actor: Actor) -> str:
        return "/console/queue" if actor.role == "reviewer" else "/console/mine"

    def _attempt(self, actor: Actor, action: AccessAction, run: Any, **kwargs: Any) -> Any:
        attempt = self.desk.gate.attempt(actor, action, run, **kwargs)
        if not attempt.ok:
            raise PageError(403, attempt.message)
        return attempt.result

    # --- レビュー一覧 --------------------------------------------------------------------

    def queue_query(self, params: Mapping[str, str]) -> QueueQuery:
        statuses = tuple(
            s for s in params.get("status", "").split(",") if s in STATUS_VALUES
        )
        week = None
        if params.get("week"):
            try:
                week = IsoWeek.parse(params["week"], self.desk.zone)
            except WeekFormatError as error:
                raise PageError(400, str(error)) from error
        band = params.get("cost") if params.get("cost") in COST_BAND_KEYS else None
        sort = params.get("sort") if params.get("sort") in SORTS else "waiting"
        flow = params.get("flow") if params.get("flow") in self.flows else None
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        department = (params.get("department") or "").strip()[:200] or None
        return QueueQuery(
            statuses=statuses, department=department, week=week, cost_band=band,
            flow=flow, sort=cast(str, sort), page=page,
        )

    def queue(self, actor: Actor, query: QueueQuery) -> dict[str, Any]:
        """One page of the sheets the actor may list (audited as ``list``)."""

        def run(decision: Decision) -> dict[str, Any]:
            assert decision.scope is not None
            with self.store.database.session() as session:
                page = queue_page(session, decision.scope, query)
            return {"page": page, "sheets": self.store.sheets_by_id(page.ids)}

        found = self._attempt(actor, "list", run, target="sheets", detail=query.detail())
        now = self.desk.now()
        rows = [self._row(sheet, now) for sheet in found["sheets"]]
        page = found["page"]
        return {
            "rows": rows,
            "columns": [label for label, _ in rows[0]["summary"].rows] if rows else [],
            "page": page,
            "query": page.query,
            "departments": page.departments,
            "statuses": STATUS_CHOICES,
            "sorts": SORTS,
            "cost_bands": COST_BAND_KEYS,
            "flows": {key: getattr(flow, "title", key) for key, flow in self.flows.items()},
            "link": lambda **change: queue_link(page.query, **change),
        }

    def _row(self, sheet: ConsultationSheet, now: datetime) -> dict[str, Any]:
        waited = waiting_days(sheet.submitted_at, sheet.status, now)
        return {
            "sheet": sheet,
            "summary": summary_part(sheet, self.desk.zone),
            "status_label": status_label(sheet.status),
            "waiting": waited,
            "overdue": waited is not None and waited > WAITING_HIGHLIGHT_DAYS,
        }

    # --- 相談シート -----------------------------------------------------------------------

    def sheet(self, actor: Actor, key: str) -> dict[str, Any]:
        """The sheet in full, its timeline and the actions the actor may take (audited)."""
        try:
            detail = self.desk.show(actor, key)
        except ReviewRefused as refusal:
            raise PageError(404, refusal.message) from refusal
        sheet = detail.sheet
        timeline: list[dict[str, Any]] = []
        for step in detail.history:
            timeline.append({
                "at": step.at, "kind": "transition",
                "title": f"{status_label(step.from_status)} → {status_label(step.to_status)}",
                "who": self._who(step.actor_id), "text": "",
            })
        for comment in detail.comments:
            timeline.append({
                "at": comment.created_at, "kind": comment.kind,
                "title": COMMENT_KIND_LABELS.get(comment.kind, "コメント"),
                "who": comment.author, "text": comment.text,
            })
        timeline.sort(key=lambda item: item["at"])
        now = self.desk.now()
        return {
            "sheet": sheet,
            "status_label": status_label(sheet.status),
            "summary": summary_part(sheet, self.desk.zone),
            "content": content_parts(self.store, sheet.id, self.titles),
            "timeline": timeline,
            "memos": detail.memos,
            "actions": self.actions(actor, sheet),
            "waiting": waiting_days(sheet.submitted_at, sheet.status, now),
            "link": sheet_link(sheet.reference, sheet_address(sheet)),
        }

    def _who(self, actor_id: str | None) -> str:
        if not actor_id:
            return ""
        try:
            channel, tenant, user_id = parse_actor_key(actor_id)
        except ValueError:
            return actor_id
        person = self.store.actor(channel, tenant, user_id)
        return person.display_name or user_id

    @staticmethod
    def actions(actor: Actor, sheet: ConsultationSheet) -> list[ActionForm]:
        """The review buttons of the sheet's status that the policy allows ``actor``."""
        choices: Choices | None = review_choices(sheet)
        forms: list[ActionForm] = []
        for choice in choices.options if choices else ():
            known = ACTIONS.get(choice.action.kind)
            if known is None:
                continue
            verb, action, target = known
            if not decide(actor, action, sheet, target_status=target).allowed:
                continue
            text_label = None
            if verb == "return":
                text_label = return_form(sheet.id).fields[0].label
            elif verb == "comment":
                text_label = comment_form(sheet.id).fields[0].label
            forms.append(ActionForm(
                verb=verb, label=choice.label, style=choice.style, text_label=text_label,
                text_required=text_label is not None,
            ))
        return forms

    def act(self, actor: Actor, key: str, verb: str, text: str) -> tuple[str, Notification]:
        """Do one review action through the desk (one audit row).

        Returns:
            The sheet's 整理番号 and what became of telling the requester.
        """
        sheet = self.store.sheet(key.strip())
        try:
            if verb == "comment":
                return self.desk.comment(actor, key, text).sheet.reference, "none"
            outcome: ReviewOutcome | None = None
            if verb == "start":
                outcome = self.desk.start_review(actor, key)
            elif verb == "return":
                outcome = self.desk.return_sheet(actor, key, text)
            elif verb == "accept":
                outcome = self.desk.accept(actor, key, text or None)
            elif verb == "close":
                outcome = self.desk.close(actor, key)
            if outcome is not None:
                return outcome.sheet.reference, outcome.notification
        except ReviewRefused as refusal:
            raise PageError(self._refusal_status(actor, sheet, verb), refusal.message) from refusal
        raise PageError(404, "このページはありません。")

    @staticmethod
    def _refusal_status(actor: Actor, sheet: ConsultationSheet | None, verb: str) -> int:
        """404 for a sheet the actor may not see (never says it exists), 403 for an action
        the policy refuses, 409 for one the sheet's status or input did not allow."""
        if sheet is None or not decide(actor, "view", sheet).allowed:
            return 404
        for action, target in (
            (a, t) for (v, a, t) in ACTIONS.values() if v == verb
        ):
            if not decide(actor, action, sheet, target_status=target).allowed:
                return 403
        return 409

    # --- 週次ダイジェスト -----------------------------------------------------------------

    def week(self, text: str | None) -> IsoWeek:
        if not text:
            return IsoWeek.containing(self.desk.now(), self.desk.zone)
        try:
            return IsoWeek.parse(text, self.desk.zone)
        except WeekFormatError as error:
            raise PageError(400, str(error)) from error

    def digest(self, actor: Actor, week: IsoWeek) -> dict[str, Any]:
        """The digest of ``week`` with its charts (reviewers; audited as ``digest``)."""
        now = self.desk.now()

        def run(decision: Decision) -> dict[str, Any]:
            assert decision.scope is not None
            tenant = decision.scope.tenant
            digest = compile_digest(self.store, week, tenant, now)
            return {"digest": digest, "trend": self._trend(tenant, week)}

        found = self._attempt(actor, "digest", run, target=f"digest:{week}")
        digest: Digest = found["digest"]
        return {
            "digest": digest,
            "week": week,
            "previous": week.previous(),
            "next": IsoWeek.containing(week.end() + timedelta(days=1), week.zone),
            "charts": _charts(digest, found["trend"]),
            "formats": [f for f in ("xlsx", "csv", "md") if f in DIGEST_FORMATS],
        }

    def _trend(self, tenant: str, week: IsoWeek) -> list[tuple[str, int]]:
        weeks = [week]
        for _ in range(TREND_WEEKS - 1):
            weeks.insert(0, weeks[0].previous())
        questions = self.store.questions(
            tenant=tenant, since=weeks[0].start(), before=week.end()
        )
        return [
            (f"W{w.week:02d}", sum(1 for q in questions if q.unanswered and w.contains(q.asked_at)))
            for w in weeks
        ]

    def digest_file(self, actor: Actor, week: IsoWeek, fmt: str) -> bytes:
        if fmt not in ("xlsx", "csv", "md"):
            raise PageError(404, "この形式ではダウンロードできません。")
        now = self.desk.now()

        def run(decision: Decision) -> bytes:
            assert decision.scope is not None
            return render_digest(
                compile_digest(self.store, week, decision.scope.tenant, now), fmt
            )

        data: bytes = self._attempt(
            actor, "digest", run, target=f"digest:{week}", detail={"format": fmt}
        )
        return data

    # --- 回答できなかった質問 ---------------------------------------------------------------

    def unanswered(self, actor: Actor, week: IsoWeek) -> dict[str, Any]:
        """Unanswered questions and answers rated 👎 in ``week`` (reviewers; audited)."""

        def run(decision: Decision) -> dict[str, Any]:
            assert decision.scope is not None
            tenant = decision.scope.tenant
            start, end = week.start(), week.end()
            with self.store.database.session() as session:
                unanswered = session.exec(
                    select(Message.text, func.count())
                    .where(
                        col(Message.tenant) == tenant, unanswered_questions(),
                        col(Message.created_at) >= start, col(Message.created_at) < end,
                    )
                    .group_by(col(Message.text))
                    .order_by(func.count().desc(), col(Message.text))
                    .limit(200)
                ).all()
                answer = Message.__table__.alias("answer")  # type: ignore[attr-defined]
                question = Message.__table__.alias("question")  # type: ignore[attr-defined]
                disliked = session.execute(
                    select(question.c.text, func.count())
                    .select_from(Feedback)
                    .join(answer, answer.c.id == Feedback.answer_id)
                    .join(question, question.c.id == answer.c.in_reply_to)
                    .where(
                        col(Feedback.value) == FeedbackValue.DOWN,
                        answer.c.tenant == tenant,
                        col(Feedback.updated_at) >= start, col(Feedback.updated_at) < end,
                    )
                    .group_by(question.c.text)
                    .order_by(func.count().desc(), question.c.text)
                    .limit(200)
                ).all()
            return {
                "unanswered": [(mask_personal_data(t), n) for t, n in unanswered],
                "disliked": [(mask_personal_data(t), n) for t, n in disliked],
            }

        found = self._attempt(actor, "digest", run, target=f"unanswered:{week}")
        return {**found, "week": week, "previous": week.previous(),
                "next": IsoWeek.containing(week.end() + timedelta(days=1), week.zone)}

    # --- 自分の相談 ------------------------------------------------------------------------

    def mine(self, actor: Actor, page: int) -> dict[str, Any]:
        """The sheets the viewer requested, with return reasons (audited as ``list``)."""
        query = QueueQuery(sort="created", page=page, requester=(actor.channel, actor.user_id))

        def run(decision: Decision) -> dict[str, Any]:
            assert decision.scope is not None
            with self.store.database.session() as session:
                found = queue_page(session, decision.scope, query)
            return {"page": found, "sheets": self.store.sheets_by_id(found.ids)}

        found = self._attempt(actor, "list", run, target="sheets", detail=query.detail())
        rows = []
        for sheet in found["sheets"]:
            reasons = []
            if sheet.status == SheetStatus.RETURNED.value:
                reasons = [c for c in self.store.comments(sheet.id) if c.kind == "return"]
            rows.append({
                "sheet": sheet,
                "summary": summary_part(sheet, self.desk.zone),
                "status_label": status_label(sheet.status),
                "reason": reasons[-1] if reasons else None,
                "continue": _continue_hint(sheet),
            })
        return {"rows": rows, "page": found["page"]}


STATUS_VALUES = tuple(status.value for status in SheetStatus)
STATUS_CHOICES = [(status.value, label) for status, label in STATUS_LABELS.items()]


def queue_link(query: QueueQuery, **change: Any) -> str:
    """The queue URL for ``query`` with some filters changed (page back to 1 unless given)."""
    values: dict[str, Any] = {
        "status": ",".join(query.statuses), "department": query.department or "",
        "week": str(query.week) if query.week else "", "cost": query.cost_band or "",
        "flow": query.flow or "", "sort": query.sort, "page": 1,
    }
    values.update(change)
    return "/console/queue?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _continue_hint(sheet: ConsultationSheet) -> dict[str, str | None]:
    """Where the requester continues the consultation."""
    link = sheet_link(sheet.reference, sheet_address(sheet))
    channel = sheet.channel
    if channel == "slack":
        return {"url": link.url, "text": "Slack の相談スレッドを開く"}
    if channel == "teams":
        return {"url": link.url, "text": "Teams の会話を開く"}
    return {"url": None, "text": "端末のチャット（soudan chat）で「続きから」と入力してください。"}


def _charts(digest: Digest, trend: list[tuple[str, int]]) -> list[dict[str, Any]]:
    total = len({s.sheet_id for s in (*digest.new, *digest.submitted, *digest.returned,
                                      *digest.accepted, *digest.still_open)})
    departments = [(d.department, d.total) for d in digest.by_department]
    bands = [(b.label, b.count) for b in digest.cost_bands]
    outcomes = [
        *((group.title, len(group.sheets)) for group in digest.groups),
        ("対象の相談シート", total),
    ]
    waits = [(f"{w.sheet.reference} {w.sheet.department}", w.waiting_days)
             for w in digest.waiting[:10]]
    specs = [
        ("departments", "部署別の相談件数", departments, "件", bar_chart),
        ("cost-bands", "イニシャルコストの価格帯", bands, "件", bar_chart),
        ("outcomes", "判定の結果（フロー定義が週次ダイジェストに挙げるもの）", outcomes, "件", bar_chart),
        ("waits", "7日を超えて待っている相談シート（待ち日数）", waits, "日", bar_chart),
        ("unanswered-trend", f"回答できなかった質問（直近{TREND_WEEKS}週）", trend, "件",
         column_chart),
    ]
    return [
        {"id": chart_id, "title": title, "items": items, "unit": unit,
         "svg": draw(title, items, unit=unit, chart_id=chart_id)}
        for chart_id, title, items, unit, draw in specs
    ]


def local_time(moment: datetime | None, zone: tzinfo = TOKYO) -> str:
    """``2026-11-20 10:00`` in ``zone`` (the ``timezone`` setting; "" for None)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def role_label(actor: Actor) -> str:
    if actor.role is None:
        return "未登録"
    label = ROLE_LABELS.get(actor.role, actor.role)
    if actor.department:
        pending = "（確認待ち）" if actor.department_pending else ""
        return f"{label}・{actor.department}{pending}"
    return label
