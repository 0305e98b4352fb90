"""The scheduled digest: exactly once per week and target across replicas, catch-up."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.core.messages import Address, Notifier, Text
from bot.digest_schedule import (
    DigestScheduler,
    DigestTarget,
    PostedDigest,
    ScheduleError,
    digest_targets,
    run_every_minute,
    targets_from_settings,
)
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek
from bot.settings import Settings
from storage import Database
from storage.audit import list_audit
from tests.review.review_fakes import CollectingNotifier, FakeClock, Seeder

JST = timezone(timedelta(hours=9))
MONDAY_0900 = datetime(2026, 11, 23, 9, 0, tzinfo=JST)  # week 48; the digest covers W47
SLACK = DigestTarget("slack:CREVIEW", Address("slack", "T1", "CREVIEW"), "T1")
TEAMS = DigestTarget("teams:19:abc@thread.tacv2", Address("teams", "tid", "19:abc@thread.tacv2"))


def _scheduler(
    database: Database, clock: FakeClock, name: str, notifiers: dict[str, CollectingNotifier],
    targets: list[DigestTarget] | None = None,
) -> DigestScheduler:
    return DigestScheduler(
        ReviewStore(database), notifiers, targets or [SLACK, TEAMS], now=clock, replica=name
    )


def _notifiers(*, failing: bool = False) -> dict[str, CollectingNotifier]:
    return {"slack": CollectingNotifier("slack", failing=failing),
            "teams": CollectingNotifier("teams", failing=failing)}


@pytest.mark.postgres
def test_two_replicas_on_one_postgres_post_each_week_once(
    postgres_database: Database, seeder_pg: Seeder
) -> None:
    seeder_pg.sheet(created_at=datetime(2026, 11, 18, 1, 0, tzinfo=UTC), business="週47の相談")
    second_engine = Database(postgres_database.url.render_as_string(hide_password=False))
    clock = FakeClock(MONDAY_0900.astimezone(UTC))
    notifiers = [_notifiers(), _notifiers()]
    replicas = [
        _scheduler(postgres_database, clock, "replica-a", notifiers[0]),
        _scheduler(second_engine, clock, "replica-b", notifiers[1]),
    ]
    start = threading.Barrier(2)
    posted: list[list[PostedDigest]] = [[], []]
    errors: list[BaseException] = []

    def run(index: int) -> None:
        start.wait()
        try:
            posted[index] = replicas[index].run_due()
        except BaseException as error:  # surfaced below; a thread would swallow it
            errors.append(error)

    try:
        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        # Later minutes of the same week post nothing more, on either replica.
        for _ in range(3):
            clock.advance(minutes=1)
            assert replicas[0].run_due() == [] and replicas[1].run_due() == []
        runs = ReviewStore(postgres_database).digest_runs()
    finally:
        second_engine.dispose()

    all_posted = posted[0] + posted[1]
    assert sorted((str(p.week), p.destination) for p in all_posted) == [
        ("2026-W47", SLACK.destination), ("2026-W47", TEAMS.destination),
    ]
    slack_posts = notifiers[0]["slack"].delivered + notifiers[1]["slack"].delivered
    teams_posts = notifiers[0]["teams"].delivered + notifiers[1]["teams"].delivered
    assert len(slack_posts) == 1 and len(teams_posts) == 1
    address, parts = slack_posts[0]
    assert address == SLACK.address
    assert isinstance(parts[0], Text) and "2026-W47" in parts[0].text
    assert "週47の相談" in parts[0].text
    assert len(runs) == 2 and all(posted_at is not None for *_, posted_at in runs)


@pytest.fixture
def seeder_pg(postgres_database: Database) -> Seeder:
    return Seeder(postgres_database)


def test_missed_week_is_posted_when_the_process_comes_back(database: Database) -> None:
    notifiers = _notifiers()
    # Down over Monday 09:00; back on Wednesday.
    clock = FakeClock((MONDAY_0900 + timedelta(days=2)).astimezone(UTC))
    scheduler = _scheduler(database, clock, "late", notifiers, [SLACK])
    assert [(str(p.week), p.delivered) for p in scheduler.run_due()] == [("2026-W47", True)]
    assert scheduler.run_due() == []
    # A fresh process (restart) finds the week claimed and posts nothing.
    assert _scheduler(database, clock, "restarted", notifiers, [SLACK]).run_due() == []
    # Next Monday just before 09:00: nothing new; at 09:00 week 48 is due.
    clock.at = (MONDAY_0900 + timedelta(days=7, minutes=-1)).astimezone(UTC)
    assert scheduler.run_due() == []
    clock.advance(minutes=1)
    assert [str(p.week) for p in scheduler.run_due()] == ["2026-W48"]
    assert len(notifiers["slack"].delivered) == 2
    with database.session() as session:
        rows = list_audit(session=session, action="review.digest")
    assert [(r.target, r.result.value) for r in rows] == [
        ("digest:2026-W47", "allowed"), ("digest:2026-W48", "allowed"),
    ]


def test_failed_post_is_retried_by_another_replica_after_the_lease(database: Database) -> None:
    clock = FakeClock(MONDAY_0900.astimezone(UTC))
    broken = _scheduler(database, clock, "broken", _notifiers(failing=True), [SLACK])
    assert [p.delivered for p in broken.run_due()] == [False]
    healthy_notifiers = _notifiers()
    healthy = _scheduler(database, clock, "healthy", healthy_notifiers, [SLACK])
    assert healthy.run_due() == []  # the claim is still leased to "broken"
    clock.advance(minutes=31)
    assert [p.delivered for p in healthy.run_due()] == [True]
    assert len(healthy_notifiers["slack"].delivered) == 1
    assert healthy.run_due() == [] and broken.run_due() == []
    week, destination, claimed_by, posted_at = ReviewStore(database).digest_runs()[0]
    assert (week, destination, claimed_by) == ("2026-W47", SLACK.destination, "healthy")
    assert posted_at is not None


def test_schedule_follows_the_cron_in_tokyo(database: Database) -> None:
    clock = FakeClock(datetime(2026, 11, 27, 7, 59, tzinfo=UTC))  # Friday 16:59 JST
    scheduler = DigestScheduler(ReviewStore(database), {}, [], cron="0 17 * * 5", now=clock)
    fired, week = scheduler.latest_due()
    assert fired == datetime(2026, 11, 20, 17, 0, tzinfo=JST) and week == IsoWeek(2026, 46)
    clock.advance(minutes=1)
    fired, week = scheduler.latest_due()
    assert fired == datetime(2026, 11, 27, 17, 0, tzinfo=JST) and week == IsoWeek(2026, 47)
    with pytest.raises(ScheduleError):
        DigestScheduler(ReviewStore(database), {}, [], cron="every monday")


def test_targets_from_settings() -> None:
    settings = Settings(
        digest_slack_channel="T0123/CREVIEW",
        digest_teams_conversation="19:abc@thread.tacv2",
        microsoft_app_tenant_id="tid",
    )
    assert targets_from_settings(settings) == [
        DigestTarget("slack:CREVIEW", Address("slack", "T0123", "CREVIEW"), "T0123"),
        DigestTarget("teams:19:abc@thread.tacv2",
                     Address("teams", "tid", "19:abc@thread.tacv2"), "tid"),
    ]
    assert targets_from_settings(Settings()) == []


def test_a_target_without_its_channel_waits_unclaimed(database: Database) -> None:
    clock = FakeClock(MONDAY_0900.astimezone(UTC))
    notifiers: dict[str, Notifier] = {}
    scheduler = DigestScheduler(ReviewStore(database), notifiers, [SLACK], now=clock,
                                replica="early")
    assert scheduler.run_due() == []
    assert ReviewStore(database).digest_runs() == []  # not claimed: nobody could post it
    slack = CollectingNotifier("slack")
    notifiers["slack"] = slack  # the Slack app is mounted a moment later
    clock.advance(minutes=1)
    assert [p.delivered for p in scheduler.run_due()] == [True]
    assert len(slack.delivered) == 1


def test_run_every_minute_survives_a_failed_run(database: Database) -> None:
    stop = threading.Event()
    calls: list[str] = []

    class FlakyScheduler(DigestScheduler):
        def run_due(self) -> list[PostedDigest]:
            calls.append("run")
            if len(calls) == 1:
                raise RuntimeError("database restarting")
            stop.set()  # the second minute succeeds; then the server shuts down
            return []

    flaky = FlakyScheduler(ReviewStore(database), {}, [], now=FakeClock(MONDAY_0900))
    run_every_minute(flaky, stop, interval=0)
    assert calls == ["run", "run"]


def test_reviewers_dms_each_get_their_tenants_digest(
    database: Database, seeder: Seeder
) -> None:
    store = ReviewStore(database)
    store.save_user("slack", "T1", "UR1", role="reviewer")
    store.save_user("slack", "T2", "UR2", role="reviewer")
    store.save_user("slack", "T1", "US", role="staff", department="市民課")
    store.save_user("teams", "tid", "UT", role="reviewer")  # Teams DMs not configured
    seeder.sheet(created_at=datetime(2026, 11, 18, 1, 0, tzinfo=UTC), tenant="T1",
                 business="T1の相談")
    slack = CollectingNotifier("slack")
    settings = Settings(digest_slack_channel="reviewers")
    scheduler = DigestScheduler(store, {"slack": slack}, digest_targets(settings, store),
                                now=FakeClock(MONDAY_0900.astimezone(UTC)))
    assert sorted(p.destination for p in scheduler.run_due()) == [
        "dm:slack:T1:UR1", "dm:slack:T2:UR2",
    ]
    posts = {address.user_id: parts[0].text for address, parts in slack.delivered}  # type: ignore[union-attr]
    assert set(posts) == {"UR1", "UR2"}
    assert all(address.conversation == "" for address, _ in slack.delivered)
    assert "T1の相談" in posts["UR1"] and "T1の相談" not in posts["UR2"]
    assert targets_from_settings(settings) == []
