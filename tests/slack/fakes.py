"""A small stand-in for the conversation core, for the adapter-only tests.

It applies a delivery once through the inbox's receipt (as the real core does; or
storage's ``claim_inbound`` without one) and answers by a fixed script, so the adapter's own behaviour (ack,
render, post, dedupe path, errors) is tested apart from the core's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from bot.core.assistant import TurnReceipt
from bot.core.messages import (
    Action,
    Choice,
    Choices,
    Citation,
    CitationList,
    FeedbackRequest,
    Form,
    FormField,
    Inbound,
    Part,
    SheetSummary,
    Text,
)
from storage import Database, claim_inbound, get_user_profile, upsert_user_profile


@dataclass
class ScriptedAssistant:
    database: Database
    seen: list[Inbound] = field(default_factory=list)
    fail_with: Exception | None = None
    active_flows: set[str] = field(default_factory=set)
    """Conversations with a consultation running (``"channel:tenant:conversation"``, with
    ``":user"`` for one person's): an unaddressed message (``Inbound.addressed`` False)
    is answered only there, as the real core does."""
    flow_checks: list[str] = field(default_factory=list)
    reopen: Action | None = field(default_factory=lambda: Action("flow.show_form", "s1"))
    """The ``reopen`` action of the confirm form (a click on it shows the form again)."""

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        if self.fail_with is not None:
            self.seen.append(inbound)
            raise self.fail_with
        inbound = self._named(inbound)
        with self.database.session() as session:
            if receipt is not None:
                if not receipt.claim(session):
                    return []
            elif inbound.inbound_id is not None and not claim_inbound(
                    session=session, key=inbound.inbound_id):
                return []
            if not inbound.addressed and not self.has_active_flow(
                    channel=inbound.channel, tenant=inbound.tenant,
                    conversation=inbound.conversation, user_id=inbound.user_id):
                parts = []  # as the core: not for the app, nothing applied or shown
            else:
                self.seen.append(inbound)
                if inbound.user_name:  # as the core: the display name is recorded with the turn
                    upsert_user_profile(session=session, channel=inbound.channel,
                                        tenant=inbound.tenant, user_id=inbound.user_id,
                                        display_name=inbound.user_name)
                parts = self._answer(inbound)
            if receipt is not None:
                receipt.record(session, parts)
            return parts

    def _named(self, inbound: Inbound) -> Inbound:
        """As the core: the recorded display name, or (none recorded) the channel's
        look-up, called outside the transaction."""
        if inbound.find_name is None or inbound.user_name:
            return inbound
        with self.database.session() as session:
            profile = get_user_profile(session=session, channel=inbound.channel,
                                       tenant=inbound.tenant, user_id=inbound.user_id)
        name = profile.display_name if profile is not None else None
        return replace(inbound, user_name=name or inbound.find_name())

    def _answer(self, inbound: Inbound) -> list[Part]:
        if inbound.form is not None:
            return [Text(f"提出しました：{inbound.form.get('business', '')}")]
        form = Form("相談シートの確認", (FormField("business", "業務名", "窓口予約"),),
                    Action("flow.submit", "s1"), reopen=self.reopen)
        if inbound.action is not None and (
                inbound.action.kind == "confirm" or inbound.action == self.reopen):
            return [form]
        if inbound.text == "確認":
            return [Text("内容を確認してください。"), form]
        return [
            Text(f"**回答**：{inbound.text}"),
            Choices("次へ進みますか？", (Choice("はい", Action("confirm", "yes", "s1:q1")),)),
            CitationList((Citation("g.md", "ガイドライン", "【Ⅰ】 > 3. 協議"),)),
            SheetSummary("s1", "R-1", "下書き", (("業務", "窓口予約"),)),
            FeedbackRequest("answer-1"),
        ]

    def has_active_flow(
        self, *, channel: str, tenant: str, conversation: str, user_id: str | None = None
    ) -> bool:
        self.flow_checks.append(conversation)
        return f"{channel}:{tenant}:{conversation}" in self.active_flows or (
            f"{channel}:{tenant}:{conversation}:{user_id}" in self.active_flows
        )

    def home(self, *, channel: str, tenant: str, user_id: str) -> list[Part]:
        return [SheetSummary("s1", "R-1", "下書き", (("利用者", user_id),)),
                Choices("", (Choice("相談を始める", Action("flow.start", "ict_adoption")),))]


@dataclass
class FakeServices:
    assistant: ScriptedAssistant
    database: Database
