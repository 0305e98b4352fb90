"""Guided consultations: flow sessions driven by the engine, saved as 相談シート.

Every method runs inside the caller's database session (one transaction per turn),
so a turn is applied completely or not at all: a process killed mid-turn leaves the
flow at the step it was on, and a retried delivery is applied once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, tzinfo
from typing import cast

from sqlmodel import Session, select

import storage
from bot.core import policy
from bot.core.commands import looks_like_question, parse_command
from bot.core.documents import DocumentContext, sheet_document
from bot.core.flow_view import FlowView
from bot.core.messages import (
    FIELD_PICK_INPUT,
    Action,
    ChannelName,
    Choice,
    Choices,
    Inbound,
    Part,
    SheetSummary,
    Text,
)
from flows import (
    Completed,
    Decision,
    FlowDefinition,
    FlowEngine,
    FlowInput,
    FlowState,
    Notice,
    Turn,
)
from flows.answer_reading import short_yen as yen
from flows.parsing.yes_no import parse_yes_no
from flows.rfi_document import render_markdown
from flows.sheet_section import follow_ups, sheet_section
from storage import (
    ConsultationSheet,
    ConsultationSheetCreate,
    ConsultationSheetUpdate,
    FlowSession,
    FlowStatus,
    SheetStatus,
)
from storage.sheet_view import COMMENT_KIND_LABELS
from storage.sheets import REFERENCE_TIMEZONE

RESULT_NOTICE_DEFAULT = "確認結果はこの会話でお知らせします。"
RESULT_NOTICE = {
    "terminal": "確認結果は「相談シート」と送ると確認できます（差し戻しの理由やコメントも表示されます）。",
}
"""Where the requester will read the review result, by channel."""

ASK_DEPARTMENT = "はじめに、所属課（所管課）を教えてください。（例: 市民課）"
PENDING_NOTE = (
    "所属課の相談シートを閲覧できるようになるのは、管理者（情報政策課）の確認後です"
    "（それまではご自身の相談シートだけを表示します）。"
)


@dataclass(frozen=True)
class Where:
    """The conversation a turn belongs to."""

    channel: str
    tenant: str
    conversation: str
    user_id: str
    user_name: str | None

    @classmethod
    def of(cls, inbound: Inbound) -> Where:
        return cls(
            inbound.channel, inbound.tenant, inbound.conversation, inbound.user_id,
            inbound.user_name,
        )

    @property
    def actor(self) -> policy.Actor:
        """The sender, as the policy and the audit name them."""
        return policy.Actor(cast(ChannelName, self.channel), self.tenant, self.user_id)


class Consultations:
    """Starts, advances, resumes and submits guided consultations."""

    def __init__(
        self,
        flows: Mapping[str, FlowDefinition],
        titles: Mapping[str, str],
        today: Callable[[], date],
        zone: tzinfo = REFERENCE_TIMEZONE,
        municipality: str = "",
    ) -> None:
        self.flows = flows
        self.zone = zone
        self.municipality = municipality
        self.titles = titles
        self.engines = {flow_id: FlowEngine(d) for flow_id, d in flows.items()}
        self.views = {flow_id: FlowView(d, titles) for flow_id, d in flows.items()}
        self.today = today

    @property
    def entry_flow(self) -> str:
        """The flow 「相談を始める」 starts: the one whose file says ``sheet.entry: true``.

        Without one, the first flow that no other flow lists as a follow-up.
        """
        marked = [f.id for f in self.flows.values() if f.sheet.entry]
        if marked:
            return marked[0]
        followed = {u.flow_id for f in self.flows.values() for u in f.sheet.follow_ups}
        return next((i for i in sorted(self.flows) if i not in followed), next(iter(self.flows), ""))

    # --- lookups -----------------------------------------------------------------------

    def active(self, session: Session, where: Where) -> FlowSession | None:
        return storage.get_active_flow_session(
            session=session, channel=where.channel, tenant=where.tenant,
            conversation=where.conversation,
        )

    def would_accept(self, flow_session: FlowSession, text: str) -> bool:
        """Whether ``text`` is a valid answer to the pending step (no side effects)."""
        if flow_session.state.get("awaiting_department"):
            return True
        engine = self.engines.get(flow_session.flow_id)
        if engine is None:
            return False
        turn = engine.step(self._state(flow_session), FlowInput(text=text, today=self.today()))
        return turn.accepted

    def pending_kind(self, flow_session: FlowSession) -> str | None:
        """The kind of the pending step (``text``, ``money`` …), or None."""
        engine = self.engines.get(flow_session.flow_id)
        if engine is None or flow_session.state.get("awaiting_department"):
            return None
        state = self._state(flow_session)
        if state.current is None or not engine.definition.has_step(state.current):
            return None
        return str(engine.definition.step(state.current).kind)

    # --- starting ---------------------------------------------------------------------------

    def start(
        self,
        session: Session,
        where: Where,
        *,
        flow_id: str | None = None,
        business: str | None = None,
        parent_sheet_id: str | None = None,
    ) -> list[Part]:
        """Start ``flow_id`` (default: :attr:`entry_flow`) here, or re-ask the one running.

        Args:
            business: Answer for the first question (the business), e.g. from a message
                shortcut.
            parent_sheet_id: The 相談シート this flow continues (a follow-up flow such as
                RFI after an ICT-adoption consultation): its answers go on that same
                sheet, as a section of their own.
        """
        flow_id = flow_id or self.entry_flow
        running = self.active(session, where)
        if running is not None:
            return [Text("この会話ではすでに相談が進行中です。続きの質問です。"),
                    *self.reprompt(session, running)]
        if flow_id not in self.engines:
            return [Text("その相談の種類は見つかりませんでした。「相談を始める」で始めてください。")]
        profile = storage.get_user_profile(
            session=session, channel=where.channel, tenant=where.tenant, user_id=where.user_id
        )
        department = profile.department if profile is not None else None
        parent = (
            storage.get_sheet(session=session, sheet_id=parent_sheet_id)
            if parent_sheet_id
            else None
        )
        if parent is not None and not policy.decide(
            where.actor, "follow_up", policy.Sheet.of(parent)
        ).allowed:
            parent = None  # not theirs, or it takes no follow-up: a sheet of its own
        engine = self.engines[flow_id]
        definition = engine.definition
        turn = engine.start(today=self.today())
        if parent is not None:
            sheet = parent
            business = business or parent.business or None
            department = department or parent.department
            intro = Text(
                f"相談シート {sheet.reference} の続きとして「{definition.title}」を始めます。"
                "途中で「戻る」「やめる」、後日「続きから」で再開できます。"
            )
        else:
            sheet = storage.create_sheet(
                session=session,
                sheet_in=ConsultationSheetCreate(
                    channel=where.channel, tenant=where.tenant, conversation=where.conversation,
                    requester_id=where.user_id, requester_name=where.user_name,
                    department=department, flow_id=flow_id, business=business or "",
                ),
                zone=self.zone,
            )
            intro = Text(
                f"「{definition.title}」の相談を始めます（相談シート {sheet.reference}）。"
                "途中で「戻る」「やめる」、後日「続きから」で再開できます。"
                "途中でガイドラインについて質問することもできます。"
            )
        flow_session = storage.start_flow_session(
            session=session, channel=where.channel, tenant=where.tenant,
            conversation=where.conversation, user_id=where.user_id, flow_id=flow_id,
            state={
                "flow": turn.state.to_dict(),
                "awaiting_department": not department,
                "parent_sheet_id": parent.id if parent is not None else None,
            },
            sheet_id=sheet.id,
        )
        if not department:
            return [intro, Text(ASK_DEPARTMENT)]
        if business:
            turn = engine.step(turn.state, FlowInput(text=business, today=self.today()))
            return [intro, *self._advance(session, flow_session, turn, where=where)]
        return [intro, *self._render(flow_session, turn, sheet)]

    def resume(self, session: Session, where: Where) -> list[Part]:
        """「続きから」: the user's latest unfinished consultation, moved to this conversation."""
        found = storage.find_resumable_flow_session(
            session=session, channel=where.channel, tenant=where.tenant, user_id=where.user_id
        )
        if found is None:
            return [Text("再開できる相談はありません。「相談を始める」で新しく始められます。")]
        if found.conversation != where.conversation:
            here = self.active(session, where)
            if here is not None and here.id != found.id:
                return self.reprompt(session, here)
            found = storage.save_flow_session(
                session=session, flow_session_id=found.id, expected_version=found.version,
                conversation=where.conversation, status=FlowStatus.ACTIVE,
            )
        sheet = self._sheet(session, found)
        reference = f"（相談シート {sheet.reference}）" if sheet else ""
        return [Text(f"前回の続きから再開します{reference}。"), *self.reprompt(session, found)]

    def reopen(self, session: Session, where: Where, *, sheet_id: str) -> list[Part]:
        """Reopen a 相談シート the CIO補佐 returned, at its confirm step, to fix and resubmit."""
        sheet = storage.get_sheet(session=session, sheet_id=sheet_id)
        decision = policy.decide(
            where.actor, "reopen", policy.Sheet.of(sheet) if sheet is not None else None
        )
        if sheet is None or not decision.allowed:
            return [Text(decision.reason)]
        flow_session = session.exec(
            # The sheet's own flow (a follow-up such as RFI has a session of its own).
            select(FlowSession).where(
                FlowSession.sheet_id == sheet.id, FlowSession.flow_id == sheet.flow_id
            )
        ).first()
        if flow_session is None or flow_session.flow_id not in self.engines:
            return [Text("⚠️ この相談シートの回答記録が見つからないため、チャットでは修正できません。")]
        here = self.active(session, where)
        if here is not None and here.id != flow_session.id:
            return [Text("この会話では別の相談が進行中です。「やめる」で終えてから、もう一度押してください。")]
        state = self._state(flow_session)
        if state.done and state.history:
            state = replace(state, done=False, current=state.history[-1], history=state.history[:-1])
        flow_session = storage.save_flow_session(
            session=session, flow_session_id=flow_session.id,
            expected_version=flow_session.version, status=FlowStatus.ACTIVE,
            conversation=where.conversation,
            state={**flow_session.state, "flow": state.to_dict()},
        )
        return [Text(f"差し戻された相談シート {sheet.reference} を修正します。"
                     "内容を直して、もう一度確定すると再提出されます。"),
                *review_comments(session, sheet.id),
                *self.reprompt(session, flow_session)]

    def reprompt(self, session: Session, flow_session: FlowSession) -> list[Part]:
        """Show the pending step again (after resume or a question asked mid-flow)."""
        if flow_session.state.get("awaiting_department"):
            return [Text(ASK_DEPARTMENT)]
        engine = self.engines[flow_session.flow_id]
        state = self._state(flow_session)
        turn = Turn(state, engine.prompt(state))
        return self._render(flow_session, turn, self._sheet(session, flow_session))

    # --- answering --------------------------------------------------------------------------

    def answer(self, session: Session, flow_session: FlowSession, inbound: Inbound) -> list[Part]:
        """Apply typed text or a button press to the pending step."""
        if flow_session.state.get("awaiting_department"):
            return self._take_department(session, flow_session, inbound)
        engine = self.engines[flow_session.flow_id]
        state = self._state(flow_session)
        action = inbound.action
        if action is not None and action.kind == "flow.answer":
            session_id, _, step_id = (action.ref or "").partition(":")
            if session_id != flow_session.id:
                return [Text("⚠️ 以前の相談のボタンです。今の質問に答えてください。"),
                        *self.reprompt(session, flow_session)]
            flow_input = FlowInput(choice=action.value, step_id=step_id, today=self.today())
        elif action is not None and action.kind == "flow.back":
            flow_input = FlowInput(command="back")
        else:
            flow_input = FlowInput(text=inbound.text or "", today=self.today())
        turn = engine.step(state, flow_input)
        if not turn.accepted:
            return self._render(flow_session, turn, self._sheet(session, flow_session))
        return self._advance(session, flow_session, turn, where=Where.of(inbound))

    def edit_field(
        self, session: Session, flow_session: FlowSession, inbound: Inbound
    ) -> list[Part]:
        """The field picked at the confirm step: a form holding only that field.

        Its submit goes through :meth:`submit_form`, so an edit that changes a decision
        shows the new decision and asks again. A pick from an earlier view, or of a
        field that is not on the sheet any more, shows the confirm view again.
        """
        engine = self.engines[flow_session.flow_id]
        state = self._state(flow_session)
        action = inbound.action
        session_id, _, step_id = ((action.ref if action else None) or "").partition(":")
        name = (action.value if action else "") or (inbound.form or {}).get(FIELD_PICK_INPUT, "")
        fields = {f.name: f for f in FlowView.editable_fields_of(engine.answer_fields(state))}
        pending = engine.definition.step(state.current).kind if state.current else None
        if session_id != flow_session.id or pending != "confirm" or state.current != step_id:
            return [Text("⚠️ 以前の確認画面の項目です。今の画面から選んでください。"),
                    *self.reprompt(session, flow_session)]
        if name not in fields:
            return [Text("⚠️ 修正する項目を選んでください。"),
                    *self.reprompt(session, flow_session)]
        return [FlowView.field_form(fields[name], session_id=session_id, step_id=step_id)]

    def submit_form(
        self, session: Session, flow_session: FlowSession, inbound: Inbound
    ) -> list[Part]:
        """The confirm form: apply edited fields, then submit if nothing new is asked.

        An edit that changes a decision is not submitted: the confirm view comes back
        with the new decisions, to be confirmed again.
        """
        engine = self.engines[flow_session.flow_id]
        state = self._state(flow_session)
        decided = engine.outcome_values(state)
        notices: list[Part] = []
        problems: list[Part] = []
        shown = {f.slot: f.value for f in engine.answer_fields(state)}
        for name, value in (inbound.form or {}).items():
            if name not in shown or shown[name] == value or not value.strip():
                continue
            try:
                turn = engine.set_answer(state, name, value, today=self.today())
            except KeyError:
                continue  # a field this flow does not have: ignore it, keep the rest
            changes = Turn(state, [o for o in turn.outputs if isinstance(o, Notice)])
            (notices if turn.accepted else problems).extend(
                self._render(flow_session, changes, None)
            )
            if turn.accepted:
                state = turn.state
        where = Where.of(inbound)
        pending_kind = engine.definition.step(state.current).kind if state.current else None
        if problems or pending_kind != "confirm":
            # Keep the edits that were readable; show what to fix with the form again.
            turn = Turn(state, engine.prompt(state))
            return [*problems, *notices, *self._advance(session, flow_session, turn, where=where)]
        if engine.outcome_values(state) != decided:
            # Confirm means confirm: the user saw other decisions than those now stored.
            turn = Turn(state, engine.prompt(state))
            again = Text("判断結果が変わったため、まだ提出していません。"
                         "新しい判断結果を確認して、よろしければもう一度確定してください。")
            return [*notices, again, *self._advance(session, flow_session, turn, where=where)]
        turn = engine.step(state, FlowInput(choice="submit", today=self.today()))
        return [*notices, *self._advance(session, flow_session, turn, where=where)]

    def cancel(self, session: Session, flow_session: FlowSession) -> list[Part]:
        """「やめる」: end the flow; a draft sheet it started becomes 取消 (out of the counts)."""
        storage.save_flow_session(
            session=session, flow_session_id=flow_session.id,
            expected_version=flow_session.version, status=FlowStatus.CANCELLED,
        )
        sheet = self._sheet(session, flow_session)
        if sheet is None:
            return [Text("相談をやめました。「相談を始める」でいつでも新しく始められます。")]
        if sheet.flow_id == flow_session.flow_id and sheet.status == SheetStatus.DRAFT:
            storage.transition_sheet(
                session=session, sheet_id=sheet.id, to_status=SheetStatus.CANCELLED,
                actor_id=storage.actor_key(
                    flow_session.channel, flow_session.tenant, flow_session.user_id
                ),
            )
            kept = f"（相談シート {sheet.reference} は取り消しました）"
        elif sheet.status == SheetStatus.RETURNED:
            kept = f"（相談シート {sheet.reference} は差し戻しのままです。「修正して再提出する」で再開できます）"
        else:
            kept = f"（相談シート {sheet.reference} はそのままです）"
        return [Text(f"相談をやめました{kept}。「相談を始める」でいつでも新しく始められます。")]

    def record_question(
        self, session: Session, flow_session: FlowSession, question: str, answered: bool
    ) -> None:
        """Keep a question asked during the consultation on its sheet."""
        sheet = self._sheet(session, flow_session)
        if sheet is None or sheet.status not in storage.EDITABLE_STATUSES:
            return
        questions = [*sheet.questions, {"text": question, "answered": answered}]
        storage.update_sheet(
            session=session, sheet_id=sheet.id,
            sheet_in=ConsultationSheetUpdate(questions=questions),
        )

    # --- internals -----------------------------------------------------------------------------

    def _take_department(
        self, session: Session, flow_session: FlowSession, inbound: Inbound
    ) -> list[Part]:
        profile = storage.get_user_profile(
            session=session, channel=inbound.channel, tenant=inbound.tenant,
            user_id=inbound.user_id,
        )
        department = profile.department if profile is not None and profile.department else None
        if department is None:
            typed = unicodedata.normalize("NFKC", inbound.text or "").strip()
            problem = department_problem(typed)
            if problem:
                return [Text(f"⚠️ {problem}"), Text(ASK_DEPARTMENT)]
            department = typed
            # Self-declared: recorded as pending; it opens no department's sheets
            # until an administrator confirms it.
            storage.assign_department(
                session=session, channel=inbound.channel, tenant=inbound.tenant,
                user_id=inbound.user_id, department=department, confirmed_by=None,
            )
            policy.write_audit(
                session, Where.of(inbound).actor, "user.set_department",
                detail={"department": department, "via": "chat", "status": "pending"},
            )
            registered = Text(f"所属課を「{department}」として登録しました。{PENDING_NOTE}")
        else:
            registered = Text(f"所属課を「{department}」として登録しました。")
        if flow_session.sheet_id:
            storage.update_sheet(
                session=session, sheet_id=flow_session.sheet_id,
                sheet_in=ConsultationSheetUpdate(department=department),
            )
        state = {**flow_session.state, "awaiting_department": False}
        flow_session = storage.save_flow_session(
            session=session, flow_session_id=flow_session.id,
            expected_version=flow_session.version, state=state,
        )
        sheet = self._sheet(session, flow_session)
        engine = self.engines[flow_session.flow_id]
        flow_state = self._state(flow_session)
        if sheet is not None and sheet.business and flow_state.current == engine.definition.start:
            turn = engine.step(flow_state, FlowInput(text=sheet.business, today=self.today()))
            return [registered, *self._advance(session, flow_session, turn, where=Where.of(inbound))]
        turn = Turn(flow_state, engine.prompt(flow_state))
        return [registered, *self._render(flow_session, turn, sheet)]

    def _advance(
        self, session: Session, flow_session: FlowSession, turn: Turn, *, where: Where
    ) -> list[Part]:
        flow_session = self._save(session, flow_session, turn)
        sheet = self._sync_sheet(session, flow_session, turn.state)
        if not turn.state.done:
            return self._render(flow_session, turn, sheet)
        return self._submitted(session, flow_session, turn, sheet, where)

    def _submitted(
        self,
        session: Session,
        flow_session: FlowSession,
        turn: Turn,
        sheet: ConsultationSheet | None,
        where: Where,
    ) -> list[Part]:
        storage.save_flow_session(
            session=session, flow_session_id=flow_session.id,
            expected_version=flow_session.version, status=FlowStatus.COMPLETED,
        )
        if sheet is None:
            return self._render(flow_session, turn, None)
        view = self.views[flow_session.flow_id]
        definition = self.flows[flow_session.flow_id]
        completed = next((o for o in turn.outputs if isinstance(o, Completed)), None)
        decisions: tuple[Decision, ...] = completed.decisions if completed else ()
        follow_up = sheet.flow_id != flow_session.flow_id
        if follow_up and sheet.status not in storage.EDITABLE_STATUSES:
            # A follow-up adds its section to a sheet the CIO補佐 already has.
            policy.write_audit(session, where.actor, "sheet.add_section", target=sheet.id)
            done = Text(f"相談シート {sheet.reference} に「{definition.title}」の内容を追記しました。"
                        "CIO補佐も同じ相談シートで確認できます。")
        else:
            resubmitted = sheet.status == SheetStatus.RETURNED
            sheet = storage.transition_sheet(
                session=session, sheet_id=sheet.id, to_status=SheetStatus.SUBMITTED,
                actor_id=where.user_id, actor_name=where.user_name,
            )
            policy.write_audit(
                session, where.actor, "sheet.resubmit" if resubmitted else "sheet.submit",
                target=sheet.id,
            )
            done = Text(f"相談シート {sheet.reference} を CIO補佐に提出しました。"
                        + RESULT_NOTICE.get(where.channel, RESULT_NOTICE_DEFAULT))
        if sheet.conversation != where.conversation:
            # The review result goes to the conversation where the sheet was submitted.
            sheet.conversation = where.conversation
            session.add(sheet)
            session.flush()
        section = next(
            (s for s in sheet.sections if s.get("flow") == flow_session.flow_id), {}
        )
        next_actions = [
            Choice(label, Action("flow.start", flow_id, sheet.id))
            for flow_id, label in follow_ups(definition, section)
            if flow_id in self.engines
        ]
        next_actions.append(Choice("新しい相談を始める", Action("flow.start", self.entry_flow)))
        return [
            done,
            sheet_summary(sheet, rows=completed.rows if completed else ()),
            *view.decisions(decisions),
            *self._documents(session, sheet),
            Choices("", tuple(next_actions)),
        ]

    def _documents(self, session: Session, sheet: ConsultationSheet) -> list[Part]:
        """The document the finished flow produces, if its flow file names one."""
        found = sheet_document(sheet)
        if found is None:
            return []
        name, build = found
        context = DocumentContext(self.today(), self.flows, self.municipality)
        body = render_markdown(build(session, sheet, context))
        return [Text(f"{name}を作成しました（Word 形式は `soudan flow document "
                     f"{sheet.reference} --out ファイル.docx`）。\n\n{body}")]

    def _render(
        self, flow_session: FlowSession, turn: Turn, sheet: ConsultationSheet | None
    ) -> list[Part]:
        view = self.views[flow_session.flow_id]
        ref = (
            (sheet.id, sheet.reference, storage.status_label(sheet.status))
            if sheet is not None
            else ("", "（未採番）", "下書き")
        )
        return view.render(turn.outputs, session_id=flow_session.id, sheet=ref)

    def _save(self, session: Session, flow_session: FlowSession, turn: Turn) -> FlowSession:
        state = {**flow_session.state, "flow": turn.state.to_dict()}
        return storage.save_flow_session(
            session=session, flow_session_id=flow_session.id,
            expected_version=flow_session.version, state=state,
        )

    def _sync_sheet(
        self, session: Session, flow_session: FlowSession, state: FlowState
    ) -> ConsultationSheet | None:
        """Store the answers on the current path and the outcomes as the flow's section."""
        sheet = self._sheet(session, flow_session)
        if sheet is None:
            return None
        own = sheet.flow_id == flow_session.flow_id
        allowed = storage.EDITABLE_STATUSES if own else storage.FOLLOW_UP_STATUSES
        if sheet.status not in allowed:
            return sheet
        section = sheet_section(self.engines[flow_session.flow_id], state, self.titles)
        return storage.put_sheet_section(session=session, sheet_id=sheet.id, section=section)

    def _sheet(self, session: Session, flow_session: FlowSession) -> ConsultationSheet | None:
        if not flow_session.sheet_id:
            return None
        return storage.get_sheet(session=session, sheet_id=flow_session.sheet_id)

    @staticmethod
    def _state(flow_session: FlowSession) -> FlowState:
        return FlowState.from_dict(flow_session.state["flow"])


def department_problem(typed: str) -> str | None:
    """Why ``typed`` cannot be a department name (Japanese), or None when it can."""
    if not typed:
        return "所属課の名前を入力してください。"
    if len(typed) > 60 or "\n" in typed:
        return "所属課の名前だけを 60 文字以内で入力してください。"
    if len(typed) < 2 or not any(char.isalpha() for char in typed):
        return f"「{typed}」は所属課の名前として登録できません。課の名前を入力してください。"
    if parse_command(typed) is not None or parse_yes_no(typed) is not None:
        return f"「{typed}」は所属課の名前として登録できません。"
    if looks_like_question(typed):
        return "先に所属課を教えてください。質問はその後で受け付けます。"
    return None


def reopen_choice(sheet_id: str) -> Choice:
    """The button that reopens a returned 相談シート for fixing and resubmitting."""
    return Choice("修正して再提出する", Action("flow.reopen", sheet_id), "primary")


def review_comments(session: Session, sheet_id: str) -> list[Part]:
    """The CIO補佐's comments and return reasons on a sheet, for its requester."""
    comments = storage.list_sheet_comments(session=session, sheet_id=sheet_id)
    if not comments:
        return []
    lines = [f"- {COMMENT_KIND_LABELS.get(str(c.kind), 'コメント')}: {c.text}" for c in comments]
    return [Text("CIO補佐からのコメント\n" + "\n".join(lines))]


def sheet_summary(
    sheet: ConsultationSheet, *, rows: tuple[tuple[str, str], ...] | None = None
) -> SheetSummary:
    """相談シート at a glance (the flow's rows when given, else its subject and decisions)."""
    if rows is None or not rows:
        content = storage.sheet_content(sheet.sections)
        lines = [("対象業務", sheet.business or "（未記入）")]
        if sheet.initial_cost is not None:
            lines.append(("イニシャルコスト", yen(sheet.initial_cost)))
        lines.extend((d.label, d.value_label) for d in content.headline)
        rows = tuple(lines)
    return SheetSummary(
        sheet_id=sheet.id,
        reference=sheet.reference,
        status=storage.status_label(sheet.status),
        rows=(("所管課", sheet.department or "未設定"), *rows)
        if rows and rows[0][0] != "所管課"
        else rows,
    )
