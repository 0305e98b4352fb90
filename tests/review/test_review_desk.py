"""The review workflow through the desk and chat: transitions, notifications, audit."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.commands import Command, command_words
from bot.core.messages import Action, Choices, Form, Inbound, Notifier, SheetSummary, Text
from bot.review.chat import handle_review_turn, is_review_turn
from bot.review.desk import ReviewDesk
from bot.review.outcomes import ReviewRefused
from bot.review.parts import department_registered
from bot.review.port import ReviewChat
from bot.review.records import Actor
from bot.review.store import ReviewStore
from storage import Database
from storage.audit import count_audit, list_audit
from storage.models import MessageDirection
from storage.transcript import record_message
from tests.review.review_fakes import (
    BackgroundThreads,
    CollectingNotifier,
    DatabaseReadingNotifier,
    FakeClock,
    Seeder,
)

REVIEWER = Actor("slack", "T1", "UR", role="reviewer", display_name="補佐")
STAFF = Actor("slack", "T1", "U1", role="staff", department="市民課")
CREATED = datetime(2026, 11, 17, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 18, 3, 0, tzinfo=UTC))


@pytest.fixture
def slack() -> CollectingNotifier:
    return CollectingNotifier("slack")


@pytest.fixture
def background() -> BackgroundThreads:
    return BackgroundThreads()


@pytest.fixture
def desk(
    database: Database, slack: CollectingNotifier, clock: FakeClock,
    background: BackgroundThreads,
) -> ReviewDesk:
    store = ReviewStore(database)
    for actor in (REVIEWER, STAFF):
        store.save_user(actor.channel, actor.tenant, actor.user_id, role=actor.role,
                        department=actor.department, confirmed_by="cli:local:operator",
                        display_name=actor.display_name)
    return ReviewDesk(store, {"slack": slack}, now=clock, background=background)


def _audit_count(database: Database) -> int:
    with database.session() as session:
        return count_audit(session=session)


def test_return_then_accept_notifies_the_requester_in_their_thread(
    database: Database, desk: ReviewDesk, seeder: Seeder, slack: CollectingNotifier,
    clock: FakeClock,
) -> None:
    sheet = seeder.sheet(created_at=CREATED, conversation="C1:1700000000.000100",
                         moves=[("submitted", CREATED)])
    assert desk.start_review(REVIEWER, sheet.reference).sheet.status == "in_review"

    with pytest.raises(ReviewRefused, match="理由の記入が必要"):
        desk.return_sheet(REVIEWER, sheet.reference, "  ")
    returned = desk.return_sheet(REVIEWER, sheet.reference, "積算根拠を追記してください")
    assert returned.sheet.status == "returned" and returned.notification == "sent"
    address, parts = slack.delivered[0]
    assert (address.channel, address.conversation, address.user_id) == (
        "slack", "C1:1700000000.000100", "U1",
    )
    assert isinstance(parts[0], Text)
    assert "差し戻されました" in parts[0].text and "積算根拠を追記してください" in parts[0].text

    clock.advance(hours=1)
    desk.submit(STAFF, sheet.reference)
    desk.start_review(REVIEWER, sheet.reference)
    accepted = desk.accept(REVIEWER, sheet.reference, "進めてください")
    assert accepted.sheet.status == "accepted"
    assert "受理されました" in slack.delivered[1][1][0].text  # type: ignore[union-attr]
    with pytest.raises(ReviewRefused, match="受理"):
        desk.start_review(REVIEWER, sheet.reference)  # illegal from accepted
    assert desk.close(REVIEWER, sheet.reference).sheet.status == "closed"
    assert len(slack.delivered) == 2  # start/close tell nobody

    detail = desk.show(REVIEWER, sheet.reference)
    assert [(c.kind, c.text) for c in detail.comments] == [
        ("return", "積算根拠を追記してください"), ("accept", "進めてください"),
    ]
    with database.session() as session:
        rows = list_audit(session=session)
    assert [(r.action, r.result.value, r.detail.get("to"), r.detail.get("outcome"))
            for r in rows] == [
        ("review.change_status", "allowed", "in_review", None),
        ("review.change_status", "denied", "returned", "failed"),
        ("review.change_status", "allowed", "returned", None),
        ("review.change_status", "allowed", "submitted", None),
        ("review.change_status", "allowed", "in_review", None),
        ("review.change_status", "allowed", "accepted", None),
        ("review.change_status", "denied", "in_review", "failed"),
        ("review.change_status", "allowed", "closed", None),
        ("review.view", "allowed", None, None),
    ]
    assert rows[0].actor == "slack:T1:UR"


def test_failed_notification_is_reported_not_hidden(database: Database, seeder: Seeder) -> None:
    store = ReviewStore(database)
    notifiers: dict[str, Notifier] = {}
    desk = ReviewDesk(store, notifiers)
    late = CollectingNotifier("slack")
    notifiers["slack"] = late  # a channel mounted after the wiring registers itself
    first, second = (
        seeder.sheet(created_at=CREATED, moves=[("submitted", CREATED), ("in_review", CREATED)])
        for _ in range(2)
    )
    assert desk.accept(REVIEWER, first.reference).notification == "sent"
    assert len(late.delivered) == 1
    notifiers["slack"] = CollectingNotifier("slack", failing=True)
    outcome = desk.accept(REVIEWER, second.reference)
    assert outcome.sheet.status == "accepted" and outcome.notification == "failed"
    assert "通知に失敗" in outcome.notice


def _inbound(actor: Actor, text: str | None = None, action: Action | None = None,
             form: dict[str, str] | None = None) -> Inbound:
    return Inbound(channel=actor.channel, tenant=actor.tenant, conversation="D1",
                   user_id=actor.user_id, text=text, action=action, form=form)


def test_chat_queue_open_and_return_with_form(
    database: Database, desk: ReviewDesk, seeder: Seeder, slack: CollectingNotifier,
) -> None:
    sheet = seeder.sheet(created_at=CREATED, business="窓口予約",
                         moves=[("submitted", CREATED)])
    seeder.sheet(created_at=CREATED, business="下書き中")  # drafts are not in the queue
    inbound = _inbound(REVIEWER, text="/soudan レビュー")
    assert is_review_turn(inbound)
    reviewer = desk.actor_for(inbound)
    assert reviewer.role == "reviewer"
    parts = handle_review_turn(desk, inbound, reviewer)
    assert parts[0] == Text("確認待ちの相談シート（1件）")
    assert isinstance(parts[1], SheetSummary) and parts[1].reference == sheet.reference
    assert isinstance(parts[2], Choices)
    assert parts[2].options[0].action == Action("review.open", sheet.sheet_id)

    opened = handle_review_turn(
        desk, _inbound(REVIEWER, action=Action("review.open", sheet.sheet_id)), reviewer
    )
    buttons = next(p for p in opened if isinstance(p, Choices))
    assert [o.action.kind for o in buttons.options] == ["review.start", "review.comment"]
    handle_review_turn(
        desk, _inbound(REVIEWER, action=Action("review.start", sheet.sheet_id)), reviewer
    )

    form = handle_review_turn(
        desk, _inbound(REVIEWER, action=Action("review.return", sheet.sheet_id)), reviewer
    )
    assert isinstance(form[0], Form) and form[0].submit == Action("review.return", sheet.sheet_id)
    done = handle_review_turn(
        desk,
        _inbound(REVIEWER, action=Action("review.return", sheet.sheet_id),
                 form={"comment": "予算額の根拠を追記してください"}),
        reviewer,
    )
    assert isinstance(done[0], Text) and "差し戻しました" in done[0].text
    assert "依頼者に通知しました" in done[0].text
    assert len(slack.delivered) == 1
    # queue, open, start, return-form check, return: one audit row each.
    assert _audit_count(database) == 5


def test_chat_refusals_are_japanese_and_audited(
    database: Database, desk: ReviewDesk, seeder: Seeder,
) -> None:
    sheet = seeder.sheet(created_at=CREATED, department="税務課", moves=[("submitted", CREATED)])
    staff = desk.actor_for(_inbound(STAFF))
    digest = handle_review_turn(desk, _inbound(STAFF, text="ダイジェスト"), staff)
    assert digest == [Text(digest[0].text)] and "CIO補佐" in digest[0].text  # type: ignore[union-attr]
    opened = handle_review_turn(
        desk, _inbound(STAFF, action=Action("review.open", sheet.sheet_id)), staff
    )
    assert "表示できません" in opened[0].text  # type: ignore[union-attr]
    accept = handle_review_turn(
        desk, _inbound(STAFF, action=Action("review.accept", sheet.sheet_id)), staff
    )
    assert "表示できません" in accept[0].text  # type: ignore[union-attr]
    reviewer = desk.actor_for(_inbound(REVIEWER))
    shown = handle_review_turn(
        desk, _inbound(REVIEWER, text="ダイジェスト　２０２６-W47"), reviewer
    )
    assert shown[0].text.startswith("# 週次相談ダイジェスト 2026-W47")  # type: ignore[union-attr]
    weekly = handle_review_turn(desk, _inbound(REVIEWER, text="週次ダイジェスト"), reviewer)
    assert weekly[0].text.startswith("# 週次相談ダイジェスト")  # type: ignore[union-attr]
    assert _audit_count(database) == 5


def test_new_chat_user_is_asked_for_the_department_once(
    database: Database, desk: ReviewDesk,
) -> None:
    newcomer = desk.actor_for(_inbound(Actor("slack", "T1", "UNEW"), text="レビュー"))
    assert desk.needs_department(newcomer)
    asked = handle_review_turn(desk, _inbound(newcomer, text="レビュー"), newcomer)
    assert isinstance(asked[1], Form) and asked[1].submit == Action("review.set_department")
    reply = handle_review_turn(
        desk,
        _inbound(newcomer, action=Action("review.set_department"),
                 form={"department": " 市民課 "}),
        newcomer,
    )
    assert reply == [department_registered("市民課")]
    assert "確認するまで" in reply[0].text  # type: ignore[union-attr]
    registered = desk.actor_for(_inbound(newcomer))
    assert (registered.role, registered.department) == ("staff", "市民課")
    assert registered.department_pending and registered.confirmed_department is None
    assert not desk.needs_department(registered)
    with pytest.raises(ReviewRefused, match="登録済み"):
        desk.set_department(registered, "税務課")
    assert desk.actor_for(_inbound(newcomer)).department == "市民課"


def test_review_chat_works_inside_the_cores_transaction(
    database: Database, desk: ReviewDesk, seeder: Seeder,
) -> None:
    """The core's turn already holds the write lock (SQLite): the desk must share it."""
    sheet = seeder.sheet(created_at=CREATED, moves=[("submitted", CREATED)])
    review = ReviewChat(desk)
    inbound = _inbound(REVIEWER, action=Action("review.start", sheet.sheet_id))
    with database.session() as session:
        record_message(session=session, channel="slack", tenant="T1", conversation="D1",
                       direction=MessageDirection.INBOUND, text="(button)", user_id="UR")
        assert review.wants(inbound)
        parts = review.handle(session, inbound)
        assert isinstance(parts[0], Text) and "確認を開始しました" in parts[0].text
        home = review.home(session, inbound)
        assert home[0] == Text("確認待ちの相談シート（1件）")
    assert desk.show(REVIEWER, sheet.reference).sheet.status == "in_review"
    assert _audit_count(database) == 3  # start, home list, show


def test_requester_is_told_only_after_the_turn_commits(
    database: Database, seeder: Seeder, clock: FakeClock, background: BackgroundThreads,
) -> None:
    # A notifier that reads the database itself, as the Teams one does.
    teams = DatabaseReadingNotifier("teams", database)
    store = ReviewStore(database)
    store.save_user("slack", "T1", REVIEWER.user_id, role="reviewer")
    desk = ReviewDesk(store, {"teams": teams}, now=clock, background=background)
    sheet = seeder.sheet(created_at=CREATED, channel="teams", tenant="T1",
                         conversation="19:abc@thread.tacv2;messageid=1",
                         moves=[("submitted", CREATED), ("in_review", CREATED)])
    review = ReviewChat(desk)
    accept = _inbound(REVIEWER, action=Action("review.accept", sheet.sheet_id))
    with database.session() as session:
        parts = review.handle(session, accept)
        assert isinstance(parts[0], Text) and "依頼者に通知します" in parts[0].text
        assert background.threads == []  # nothing posted while the turn holds the database
    background.join()
    assert len(teams.delivered) == 1
    address, notice = teams.delivered[0]
    assert address.conversation == "19:abc@thread.tacv2;messageid=1"
    assert "受理されました" in notice[0].text  # type: ignore[union-attr]


def test_review_chat_rolls_back_with_the_turn(
    database: Database, desk: ReviewDesk, seeder: Seeder, slack: CollectingNotifier,
    background: BackgroundThreads,
) -> None:
    sheet = seeder.sheet(created_at=CREATED,
                         moves=[("submitted", CREATED), ("in_review", CREATED)])
    review = ReviewChat(desk)
    with pytest.raises(RuntimeError), database.session() as session:
        review.handle(session, _inbound(REVIEWER, action=Action("review.accept", sheet.sheet_id)))
        raise RuntimeError("the core failed later in the turn")
    assert desk.show(REVIEWER, sheet.reference).sheet.status == "in_review"
    background.join()
    assert slack.delivered == []  # nobody is told about a change that did not happen
    assert _audit_count(database) == 1  # only the show above


def test_refusals_speak_to_the_role_that_tried(desk: ReviewDesk, database: Database) -> None:
    sheet = Seeder(database).sheet(created_at=CREATED, moves=[("submitted", CREATED)])

    with pytest.raises(ReviewRefused) as reviewer_early:
        desk.return_sheet(REVIEWER, sheet.reference, "理由")
    assert "先に「確認を開始」してください" in reviewer_early.value.message
    assert "CIO補佐が確認を開始するまでお待ちください" not in reviewer_early.value.message

    with pytest.raises(ReviewRefused) as staff_start:
        desk.start_review(STAFF, sheet.reference)
    assert "CIO補佐（レビュー担当）だけが行えます" in staff_start.value.message


def test_the_review_desk_reads_the_core_s_review_and_digest_words() -> None:
    for word in command_words(Command.REVIEW, Command.DIGEST):
        assert is_review_turn(Inbound("slack", "T1", "D1", "U1", text=word)), word
    assert is_review_turn(Inbound("slack", "T1", "D1", "U1", text="週次ダイジェスト 2026-W47"))
    assert not is_review_turn(Inbound("slack", "T1", "D1", "U1", text="相談を始める"))
