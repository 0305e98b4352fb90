"""The durable outbox: review notices survive a channel outage and are posted exactly once.

Real SQLite and PostgreSQL, the real SlackNotifier against the mock Slack Web API on
127.0.0.1, a fake clock for the back-off (no sleeping).
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from bot.chat import TerminalChat
from bot.cli.main import app
from bot.core.messages import Action, Address, Inbound, Text
from bot.core.outbox import Outbox
from bot.review.desk import ReviewDesk
from bot.review.port import ReviewChat
from bot.review.store import ReviewStore
from bot.slack import SlackNotifier
from storage import Database
from storage import outbox as outbox_rows
from storage.outbox import OutboxMessage, OutboxStatus
from tests.review.review_fakes import BackgroundThreads, CollectingNotifier, FakeClock, Seeder
from tests.slack.harness import slack_settings
from tests.slack.mock_web_api import MockSlackApi

CREATED = datetime(2026, 11, 17, 0, 0, tzinfo=UTC)
REVIEWER_ID = "UR"


@pytest.fixture
async def mock_api() -> AsyncIterator[MockSlackApi]:
    api = MockSlackApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 18, 3, 0, tzinfo=UTC))


def _rows(database: Database) -> list[OutboxMessage]:
    with database.session() as session:
        return outbox_rows.list_outbox_messages(session=session)


def _reviewer(store: ReviewStore) -> None:
    store.save_user("slack", "T1", REVIEWER_ID, role="reviewer", display_name="補佐")


def _sheet_in_review(database: Database, **values: str) -> str:
    seeded = Seeder(database).sheet(
        created_at=CREATED, moves=[("submitted", CREATED), ("in_review", CREATED)], **values
    )
    return seeded.sheet_id


async def test_a_notice_slack_refused_is_retried_with_back_off_and_posted_once(
    database: Database, mock_api: MockSlackApi, tmp_path: Path, clock: FakeClock,
) -> None:
    notifier = SlackNotifier(slack_settings(tmp_path, mock_api))
    store = ReviewStore(database)
    _reviewer(store)
    outbox = Outbox(database, {"slack": notifier}, retry_seconds=15, max_attempts=5, now=clock)
    desk = ReviewDesk(store, {"slack": notifier}, now=clock, outbox=outbox)
    sheet_id = _sheet_in_review(database)
    reviewer = store.actor("slack", "T1", REVIEWER_ID)
    # Slack is down for the first two posts.
    mock_api.fail_next("chat.postMessage", status=503, error="service_unavailable")
    mock_api.fail_next("chat.postMessage", status=503, error="service_unavailable")

    outcome = await asyncio.to_thread(desk.accept, reviewer, sheet_id, "進めてください")

    assert outcome.sheet.status == "accepted"
    assert outcome.notification == "failed" and "自動で再送します" in outcome.notice
    [row] = _rows(database)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING, 1, "DeliveryError")
    assert row.subject == outcome.sheet.reference and row.kind == "review.accepted"
    assert mock_api.posts() == []

    # Not due yet: nothing is tried.
    clock.advance(seconds=14)
    assert (await asyncio.to_thread(outbox.deliver_due)).attempted == 0
    clock.advance(seconds=1)
    second = await asyncio.to_thread(outbox.deliver_due)
    assert second.retrying == [row.id]  # still down; the next try is 30 s later
    clock.advance(seconds=29)
    assert (await asyncio.to_thread(outbox.deliver_due)).attempted == 0
    clock.advance(seconds=1)
    third = await asyncio.to_thread(outbox.deliver_due)
    assert third.sent == [row.id]

    for _ in range(3):  # later passes (any replica) post nothing more
        clock.advance(hours=1)
        assert (await asyncio.to_thread(outbox.deliver_due)).attempted == 0
    [post] = mock_api.posts()
    assert post.args["channel"] == "C1" and post.args["thread_ts"] == "1700000000.000100"
    assert "受理されました" in post.args["text"] and "進めてください" in post.args["text"]
    assert len(mock_api.of("chat.postMessage")) == 3  # two refused, one posted
    [sent] = _rows(database)
    assert (sent.status, sent.attempts, sent.parts) == (OutboxStatus.SENT, 3, None)


async def test_a_notice_written_in_a_turn_is_posted_after_the_commit_through_slack(
    database: Database, mock_api: MockSlackApi, tmp_path: Path, clock: FakeClock,
) -> None:
    notifier = SlackNotifier(slack_settings(tmp_path, mock_api))
    store = ReviewStore(database)
    _reviewer(store)
    background = BackgroundThreads()
    notifiers = {"slack": notifier}
    desk = ReviewDesk(store, notifiers, now=clock, background=background,
                      outbox=Outbox(database, notifiers, now=clock))
    sheet_id = _sheet_in_review(database)
    accept = Inbound("slack", "T1", "D1", REVIEWER_ID,
                     action=Action("review.return", sheet_id), form={"comment": "根拠を追記"})

    def turn() -> None:
        with database.session() as session:
            parts = ReviewChat(desk).handle(session, accept)
            assert isinstance(parts[0], Text) and "依頼者に通知します" in parts[0].text
            assert background.threads == []

    await asyncio.to_thread(turn)
    await asyncio.to_thread(background.join)

    [post] = mock_api.posts()
    assert "差し戻されました" in post.args["text"]
    [row] = _rows(database)
    assert row.status == OutboxStatus.SENT


def test_a_notice_is_not_written_when_the_turn_rolls_back(
    database: Database, clock: FakeClock,
) -> None:
    store = ReviewStore(database)
    _reviewer(store)
    slack = CollectingNotifier("slack")
    background = BackgroundThreads()
    desk = ReviewDesk(store, {"slack": slack}, now=clock, background=background)
    sheet_id = _sheet_in_review(database)
    with pytest.raises(RuntimeError), database.session() as session:
        ReviewChat(desk).handle(
            session, Inbound("slack", "T1", "D1", REVIEWER_ID,
                             action=Action("review.accept", sheet_id)))
        raise RuntimeError("the turn failed after the review step")
    background.join()
    assert _rows(database) == [] and slack.delivered == []


def test_two_dispatchers_post_each_notice_once(database: Database) -> None:
    """Two replicas' dispatchers run at the same moment over 30 notices."""
    posted: list[str] = []
    lock = threading.Lock()

    class Recording(CollectingNotifier):
        def deliver(self, address: Address, parts: list) -> None:  # type: ignore[type-arg]
            with lock:
                posted.append(address.user_id or "")

    writer = Outbox(database, {})
    with database.session() as session:
        for n in range(30):
            writer.enqueue(session=session, address=Address("slack", "T1", "", f"U{n}"),
                           parts=[Text(f"通知 {n}")], kind="review.accepted")
    dispatchers = [Outbox(database, {"slack": Recording("slack")}) for _ in range(2)]
    start = threading.Barrier(2)

    def run(outbox: Outbox) -> None:
        start.wait()
        outbox.deliver_due(batch=3)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(posted) == sorted(f"U{n}" for n in range(30))
    assert {r.status for r in _rows(database)} == {OutboxStatus.SENT}


def test_a_dispatcher_that_died_while_posting_is_taken_over_after_its_lease(
    database: Database, clock: FakeClock,
) -> None:
    slack = CollectingNotifier("slack")
    dead = Outbox(database, {"slack": slack}, lease_seconds=60, now=clock, owner="dead")
    with database.session() as session:
        message_id = dead.enqueue(session=session, address=Address("slack", "T1", "C1:1"),
                                  parts=[Text("受理されました")], kind="review.accepted")
    with database.session() as session:  # claimed, then the process is killed
        outbox_rows.claim_outbox_messages(session=session, owner="dead", lease=dead.lease,
                                          channels=["slack"], now=clock())
    alive = Outbox(database, {"slack": slack}, now=clock, owner="alive")
    assert alive.deliver_due().attempted == 0  # still leased
    clock.advance(seconds=61)
    assert alive.deliver_due().sent == [message_id]
    assert len(slack.delivered) == 1


def test_undeliverable_notices_are_listed_and_can_be_put_back(cli_database: Database) -> None:
    database = cli_database
    clock = FakeClock(datetime.now(UTC))  # --retry puts the row back due at the real now
    down = CollectingNotifier("slack", failing=True)
    outbox = Outbox(database, {"slack": down}, retry_seconds=1, max_attempts=2, now=clock)
    with database.session() as session:
        given_up = outbox.enqueue(session=session, address=Address("slack", "T1", "", "U1"),
                                  parts=[Text("マイナンバー 1234 5678 9012 の件")],
                                  kind="review.returned", subject="2026-0007")
        outbox.enqueue(session=session, address=Address("teams", "tid", "19:c", "U2"),
                       parts=[Text("受理")], kind="review.accepted", subject="2026-0008")
    assert outbox.deliver_due().retrying == [given_up]
    clock.advance(seconds=1)
    assert outbox.deliver_due().undeliverable == [given_up]

    listing = CliRunner().invoke(app, ["review", "outbox"])
    assert listing.exit_code == 0, listing.output
    lines = listing.output.splitlines()
    assert lines[0] == "依頼者への通知: 送信待ち 1件・送信できず 1件"
    assert lines[2].split("\t")[:6] == [
        str(given_up), "送信できず", "差し戻しの通知", "2026-0007", "slack:T1:U1", "2回",
    ]
    assert "最後の失敗: DeliveryError" in lines[2]
    assert lines[3].split("\t")[1:4] == ["送信待ち", "受理の通知", "2026-0008"]
    assert "1234" not in listing.output  # never the message text

    retried = CliRunner().invoke(app, ["review", "outbox", "--retry", str(given_up)])
    assert retried.exit_code == 0 and "送信待ちに戻しました" in retried.output
    assert CliRunner().invoke(app, ["review", "outbox", "--retry", "999"]).exit_code == 1
    down.failing = False
    clock.advance(seconds=5)
    assert outbox.deliver_due().sent == [given_up]
    after = CliRunner().invoke(app, ["review", "outbox"]).output
    assert "送信できず 0件" in after and "\t送信できず\t" not in after
    database.dispose()


def test_the_terminal_chat_shows_the_users_pending_notices_once(database: Database) -> None:
    writer = Outbox(database, {})
    with database.session() as session:
        writer.enqueue(session=session,
                       address=Address("terminal", "local", "terminal-1", "terminal-user"),
                       parts=[Text("相談シート 2026-0003 が差し戻されました。")],
                       kind="review.returned", subject="2026-0003")
        writer.enqueue(session=session,
                       address=Address("terminal", "local", "terminal-2", "someone-else"),
                       parts=[Text("他の人への通知")], kind="review.accepted")

    def open_chat() -> str:
        out = io.StringIO()
        chat = TerminalChat(_NoCore(), console=Console(file=out, width=200), database=database)
        chat.run(lambda _: "終了")
        return out.getvalue()

    first = open_chat()
    assert "【お知らせ】" in first and "2026-0003 が差し戻されました" in first
    assert "他の人への通知" not in first
    assert "差し戻されました" not in open_chat()  # shown once


class _NoCore:
    def handle(self, inbound: Inbound) -> list:  # type: ignore[type-arg]
        raise AssertionError("not called")
