"""The conversation core: ``Assistant.handle(inbound) -> list[Part]``.

Routes each turn: a button or a command first; an active flow gets the turn;
otherwise the text is a guideline question. A question asked in the middle of a flow
is answered and the flow's pending step is asked again. No channel SDK is imported
here: Slack, Teams and the terminal all come through :class:`Inbound`.

Example:
    >>> assistant = build_services(Settings()).assistant          # doctest: +SKIP
    >>> parts = assistant.handle(Inbound(channel="terminal", tenant="local",
    ...     conversation="c1", user_id="u1", text="RFIとは何ですか？"))  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Protocol, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, select

import storage
from bot.core import policy
from bot.core.commands import Command, asks_something, looks_like_question, parse_command
from bot.core.consultations import (
    Consultations,
    Where,
    reopen_choice,
    review_comments,
    sheet_summary,
)
from bot.core.limits import DEFAULT_MAX_CHARS, cap_text
from bot.core.messages import (
    ERROR_TEXT,
    Action,
    AttachmentError,
    ChannelName,
    Choice,
    Choices,
    Inbound,
    Part,
    Text,
)
from bot.core.questions import FOLLOW_UP_TURNS, answer_parts
from bot.core.repetition import DEFAULT_WINDOW_SECONDS, RepeatGuard, is_flow_word
from bot.core.spec_drafts import (
    DraftReviewPort,
    ReviewedDraft,
    keep_memo,
    memo_parts,
    refusal_text,
)
from flows import FlowDefinition
from knowledge.types import Answer, QuestionAnswerer
from storage import Database, FeedbackValue, FlowSession, InboundReceipt, MessageDirection

log = logging.getLogger(__name__)
_T = TypeVar("_T")

HELP_TEXT = (
    "soudan の使い方:\n"
    "・ガイドラインについての質問をそのまま入力すると、根拠の条項を添えて回答します。\n"
    "・「相談を始める」: ICT 導入の相談（業務見直し → ICT 活用検討 → DX推進本部での協議の要否 → "
    "RFI の要否）を一問ずつ進め、相談シートを作成して CIO補佐に提出します。\n"
    "・相談の途中: 「戻る」で前の質問へ、「やめる」で中止、後日「続きから」で再開できます。\n"
    "・「相談シート」: 自分の相談シートの一覧を表示します。\n"
    "・CIO補佐向け: 「レビュー」で確認待ちの相談シート、「ダイジェスト」で週次ダイジェスト。\n"
    "・「管理画面」: ブラウザで相談シートやダイジェストを見るためのサインイン用リンクを表示します。"
)
CONFLICT_TEXT = "同じ相談への別の操作と重なりました。お手数ですが、もう一度操作してください。"
NOT_OFFERED_TEXT = "この相談は、ご利用の組織では提供されていません。「相談を始める」で提供中の相談を選べます。"
NO_FLOW_TEXT = "進行中の相談はありません。「相談を始める」で新しく始めるか、「続きから」で再開できます。"
OUTSIDE_TEXT = (
    "申し訳ありません。組織の外から参加している方は、相談シートを利用できません。"
    "ガイドラインについての質問にはお答えします。"
)
"""Refusal for a sender from another organisation when no review desk is wired to decide."""
OTHERS_FLOW_TEXT = (
    "この会話では別の方の相談が進行中のため、操作できません。"
    "ご自身の相談は、別のスレッドか DM で「相談を始める」と送ってください（質問はこのままどうぞ）。"
)


class TurnReceipt(Protocol):
    """Exactly-once bookkeeping of one delivery, kept inside the turn's own transaction.

    The durable inbox (:mod:`bot.core.inbox`) passes one: ``admit`` comes first in the
    turn's transaction (False: the turn is not to be applied here, nothing is written),
    ``claim`` marks its row applied (False: it is applied already, or another worker
    holds it now), ``record`` keeps the reply with the row. All commit with the turn's
    changes or not at all.
    """

    def admit(self, session: Session) -> bool: ...

    def claim(self, session: Session) -> bool: ...

    def record(self, session: Session, parts: list[Part]) -> None: ...


class ReviewPort(Protocol):
    """What the core needs from the CIO補佐 review desk (``bot.review``)."""

    def wants(self, inbound: Inbound) -> bool:
        """Whether the turn is a review command or a ``review.*`` button."""
        ...

    def handle(self, session: Session, inbound: Inbound) -> list[Part]:
        """Answer the turn inside the core's transaction (audit rows included)."""
        ...

    def home(self, session: Session, inbound: Inbound) -> list[Part]:
        """The reviewer's queue for App Home / a personal tab."""
        ...

    def consult_refusal(self, session: Session, inbound: Inbound) -> str | None:
        """Why the sender may not start, resume or list consultations (a sender from
        outside the tenant), audited; ``None`` when they may."""
        ...


class ConsolePort(Protocol):
    """What the core needs from the web console (``bot.web``): a sign-in link."""

    def sign_in(self, session: Session, inbound: Inbound) -> list[Part]:
        """A short-lived, single-use sign-in link for the sender (or why not), audited."""
        ...


class Assistant:
    """The channel-agnostic conversation core."""

    def __init__(
        self,
        *,
        database: Database,
        knowledge: QuestionAnswerer,
        flows: Mapping[str, FlowDefinition],
        titles: Mapping[str, str],
        review: ReviewPort | None = None,
        timezone: str = "Asia/Tokyo",
        today: Callable[[], date] | None = None,
        repeat_reply_seconds: float = DEFAULT_WINDOW_SECONDS,
        clock: Callable[[], datetime] | None = None,
        message_max_chars: int | None = DEFAULT_MAX_CHARS,
        console: ConsolePort | None = None,
        flow_source: Callable[[], Mapping[str, FlowDefinition]] | None = None,
        offered_flows: Callable[[str], Sequence[str] | None] | None = None,
        municipality: str = "",
        drafts: DraftReviewPort | None = None,
    ) -> None:
        """``flow_source``: the flows to run now (``FlowCatalog.current``, which follows
        a change published by another replica); default: ``flows``, fixed.
        ``offered_flows(tenant)``: the flow ids a tenant may start (None: every flow);
        ``Settings.flows_offered_to`` in production. ``municipality``: printed on the
        documents a flow produces (``Settings.municipality``).
        ``drafts``: reviews a draft 仕様書 shared with a message (None: not offered)."""
        self.database = database
        self.drafts = drafts
        self.console = console
        self.offered_flows = offered_flows or (lambda tenant: None)
        self.message_max_chars = message_max_chars
        self.knowledge = knowledge
        self.review = review
        zone = ZoneInfo(timezone)
        self._titles = titles
        self._today = today or (lambda: datetime.now(zone).date())
        self._flow_source = flow_source
        self._zone = zone
        self._municipality = municipality
        self.consultations = Consultations(
            flows, titles, self._today, zone, municipality=municipality
        )
        self.repeats = RepeatGuard(timedelta(seconds=repeat_reply_seconds), clock)

    # --- entry points ---------------------------------------------------------------------

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        """Apply one inbound message and return what to show in its conversation.

        A delivery already applied returns ``[]``: with ``receipt`` (the inbox) when
        its claim fails, otherwise when its ``inbound_id`` has an ``inbound_receipt``.
        Errors never escape: the user gets a Japanese message and the turn is rolled
        back whole (the receipt's claim with it), so a retry can apply it.
        """
        try:
            self._follow_flows()
            return self._handle(inbound, receipt)
        except (storage.StaleSessionError, storage.ActiveSessionExistsError):
            log.info("turn lost a race on channel=%s; asked the user to retry", inbound.channel)
            return [Text(CONFLICT_TEXT)]
        except Exception as error:
            # The exception's message may quote user text or SQL parameters: log its type
            # and where it happened, never its message.
            log.error(
                "turn failed on channel=%s: %s\n%s", inbound.channel, type(error).__name__,
                "".join(traceback.format_tb(error.__traceback__)),
            )
            # A message not addressed to the app may be a bystander's: stay silent.
            return [Text(ERROR_TEXT)] if inbound.addressed else []

    def _follow_flows(self) -> None:
        """Run the flows the source says (another replica may have published new ones)."""
        if self._flow_source is None:
            return
        flows = self._flow_source()
        if flows is not self.consultations.flows:
            self.consultations = Consultations(
                flows, self._titles, self._today, self._zone, municipality=self._municipality
            )

    def has_active_flow(
        self, *, channel: str, tenant: str, conversation: str, user_id: str | None = None
    ) -> bool:
        """Whether a consultation is in progress in this conversation (run by ``user_id``).

        A query for tools and tests; a turn decides this itself (:attr:`Inbound.addressed`).
        """
        with self.database.session() as session:
            active = storage.get_active_flow_session(
                session=session, channel=channel, tenant=tenant, conversation=conversation
            )
        return active is not None and (user_id is None or active.user_id == user_id)

    def home(self, *, channel: str, tenant: str, user_id: str) -> list[Part]:
        """The user's own 相談シート with their status (App Home, personal tab).

        A reviewer (CIO補佐) sees the review queue first.
        """
        with self.database.session() as session:
            parts = self._my_sheets(session, channel=channel, tenant=tenant, user_id=user_id)
            profile = storage.get_user_profile(
                session=session, channel=channel, tenant=tenant, user_id=user_id
            )
            if self.review is not None and profile is not None and (
                profile.role == storage.UserRole.REVIEWER
            ):
                visitor = Inbound(channel=cast(ChannelName, channel), tenant=tenant,
                                  conversation="home", user_id=user_id)
                parts = [*self.review.home(session, visitor), *parts]
            return parts

    # --- one turn ---------------------------------------------------------------------------

    def _handle(self, inbound: Inbound, receipt: TurnReceipt | None) -> list[Part]:
        """The turn in one transaction: route it once, execute, claim the delivery.

        A shared draft 仕様書 is fetched and reviewed first, outside the transaction (the
        download and the review take a while); its memo is kept inside one."""
        if self._is_draft_review(inbound):
            return self._shared_file(inbound, receipt)
        answers = _Answers(self.knowledge)

        def named_turn(session: Session) -> list[Part] | None:
            named = self._named(session, inbound)
            return None if named is None else self._apply(session, named, receipt, answers)

        parts = self._in_turn_transaction(named_turn)
        if parts is not None:
            return parts
        # The sender's first turn (no name recorded): the channel looks the name up
        # outside the transaction, then the turn runs in a new one and records it.
        looked_up = self._looked_up(inbound)
        return self._in_turn_transaction(
            lambda session: self._apply(session, looked_up, receipt, answers)
        )

    def _in_turn_transaction(self, work: Callable[[Session], _T]) -> _T:
        """``work`` in the turn's transaction. On SQLite it begins without the write lock
        and takes it at its first write, so a question waiting for its answer (retrieval,
        an LLM endpoint) holds up no other conversation's turn nor the inbox storing the
        next request. When another writer came first, SQLite refuses that first write:
        everything is rolled back and ``work`` runs again, holding the lock from the
        start (the answers already composed are reused, see :class:`_Answers`)."""
        try:
            with self.database.session(lock_on_write=True) as session:
                return work(session)
        except OperationalError as error:
            if not storage.lost_write_race(error):
                raise
        log.info("a turn met another writer before its first write; applying it again")
        with self.database.session() as session:
            return work(session)

    def _apply(
        self, session: Session, inbound: Inbound, receipt: TurnReceipt | None, answers: _Answers
    ) -> list[Part]:
        """The turn, then the claim of its delivery, its reply kept with the receipt.

        The claim comes last so that nothing is written before a question is answered
        (the first write takes SQLite's write lock); a delivery applied already, or held
        by another worker now, rolls the whole turn back. A receipt that does not admit
        the turn (one applied as it arrives whose conversation has an event waiting)
        gets nothing applied."""
        if receipt is not None and not receipt.admit(session):
            return []
        parts = self._turn(session, inbound, answers)
        if receipt is not None:
            claimed = receipt.claim(session)
        else:
            claimed = not inbound.inbound_id or storage.claim_inbound(
                session=session, key=f"{inbound.channel}:{inbound.tenant}:{inbound.inbound_id}"
            )
        if not claimed:
            session.rollback()
            return []
        if receipt is not None:
            receipt.record(session, parts)
        return parts

    def _named(self, session: Session, inbound: Inbound) -> Inbound | None:
        """``inbound`` with the sender's recorded display name when the channel left the
        name to the core (:attr:`Inbound.find_name`); ``None`` when none is recorded yet
        (:meth:`_looked_up` asks the channel). An administrator's profile without a name
        counts as none recorded."""
        if inbound.find_name is None or inbound.user_name:
            return inbound
        profile = storage.get_user_profile(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            user_id=inbound.user_id,
        )
        if profile is None or not profile.display_name:
            return None
        return replace(inbound, user_name=profile.display_name)

    def _looked_up(self, inbound: Inbound) -> Inbound:
        """``inbound`` with the name the channel looks up (outside any transaction); a
        failed look-up never blocks the turn."""
        assert inbound.find_name is not None
        try:
            name = inbound.find_name()
        except Exception as error:
            log.warning("display name look-up failed on channel=%s: %s", inbound.channel,
                        type(error).__name__)
            name = None
        return replace(inbound, user_name=name)

    # --- a shared file: a draft 仕様書 to review -------------------------------------------

    def _is_draft_review(self, inbound: Inbound) -> bool:
        """Whether the turn is a shared file to review: a file alone, or a file of a type a
        draft may have. A screenshot sent with a question is the question (the file is
        left aside), so nothing changes for people who attach images to what they ask."""
        attachment = inbound.attachment
        if attachment is None or inbound.action is not None:
            return False
        if not (inbound.text or "").strip():
            return True
        return self.drafts is not None and self.drafts.refusal(attachment.name, 1) is None

    def _shared_file(self, inbound: Inbound, receipt: TurnReceipt | None) -> list[Part]:
        """Review the file shared with the message (outside the write transaction: the
        download and the review take a while), then keep the memo on the conversation's
        相談シート inside it. A file in a thread that did not address the app is taken only
        from the person running the consultation there, as any message."""
        key = (
            f"{inbound.channel}:{inbound.tenant}:{inbound.inbound_id}"
            if inbound.inbound_id and receipt is None
            else None
        )
        with self.database.session() as session:
            if not inbound.addressed and not self._consulting_here(session, inbound):
                return []
            if key is not None and session.get(InboundReceipt, key) is not None:
                return []
            named = self._named(session, inbound)
        inbound = named if named is not None else self._looked_up(inbound)
        reviewed = self._review_file(inbound)
        with self.database.session() as session:
            if receipt is not None and not receipt.claim(session):
                return []
            if key is not None and not storage.claim_inbound(session=session, key=key):
                return []
            self._remember_user(session, inbound)
            if isinstance(reviewed, ReviewedDraft):
                parts = self._keep_memo(session, inbound, reviewed)
            else:
                parts = reviewed
            active = self.consultations.active(session, Where.of(inbound))
            mine = active if active is not None and active.user_id == inbound.user_id else None
            parts = self._then_continue(session, parts, mine)
            if receipt is not None:
                receipt.record(session, parts)
            return parts

    def _review_file(self, inbound: Inbound) -> ReviewedDraft | list[Part]:
        """The review of the shared file, or the Japanese refusal (type and size are
        refused before a byte is downloaded)."""
        attachment = inbound.attachment
        assert attachment is not None
        name = attachment.name.replace("\\", "/").rsplit("/", 1)[-1] or "ファイル"
        if self.drafts is None:
            return [Text("仕様書（案）のレビューはこの環境では有効になっていません。")]
        # Size unknown (Teams): the type is checked now, the size while downloading.
        size = attachment.size if attachment.size is not None else 1
        reason = self.drafts.refusal(name, size)
        if reason is not None:
            log.info("shared file refused before download on channel=%s", inbound.channel)
            return [Text(refusal_text(name, reason))]
        if attachment.fetch is None:
            return [Text(refusal_text(name, "ファイルを取得できませんでした。もう一度共有してください。"))]
        try:
            data = attachment.fetch(self.drafts.max_bytes)
        except AttachmentError as error:
            log.info("shared file not fetched on channel=%s", inbound.channel)
            return [Text(refusal_text(name, error.reason))]
        result = self.drafts.review(name, data)
        if isinstance(result, str):
            return [Text(refusal_text(name, result))]
        return result

    def _keep_memo(self, session: Session, inbound: Inbound, reviewed: ReviewedDraft) -> list[Part]:
        """Save the memo on the conversation's 相談シート when there is one and the sender
        is its requester or a CIO補佐; the memo parts either way."""
        sheet = storage.spec_memos.sheet_of_conversation(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            conversation=inbound.conversation,
        )
        if sheet is not None:
            sender = policy.actor_in(session, inbound.channel, inbound.tenant, inbound.user_id)
            if not policy.decide(sender, "spec_memo", policy.Sheet.of(sheet)).allowed:
                sheet = None  # the memo is shown, not kept
        if sheet is None:
            return memo_parts(reviewed, sheet_reference=None)
        keep_memo(
            session, sheet_id=sheet.id, reviewed=reviewed,
            actor=storage.actor_key(inbound.channel, inbound.tenant, inbound.user_id),
            tenant=inbound.tenant,
        )
        return memo_parts(reviewed, sheet_reference=sheet.reference)

    def _turn(self, session: Session, inbound: Inbound, answers: _Answers) -> list[Part]:
        """Route the turn, on text cut to ``message_max_chars`` (and the reply says so).

        A message that did not address the app (:attr:`Inbound.addressed` False) is a
        turn only for the person running the consultation in its conversation; for
        anyone else nothing is applied, recorded or shown.
        """
        if not inbound.addressed and not self._consulting_here(session, inbound):
            return []
        self._remember_user(session, inbound)
        capped, cut = cap_text(inbound, self.message_max_chars)
        parts = self._route(session, capped, answers)
        return [*parts, cut] if cut is not None and parts else parts

    def _consulting_here(self, session: Session, inbound: Inbound) -> bool:
        """Whether the sender runs the consultation in progress in this conversation."""
        active = self.consultations.active(session, Where.of(inbound))
        return active is not None and active.user_id == inbound.user_id

    def _route(self, session: Session, inbound: Inbound, answers: _Answers) -> list[Part]:
        """The one decision of a turn, taken inside its transaction, and its execution.

        In order: a review command or ``review.*`` button; another button; a typed
        command; an answer to the sender's consultation in another thread; a stale
        flow word; the sender's consultation step; otherwise a guideline question
        (answered mid-consultation, whose pending step is then asked again).
        """
        text = (inbound.text or "").strip()
        command = parse_command(text) if inbound.action is None else None
        if self._for_review(inbound, command):
            return self._review(session, inbound)
        if inbound.action is not None:
            return self._on_action(session, inbound, inbound.action)
        if not text:
            return [Text("メッセージが空です。質問を入力するか「ヘルプ」と入力してください。")]
        where = Where.of(inbound)
        consultations = self.consultations
        active = consultations.active(session, where)
        mine = active if active is not None and active.user_id == inbound.user_id else None
        someone_elses = active is not None and mine is None
        if command in (Command.START, Command.RESUME, Command.SHEETS):
            refused = self._outside(session, inbound)
            if refused:
                return refused
        if command in (Command.START, Command.RESUME) and someone_elses:
            return [Text(OTHERS_FLOW_TEXT)]
        if command is Command.START:
            offered = self.offered_flows(inbound.tenant)
            if offered is not None and len(offered) != 1 and mine is None:
                return self._flow_menu(offered)
            started = consultations.start(
                session, where, **({"flow_id": offered[0]} if offered else {})
            )
            return self.repeats.reply(session, inbound, started) if mine else started
        if command is Command.RESUME:
            return consultations.resume(session, where)
        if command in (Command.HELP, Command.SHEETS):
            parts: list[Part] = [Text(HELP_TEXT)] if command is Command.HELP else self._my_sheets(
                session, channel=inbound.channel, tenant=inbound.tenant, user_id=inbound.user_id
            )
            return self._then_continue(session, parts, mine)
        if command is Command.CONSOLE:
            if self.console is None:
                return [Text("管理画面はこの環境では有効になっていません。")]
            return self._then_continue(session, self.console.sign_in(session, inbound), mine)
        if command is None and active is None:
            elsewhere = self._answered_elsewhere(session, inbound, text)
            if elsewhere is not None:
                return self._answer_in_its_thread(session, elsewhere)
        if mine is None and is_flow_word(text):
            # 「確定」「戻る」「はい」… after the consultation moved on: a short note, once
            # per quiet window, never recorded as a question.
            notice = Text(OTHERS_FLOW_TEXT if someone_elses else NO_FLOW_TEXT)
            return self.repeats.reply(session, inbound, [notice])
        if command is Command.CANCEL and mine is not None:
            return consultations.cancel(session, mine)
        if mine is not None and (command is not None or not self._is_question_mid_flow(mine, text)):
            self._record_inbound(session, inbound, flow_session_id=mine.id)
            return consultations.answer(session, mine, inbound)
        # Retrieval runs inside the turn's transaction: the route is decided once, on
        # the state the turn applies to. Nothing is written before it (on SQLite the
        # write lock is taken after it, see _in_turn_transaction).
        answer = answers.answer(text, self._recent_questions(session, inbound))
        parts = self._question(
            session, inbound, answer, flow_session_id=mine.id if mine else None
        )
        if mine is not None:
            consultations.record_question(session, mine, text, answer.answered)
        return self._then_continue(session, parts, mine)

    def _for_review(self, inbound: Inbound, command: Command | None) -> bool:
        """Whether the review desk answers the turn (or says it is not enabled here)."""
        if self.review is not None:
            return self.review.wants(inbound)
        if inbound.action is not None:
            return inbound.action.kind.startswith("review.")
        return command in (Command.REVIEW, Command.DIGEST)

    def _answer_in_its_thread(self, session: Session, flow_session_id: str) -> list[Part]:
        flow_session = storage.get_flow_session(session=session, flow_session_id=flow_session_id)
        sheet = (
            storage.get_sheet(session=session, sheet_id=flow_session.sheet_id)
            if flow_session is not None and flow_session.sheet_id
            else None
        )
        name = f"（相談シート {sheet.reference}）" if sheet is not None else ""
        return [
            Text(f"進行中の相談{name}への回答のようです。相談のスレッドで回答するか、"
                 "「ここで続ける」を押して、この会話で続けてください（まだ記録していません）。"),
            Choices("", (Choice("ここで続ける", Action("flow.resume")),)),
        ]

    def _answered_elsewhere(self, session: Session, inbound: Inbound, text: str) -> str | None:
        """The user's consultation in another thread whose pending question ``text`` answers.

        Typical in a Slack DM: the answer is typed at the top level instead of in the
        consultation's thread. Only steps with a checkable answer (amount, yes/no, date,
        choice) count: free text would match anything.
        """
        found = storage.find_resumable_flow_session(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            user_id=inbound.user_id,
        )
        if found is None or found.conversation == inbound.conversation:
            return None
        kind = self.consultations.pending_kind(found)
        if kind in (None, "text", "confirm") or looks_like_question(text):
            return None
        return found.id if self.consultations.would_accept(found, text) else None

    def _is_question_mid_flow(self, active: FlowSession, text: str) -> bool:
        kind = self.consultations.pending_kind(active)
        if kind is None:
            return False
        if kind == "text":
            return looks_like_question(text, strict=True)
        if self.consultations.would_accept(active, text):
            return False
        # A hedge (「わからない」「まだちゃんとは」) is re-asked with help by the step itself.
        return asks_something(text)

    def _recent_questions(self, session: Session, inbound: Inbound) -> tuple[str, ...]:
        messages = storage.list_messages(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            conversation=inbound.conversation, limit=FOLLOW_UP_TURNS * 2,
        )
        questions = [m.text for m in messages if m.question]
        return tuple(questions[-FOLLOW_UP_TURNS:])

    def _then_continue(
        self, session: Session, parts: list[Part], mine: FlowSession | None
    ) -> list[Part]:
        """After an aside (a question, ヘルプ) in a consultation, ask its pending step again."""
        if mine is None:
            return parts
        return [*parts, Text("―― 相談の続きです ――"), *self.consultations.reprompt(session, mine)]

    def _on_action(self, session: Session, inbound: Inbound, action: Action) -> list[Part]:
        where = Where.of(inbound)
        consultations = self.consultations
        if action.kind == "feedback":
            return self._feedback(session, inbound, action)
        if action.kind.startswith("flow."):
            refused = self._outside(session, inbound)
            if refused:
                return refused
        active = consultations.active(session, where)
        others = active is not None and active.user_id != inbound.user_id
        if others and action.kind.startswith("flow."):
            # Someone else's consultation in this thread: never drive it for them.
            return [Text(OTHERS_FLOW_TEXT)]
        if action.kind == "flow.start" and not self._offers(
            inbound.tenant, action.value or self.consultations.entry_flow
        ):
            return [Text(NOT_OFFERED_TEXT)]
        if action.kind == "flow.start":
            parts = consultations.start(
                session, where, flow_id=action.value or None,
                business=(inbound.text or "").strip() or None, parent_sheet_id=action.ref,
            )
            return self.repeats.reply(session, inbound, parts) if active is not None else parts
        if action.kind == "flow.resume":
            return consultations.resume(session, where)
        if action.kind == "flow.reopen":
            return consultations.reopen(session, where, sheet_id=action.value)
        if action.kind in ("flow.answer", "flow.back", "flow.cancel", "flow.submit",
                           "flow.edit_field"):
            if active is not None and action.kind == "flow.answer" and _other_session(
                action, active.id
            ):
                # An earlier consultation's button: say so and ask the pending step again.
                stale = consultations.answer(session, active, inbound)
                return self.repeats.reply(session, inbound, stale)
            if active is None or _other_session(action, active.id):
                return self.repeats.reply(session, inbound, [
                    Text("⚠️ この相談はすでに終了しているか、別の会話で進行中です。"),
                    Choices("", (Choice("続きから再開する", Action("flow.resume")),)),
                ])
            if action.kind == "flow.cancel":
                return consultations.cancel(session, active)
            if action.kind == "flow.submit":
                return consultations.submit_form(session, active, inbound)
            if action.kind == "flow.edit_field":
                return consultations.edit_field(session, active, inbound)
            return consultations.answer(session, active, inbound)
        return [Text("このボタンは現在使えません。「ヘルプ」で使い方を確認できます。")]

    # --- pieces ------------------------------------------------------------------------------

    def _question(
        self,
        session: Session,
        inbound: Inbound,
        answer: Answer,
        *,
        flow_session_id: str | None,
    ) -> list[Part]:
        question = storage.record_message(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            conversation=inbound.conversation, direction=MessageDirection.INBOUND,
            text=inbound.text or "", user_id=inbound.user_id, question=True,
            answered=answer.answered, flow_session_id=flow_session_id,
        )
        reply = storage.record_message(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            conversation=inbound.conversation, direction=MessageDirection.OUTBOUND,
            text=answer.text, in_reply_to=question.id, flow_session_id=flow_session_id,
        )
        return answer_parts(answer, answer_id=reply.id)

    def _record_inbound(self, session: Session, inbound: Inbound, *, flow_session_id: str) -> None:
        storage.record_message(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            conversation=inbound.conversation, direction=MessageDirection.INBOUND,
            text=inbound.text or "", user_id=inbound.user_id, flow_session_id=flow_session_id,
        )

    def _feedback(self, session: Session, inbound: Inbound, action: Action) -> list[Part]:
        if action.value not in ("up", "down") or not action.ref:
            return [Text("⚠️ フィードバックを受け付けられませんでした。")]
        exists = session.exec(select(storage.Message).where(storage.Message.id == action.ref))
        if exists.first() is None:
            return [Text("⚠️ 対象の回答が見つかりませんでした。")]
        storage.record_feedback(
            session=session, answer_id=action.ref, user_id=inbound.user_id,
            value=FeedbackValue(action.value),
        )
        if action.value == "up":
            return [Text("フィードバックありがとうございます。")]
        return [Text("フィードバックありがとうございます。改善に役立てます。"
                     "詳しい相談は「相談を始める」から CIO補佐へお寄せください。")]

    def _outside(self, session: Session, inbound: Inbound) -> list[Part]:
        """The refusal for a sender from another organisation who may not consult; [].

        Asked only when the channel reports the sender's own organisation
        (:attr:`Inbound.home_tenant`); the review desk's policy decides, and audits.
        Without a review desk such a sender is refused.
        """
        if inbound.home_tenant is None:
            return []
        if self.review is None:
            return [Text(OUTSIDE_TEXT)]
        reason = self.review.consult_refusal(session, inbound)
        return [Text(reason)] if reason else []

    def _review(self, session: Session, inbound: Inbound) -> list[Part]:
        if self.review is None:
            return [Text("レビュー機能はこの環境では有効になっていません。")]
        return self.review.handle(session, inbound)

    def _offers(self, tenant: str, flow_id: str) -> bool:
        offered = self.offered_flows(tenant)
        return offered is None or flow_id in offered

    def _flow_menu(self, offered: Sequence[str]) -> list[Part]:
        """The consultations this tenant offers, as buttons (``SOUDAN_TENANT_FLOWS``)."""
        if not offered:
            return [Text(NOT_OFFERED_TEXT)]
        flows = self.consultations.flows
        choices = tuple(
            Choice(flows[flow_id].title if flow_id in flows else flow_id,
                   Action("flow.start", flow_id))
            for flow_id in offered
        )
        return [Text("どの相談を始めますか？"), Choices("", choices)]

    def _my_sheets(
        self, session: Session, *, channel: str, tenant: str, user_id: str
    ) -> list[Part]:
        me = policy.Actor(cast(ChannelName, channel), tenant, user_id)
        scope = policy.decide(me, "list_own").scope
        assert scope is not None  # anyone may list the sheets they requested
        sheets = storage.list_sheets(
            session=session, tenant=scope.tenant, requester_id=user_id, limit=20
        )
        sheets = [s for s in sheets if scope.includes(policy.Sheet.of(s))]
        policy.write_audit(session, me, "sheet.list_own", detail={"count": len(sheets)})
        offered = self.offered_flows(tenant)
        first = offered[0] if offered else self.consultations.entry_flow
        start = Choices("", (Choice("相談を始める", Action("flow.start", first)),))
        if not sheets:
            return [Text("あなたの相談シートはまだありません。"), start]
        parts: list[Part] = [Text(f"あなたの相談シート（新しい順に {len(sheets)} 件）")]
        for sheet in sheets:
            parts.append(sheet_summary(sheet))
            if sheet.status == storage.SheetStatus.RETURNED:
                parts.extend(review_comments(session, sheet.id))
                parts.append(Choices("", (reopen_choice(sheet.id),)))
        return [*parts, start]

    def _remember_user(self, session: Session, inbound: Inbound) -> None:
        """Cache the display name once (and again only when it changes)."""
        if not inbound.user_name:
            return
        profile = storage.get_user_profile(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            user_id=inbound.user_id,
        )
        if profile is None or profile.display_name != inbound.user_name:
            storage.upsert_user_profile(
                session=session, channel=inbound.channel, tenant=inbound.tenant,
                user_id=inbound.user_id, display_name=inbound.user_name,
            )


class _Answers:
    """The knowledge's answers within one turn, kept by question and history: a turn
    run again after SQLite refused its write lock reuses the answer it composed instead
    of composing it again (while holding the lock)."""

    def __init__(self, knowledge: QuestionAnswerer) -> None:
        self._knowledge = knowledge
        self._kept: dict[tuple[str, tuple[str, ...]], Answer] = {}

    def answer(self, question: str, history: tuple[str, ...]) -> Answer:
        key = (question, history)
        if key not in self._kept:
            self._kept[key] = self._knowledge.answer(question, history=history)
        return self._kept[key]


def _other_session(action: Action, session_id: str) -> bool:
    """Whether a consultation button belongs to another consultation than ``session_id``.

    ``flow.answer`` and ``flow.edit_field`` carry ``"<session id>:<step id>"`` in ``ref``;
    the other buttons carry the session id in ``value`` (empty on old buttons: taken as
    this one).
    """
    if action.kind in ("flow.answer", "flow.edit_field"):
        owner = (action.ref or "").partition(":")[0]
        return bool(owner) and owner != session_id
    return action.value not in ("", session_id)
