"""``soudan bench`` for the console: p95 of the queue and sheet pages over real HTTP.

A throw-away PostgreSQL database is created next to the one given (``CREATE
DATABASE``), migrated and filled with 5,000 sheets across 20 departments and a year
of weeks; the console is served on a free port of 127.0.0.1 and a signed-in
reviewer fetches queue pages (unfiltered, filtered, sorted, deep pages) and sheet
pages. The database is dropped at the end.

Example:
    >>> result = run_console_bench("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")  # doctest: +SKIP
    >>> print(result.format())                                                                # doctest: +SKIP
"""

from __future__ import annotations

import http.cookiejar
import random
import re
import socket
import statistics
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.review import ReviewDesk, ReviewStore
from bot.settings import Settings
from bot.web.app import Console, mount_console
from bot.web.local import LocalConsole
from bot.web.signin import SignInLinks
from flows import load_flows
from storage import Database, UserRole, upsert_user_profile
from storage.lifecycle import SheetStatus
from storage.models import ConsultationSheet, SheetTransition

DEPARTMENTS = [f"{name}課" for name in (
    "総務", "企画", "財政", "税務", "市民", "福祉", "子育て", "健康", "環境", "商工",
    "農林", "土木", "都市計画", "建築", "上下水道", "教育総務", "学校教育", "生涯学習",
    "消防", "会計")]
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


@dataclass(frozen=True)
class ConsoleBench:
    sheets: int
    queue_p50_ms: float
    queue_p95_ms: float
    sheet_p50_ms: float
    sheet_p95_ms: float
    requests: int
    digest_p95_ms: float = 0.0
    """For reference (no target): the digest page builds from every sheet of the tenant."""

    def format(self) -> str:
        return (
            f"管理画面（PostgreSQL・相談シート {self.sheets:,} 件、{self.requests} 回の HTTP 取得）\n"
            f"  レビュー一覧 p50 {self.queue_p50_ms:.0f} ms / p95 {self.queue_p95_ms:.0f} ms"
            "（目標 ≤ 200 ms）\n"
            f"  相談シート   p50 {self.sheet_p50_ms:.0f} ms / p95 {self.sheet_p95_ms:.0f} ms"
            "（目標 ≤ 200 ms）\n"
            f"  週次ダイジェスト p95 {self.digest_p95_ms:.0f} ms（参考）"
        )


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed_sheets(database: Database, count: int, now: datetime, tenant: str = "bench") -> list[str]:
    """``count`` sheets over the last year, most of them submitted; their 整理番号."""
    chooser = random.Random(13)
    draft, submitted, in_review = SheetStatus.DRAFT, SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW
    returned, accepted, closed = SheetStatus.RETURNED, SheetStatus.ACCEPTED, SheetStatus.CLOSED
    statuses = [draft, submitted, in_review, returned, accepted, closed]
    path: dict[SheetStatus, list[SheetStatus]] = {
        draft: [],
        submitted: [submitted],
        in_review: [submitted, in_review],
        returned: [submitted, in_review, returned],
        accepted: [submitted, in_review, accepted],
        closed: [submitted, in_review, accepted, closed],
    }
    references: list[str] = []
    with database.session() as session:
        rows, moves = [], []
        for number in range(1, count + 1):
            status = chooser.choice(statuses)
            created = now - timedelta(days=chooser.uniform(0, 365))
            reference = f"{created.year}-B{number:05d}"
            sheet_id = str(uuid.uuid4())
            steps = path[status]
            rows.append(ConsultationSheet(
                id=sheet_id, reference=reference, status=SheetStatus(status),
                channel="slack", tenant=tenant, conversation=f"C{number}:1.0",
                requester_id=f"U{number % 300}", requester_name=f"職員{number % 300}",
                department=chooser.choice(DEPARTMENTS), business=f"業務改善の相談 {number}",
                initial_cost=chooser.choice([None, 800_000, 2_500_000, 4_500_000, 12_000_000]),
                flow_id="ict_adoption",
                outcomes={"dx_council_required": chooser.random() < 0.4,
                          "rfi_recommended": chooser.random() < 0.5},
                created_at=created, updated_at=created,
                submitted_at=created + timedelta(hours=1) if steps else None,
            ))
            previous = SheetStatus.DRAFT
            for index, step in enumerate(steps, start=1):
                moves.append(SheetTransition(
                    sheet_id=sheet_id, from_status=SheetStatus(previous),
                    to_status=SheetStatus(step), actor_id="bench",
                    at=created + timedelta(hours=index),
                ))
                previous = step
            references.append(reference)
        session.add_all(rows)
        session.flush()
        session.add_all(moves)
        upsert_user_profile(session=session, channel="slack", tenant=tenant, user_id="U-bench",
                            display_name="計測用 CIO補佐", role=UserRole.REVIEWER)
    return references


def run_console_bench(
    admin_url: str, *, sheets: int = 5000, rounds: int = 60, data_dir: Path | None = None
) -> ConsoleBench:
    """Measure the console on a new database on ``admin_url``'s PostgreSQL server."""
    name = f"soudan_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    try:
        database.upgrade()
        return _measure(database, sheets, rounds, data_dir)
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _measure(database: Database, count: int, rounds: int, data_dir: Path | None) -> ConsoleBench:
    now = datetime.now(UTC)
    references = seed_sheets(database, count, now)
    port = _free_port()
    settings = Settings(_env_file=None, port=port, host="127.0.0.1",
                        data_dir=data_dir or Path("/tmp/soudan-bench"))
    store = ReviewStore(database)
    desk = ReviewDesk(store, {})
    links = SignInLinks(key=uuid.uuid4().bytes, base_url=settings.console_url, desk=desk)
    console = Console(settings=settings, database=database, desk=desk, links=links, titles={},
                      flows=load_flows(settings.flows_dir))
    from aiohttp import web

    app = web.Application()
    mount_console(app, console)
    server = LocalConsole(app, "127.0.0.1", port)
    server.start()
    try:
        browser = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        with database.session() as session:
            link = links.issue(session, "slack:bench:U-bench")
        fields = dict(_HIDDEN.findall(browser.open(link, timeout=30).read().decode()))
        browser.open(f"{settings.console_url}/console/sign-in",
                     data=urllib.parse.urlencode(fields).encode(), timeout=30).read()
        base = f"{settings.console_url}/console"
        queue_paths = [
            "/queue", "/queue?status=submitted,in_review", "/queue?sort=cost&page=20",
            "/queue?department=市民課&sort=created", "/queue?cost=high&sort=department",
            f"/queue?week={now.isocalendar().year}-W{now.isocalendar().week:02d}",
        ]
        chooser = random.Random(7)

        def timed(path: str) -> float:
            started = time.perf_counter()
            with browser.open(base + urllib.parse.quote(path, safe="/?=&,"), timeout=30) as page:
                page.read()
                if page.status != 200:
                    raise RuntimeError(f"HTTP {page.status} for {path}")
            return (time.perf_counter() - started) * 1000

        for path in queue_paths:  # warm up
            timed(path)
        queue = [timed(queue_paths[i % len(queue_paths)]) for i in range(rounds)]
        sheet = [timed(f"/sheets/{chooser.choice(references)}") for _ in range(rounds)]
        digest = [timed("/digest") for _ in range(max(3, rounds // 6))]
    finally:
        server.stop()
    return ConsoleBench(
        sheets=count, queue_p50_ms=statistics.median(queue), queue_p95_ms=_p95(queue),
        sheet_p50_ms=statistics.median(sheet), sheet_p95_ms=_p95(sheet),
        requests=len(queue) + len(sheet) + len(digest), digest_p95_ms=_p95(digest),
    )
