"""Guided consultations: flow sessions driven by the engine, saved as 相談シート.

Every method runs inside the caller's database session (one transaction per turn),
so a turn is applied completely or not at all: a process killed mid-turn leaves the
flow at the step it was on, and a retried delivery is applied once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlmodel import Session, select

import storage
from bot.core.commands import looks_like_question, parse_command
from bot.core.documents import DOCUMENTS
from bot.core.flow_view import FlowView
from bot.core.messages import Action, Choice, Choices, Inbound, Part, SheetSummary, Text
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
from storage import (
    ConsultationSheet,
    ConsultationSheetCreate,
    ConsultationSheetUpdate,
    FlowSession,
    FlowStatus,
    SheetStatus,
)

DEFAULT_FLOW = "ict_adoption"

# Flow slots that are also columns of the 相談シート.
_SHEET_TEXT_FIELDS = ("business", "current_problem", "envisaged_ict", "concerns")
_SHEET_MONEY_FIELDS = ("initial_cost", "running_cost")

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


class Consultations:
    """Starts, advances, resumes and submits guided consultations."""

    def __init__(
        self,
        flows: Mapping[str, FlowDefinition],
        titles: Mapping[str, str],
        today: Callable[[], date],
    ) -> None:
        self.flows = flows
        self.engines = {flow_id: FlowEngine(d) for flow_id, d in flows.items()}
        self.views = {flow_id: FlowView(d, titles) for flow_id, d in flows.items()}
        self.today = today

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
        flow_id: str = DEFAULT_FLOW,
        business: str | None = None,
        parent_sheet_id: str | None = None,
    ) -> list[Part]:
        """Start ``flow_id`` in this conversation (or re-ask the one already running).

        Args:
            business: Answer for the first question (the business), e.g. from a message
                shortcut.
            parent_sheet_id: The 相談シート this flow continues (the ``rfi`` flow after an
                ICT-adoption consultation); its business is the first answer.
        """
        running = self.active(session, where)
        if running is not None:
            return [Text("この会話ではすでに相談が進行中です。続きの質問です。"),
                    *self.reprompt(session, running)]
        if flow_id not in self.engines:
            return [Text(f"「{flow_id}」という相談フローはありません。")]
        profile = storage.get_user_profile(
            session=session, channel=where.channel, tenant=where.tenant, user_id=where.user_id
        )
        department = profile.department if profile is not None else None
        parent = (
            storage.get_sheet(session=session, sheet_id=parent_sheet_id)
            if parent_sheet_id
            else None
        )
        if parent is not None and parent.requester_id == where.user_id:
            business = business or parent.business or None
        else:
            parent = None
        engine = self.engines[flow_id]
        turn = engine.start(today=self.today())
        sheet = storage.create_sheet(
            session=session,
            sheet_in=ConsultationSheetCreate(
                channel=where.channel, tenant=where.tenant, conversation=where.conversation,
                requester_id=where.user_id, requester_name=where.user_name,
                department=department, flow_id=flow_id, business=business or "",
            ),
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
        intro = Text(
            f"ICT 活用の相談を始めます（相談シート {sheet.reference}）。"
            "途中で「戻る」「やめる」、後日「続きから」で再開できます。"
            "途中でガイドラインについて質問することもできます。"
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
        if (
            sheet is None
            or sheet.requester_id != where.user_id
            or sheet.tenant != where.tenant
            or sheet.channel != where.channel
        ):
            return [Text("⚠️ この相談シートは修正できません（ご自身が提出したシートだけが対象です）。")]
        if sheet.status != SheetStatus.RETURNED:
            label = storage.status_label(sheet.status)
            return [Text(f"相談シート {sheet.reference} は「{label}」のため修正できません。"
                         "差し戻されたシートだけを修正・再提出できます。")]
        flow_session = session.exec(
            select(FlowSession).where(FlowSession.sheet_id == sheet.id)
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

    def submit_form(
        self, session: Session, flow_session: FlowSession, inbound: Inbound
    ) -> list[Part]:
        """The confirm form: apply edited fields, then submit if nothing new is asked."""
        engine = self.engines[flow_session.flow_id]
        state = self._state(flow_session)
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
        turn = engine.step(state, FlowInput(choice="submit", today=self.today()))
        return [*notices, *self._advance(session, flow_session, turn, where=where)]

    def cancel(self, session: Session, flow_session: FlowSession) -> list[Part]:
        storage.save_flow_session(
            session=session, flow_session_id=flow_session.id,
            expected_version=flow_session.version, status=FlowStatus.CANCELLED,
        )
        sheet = self._sheet(session, flow_session)
        kept = f"（相談シート {sheet.reference} は提出されていません）" if sheet else ""
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
            storage.record_audit(
                session=session, actor=storage.actor_key(inbound.channel, inbound.tenant, inbound.user_id),
                action="user.set_department", result=storage.AuditResult.ALLOWED,
                tenant=inbound.tenant,
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
        resubmitted = sheet.status == SheetStatus.RETURNED
        sheet = storage.transition_sheet(
            session=session, sheet_id=sheet.id, to_status=SheetStatus.SUBMITTED,
            actor_id=where.user_id, actor_name=where.user_name,
        )
        if sheet.conversation != where.conversation:
            # The review result goes to the conversation where the sheet was submitted.
            sheet.conversation = where.conversation
            session.add(sheet)
            session.flush()
        storage.record_audit(
            session=session, actor=storage.actor_key(where.channel, where.tenant, where.user_id),
            action="sheet.resubmit" if resubmitted else "sheet.submit",
            result=storage.AuditResult.ALLOWED, target=sheet.id, tenant=where.tenant,
        )
        view = self.views[flow_session.flow_id]
        completed = next((o for o in turn.outputs if isinstance(o, Completed)), None)
        decisions: tuple[Decision, ...] = completed.decisions if completed else ()
        next_actions = [Choice("新しい相談を始める", Action("flow.start", DEFAULT_FLOW))]
        if sheet.outcomes.get("rfi_recommended") and "rfi" in self.engines:
            next_actions.insert(
                0, Choice("RFI で確認する事項を整理する", Action("flow.start", "rfi", sheet.id))
            )
        return [
            Text(f"相談シート {sheet.reference} を CIO補佐に提出しました。"
                 "確認結果はこの会話でお知らせします。"),
            sheet_summary(sheet, rows=completed.rows if completed else ()),
            *view.decisions(decisions),
            *self._documents(session, flow_session, sheet),
            Choices("", tuple(next_actions)),
        ]

    def _documents(
        self, session: Session, flow_session: FlowSession, sheet: ConsultationSheet
    ) -> list[Part]:
        """The document the finished flow produces, if its flow has one."""
        if flow_session.flow_id not in DOCUMENTS:
            return []
        name, build = DOCUMENTS[flow_session.flow_id]
        body = render_markdown(build(session, sheet, self.today()))
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
        """Copy the answers on the current path and the outcomes onto the draft sheet."""
        sheet = self._sheet(session, flow_session)
        if sheet is None or sheet.status not in storage.EDITABLE_STATUSES:
            return sheet
        update = sheet_content(self.engines[flow_session.flow_id], state)
        return storage.update_sheet(
            session=session, sheet_id=sheet.id, sheet_in=ConsultationSheetUpdate(**update)
        )

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


def sheet_content(engine: FlowEngine, state: FlowState) -> dict[str, Any]:
    """The 相談シート columns a flow state fills: answers on the path, outcomes, decisions."""
    slots = engine.effective_slots(state)
    content: dict[str, Any] = {
        "slots": slots,
        "outcomes": engine.outcome_values(state),
        "decisions": [decision_record(d) for d in engine.outcomes(state)],
    }
    for name in _SHEET_TEXT_FIELDS:
        content[name] = str(slots[name]) if name in slots else None
    content["business"] = content["business"] or str(slots.get("rfi_business") or "")
    for name in _SHEET_MONEY_FIELDS:
        content[name] = int(slots[name]) if name in slots else None
    if "personal_information" in slots:
        content["personal_info"] = "あり" if slots["personal_information"] else "なし"
    return content


def decision_record(decision: Decision) -> dict[str, Any]:
    """A decision as stored on the sheet (JSON)."""
    return {
        "name": decision.name,
        "label": decision.label,
        "kind": decision.kind,
        "value": decision.value,
        "statement": decision.statement,
        "cites": [cite.to_dict() for cite in decision.cites],
    }


def sheet_summary(
    sheet: ConsultationSheet, *, rows: tuple[tuple[str, str], ...] | None = None
) -> SheetSummary:
    """相談シート at a glance (the flow's rows when given, else the main columns)."""
    if rows is None or not rows:
        rows = tuple(
            (label, value)
            for label, value in (
                ("所管課", sheet.department or "未設定"),
                ("対象業務", sheet.business or "（未記入）"),
                ("想定している ICT", sheet.envisaged_ict or "（未記入）"),
                ("イニシャルコスト", yen(sheet.initial_cost)),
                ("ランニングコスト（年額）", yen(sheet.running_cost)),
            )
        )
    return SheetSummary(
        sheet_id=sheet.id,
        reference=sheet.reference,
        status=storage.status_label(sheet.status),
        rows=(("所管課", sheet.department or "未設定"), *rows)
        if rows and rows[0][0] != "所管課"
        else rows,
    )
