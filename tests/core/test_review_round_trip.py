"""A sheet goes to the CIO補佐 and back: review in chat, notice, fix, resubmit."""

from __future__ import annotations

import threading
from collections.abc import Callable

import storage
from bot.core.messages import Action, Address, Choices, Notifier, Part, Text
from bot.wiring import Services
from tests.core.conversation import Conversation, render


class CollectingNotifier(Notifier):
    """The terminal channel's notifier in tests: keeps what it was asked to post."""

    channel = "terminal"

    def __init__(self) -> None:
        self.posts: list[tuple[Address, list[Part]]] = []
        self.arrived = threading.Event()

    def deliver(self, address: Address, parts: list[Part]) -> None:
        self.posts.append((address, parts))
        self.arrived.set()


def submit_small_consultation(talk: Conversation) -> None:
    talk.say("相談を始める")
    talk.say("市民課")
    talk.say("窓口予約")
    talk.say("電話が多い")
    talk.click("はい")
    talk.say("予約システム")
    talk.say("120万円")
    talk.say("なし")
    talk.click("はい")  # track record
    talk.click("はい")  # info sufficient
    talk.click("いいえ")  # concerns
    talk.click("いいえ")  # personal information
    talk.click("この内容で確定する")


def test_return_notifies_the_requester_who_fixes_and_resubmits(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    notifier = CollectingNotifier()
    services.notifiers["terminal"] = notifier
    requester = Conversation(services.assistant, conversation="thread-request")
    submit_small_consultation(requester)
    with services.database.session() as session:
        storage.upsert_user_profile(
            session=session, channel="terminal", tenant=requester.tenant, user_id="U-cio",
            display_name="CIO補佐", role=storage.UserRole.REVIEWER,
        )
    reviewer = Conversation(
        services.assistant, conversation="dm-cio", user_id="U-cio", user_name="CIO補佐"
    )

    reviewer.say("レビュー")
    assert "窓口予約" in reviewer.text
    reviewer.click("開く")
    reviewer.click("確認を開始")
    reviewer.click("差し戻し")
    assert "差し戻しの理由" in reviewer.text
    reviewer.submit_form(comment="ランニングコストの内訳を追記してください")
    assert "差し戻しました" in reviewer.text

    assert notifier.arrived.wait(10), "the requester was not notified"
    address, parts = notifier.posts[0]
    assert (address.channel, address.conversation) == ("terminal", "thread-request")
    assert "ランニングコストの内訳を追記してください" in render(parts)

    # The requester presses the notice's button in their thread, fixes, resubmits.
    requester.last = parts
    requester.click("修正して再提出する")
    assert "差し戻された相談シート" in requester.text
    # The reason is shown where the requester reopens the sheet.
    assert "差し戻し理由: ランニングコストの内訳を追記してください" in requester.text
    requester.submit_form(running_cost="24万円")
    assert "CIO補佐に提出しました" in requester.text
    with services.database.session() as session:
        sheet = storage.list_sheets(session=session)[0]
        history = [t.to_status for t in storage.list_sheet_transitions(session=session,
                                                                        sheet_id=sheet.id)]
        audits = storage.list_audit(session=session, action="sheet.resubmit")
    assert sheet.status == storage.SheetStatus.SUBMITTED
    assert sheet.slots["running_cost"] == 240_000
    assert history == ["submitted", "in_review", "returned", "submitted"]
    assert len(audits) == 1


def test_staff_see_their_sheet_but_get_no_review_buttons(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    staff = Conversation(services.assistant)
    submit_small_consultation(staff)
    staff.say("レビュー")
    staff.click("開く")
    assert "窓口予約" in staff.text
    labels = {c.label for p in staff.last if isinstance(p, Choices) for c in p.options}
    assert not labels & {"確認を開始", "受理", "差し戻し", "完了にする"}
    with services.database.session() as session:
        sheet_id = storage.list_sheets(session=session)[0].id
    staff.send(staff.inbound(action=Action("review.accept", sheet_id)))
    with services.database.session() as session:
        sheet = storage.list_sheets(session=session)[0]
        denied = storage.list_audit(session=session, result=storage.AuditResult.DENIED)
    assert sheet.status == storage.SheetStatus.SUBMITTED
    assert len(denied) == 1
    assert any(isinstance(p, Text) for p in staff.last)
