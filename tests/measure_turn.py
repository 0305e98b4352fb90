"""How much one Slack turn costs inside soudan: database transactions and module hops.

Run from the repository root (not collected by pytest)::

    python -m tests.measure_turn

It serves the real bolt app (``build_slack_app`` over ``build_services``) on 127.0.0.1
against the mock Slack Web API and an SQLite file in a temporary directory, with a
fixed stand-in for the knowledge base (retrieval is measured by ``soudan bench``, not
here). After one warm-up question (the user's display name is looked up and cached,
imports are done), it measures, each from the signed HTTP request to the posted reply:

* ``dm question``: a new top-level DM question;
* ``button press``: the 👍 feedback button under that answer;
* ``thread chatter``: a channel-thread reply without a mention, in a thread with no
  consultation (people talking among themselves; nothing is posted).

``python -m tests.measure_turn --ack [questions] [answer ms]`` times instead, without the
profiler, new DM questions from the signed request to Slack's 200 (the ack) and to the
posted reply, with turns applied before the ack (``inline_turns``) and without; the
stand-in knowledge takes ``answer ms`` per answer (the extractive answer's time).

For each: ``transactions`` (SQLAlchemy engine ``begin`` events, every thread),
``modules`` (distinct project modules — ``bot``, ``storage``, ``flows``, ``knowledge`` —
with a function called on the way; the "module hops" of docs/architecture.md) and
``crossings`` (calls from one project module into another). ``no polls`` leaves out the
inbox worker's claim/lease polls (timing-dependent); ``in core`` counts the transactions
begun with ``bot.core.assistant`` on the stack. ``bot/`` lines are counted
too (``find bot -name '*.py' | xargs wc -l``).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import event

PROJECT = ("bot", "storage", "flows", "knowledge")
_POLLS = ("bot.core.inbox._claim", "bot.core.inbox._renew")
"""The inbox worker's claim and lease polls: their number depends on timing (±1)."""


@dataclass
class Tally:
    """What one measured turn did."""

    transactions: int = 0
    in_core: int = 0
    """Transactions begun with the core's ``Assistant`` on the stack (not inbox bookkeeping)."""
    opened_by: list[str] = field(default_factory=list)
    """Per transaction, the project functions that opened it (innermost outside storage)."""
    modules: list[str] = field(default_factory=list)
    crossings: int = 0


class _Recorder:
    """A profile function (every thread) and an engine listener, on only while measuring."""

    def __init__(self) -> None:
        self.on = False
        self.tally = Tally()
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def profile(self, frame: FrameType, what: str, _: Any) -> None:
        if not self.on or what != "call":
            return
        module = frame.f_globals.get("__name__", "")
        if module.partition(".")[0] not in PROJECT:
            return
        caller = frame.f_back.f_globals.get("__name__", "") if frame.f_back else ""
        with self._lock:
            if module not in self._seen:
                self._seen.add(module)
                self.tally.modules.append(module)
            if caller != module and caller.partition(".")[0] in PROJECT:
                self.tally.crossings += 1

    def begin(self, *_: Any) -> None:
        if self.on:
            with self._lock:
                self.tally.transactions += 1
                frame = sys._getframe(1)
                self.tally.opened_by.append(_opener(frame))
                self.tally.in_core += _in_core(frame)

    @contextmanager
    def measuring(self) -> Iterator[Tally]:
        self.tally, self._seen = Tally(), set()
        self.on = True
        try:
            yield self.tally
        finally:
            self.on = False


def _opener(frame: FrameType | None) -> str:
    """``module.function`` of the first project frame above storage that began a transaction."""
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.partition(".")[0] in PROJECT and not module.startswith("storage"):
            return f"{module}.{frame.f_code.co_name}"
        frame = frame.f_back
    return "?"


def _in_core(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_globals.get("__name__") == "bot.core.assistant":
            return True
        frame = frame.f_back
    return False


class _FixedKnowledge:
    """The knowledge side, answering every question with one cited passage (after
    ``delay`` seconds: the extractive answer's time, for ``--ack``)."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Any:
        from knowledge.types import Answer, Passage

        time.sleep(self.delay)

        passage = Passage("p1", "g.md", "ガイドライン", "【Ⅰ】 > 3. 協議", "協議が必要です。")
        return Answer(question, True, "協議が必要です。[1]", (passage,))

    def search(self, question: str, *, top_k: int = 5) -> list[Any]:
        return []


def bot_lines(root: Path) -> int:
    """Lines of ``bot/**/*.py`` (what ``find bot -name '*.py' | xargs wc -l`` totals)."""
    return sum(len(p.read_bytes().splitlines()) for p in (root / "bot").rglob("*.py"))


async def _measure(data_dir: Path) -> dict[str, Tally]:
    import aiohttp
    from aiohttp import web

    from bot.slack import build_slack_app, mount_slack
    from bot.wiring import build_services
    from tests.slack.harness import SIGNING_SECRET, SlackHarness, SlackUser, slack_settings
    from tests.slack.mock_web_api import MockSlackApi
    from tests.slack.slack_requests import SlackSender, channel_message, event_envelope

    recorder = _Recorder()
    sys.setprofile(recorder.profile)
    threading.setprofile(recorder.profile)
    api = MockSlackApi()
    await api.start()
    # A long poll: only the turn itself wakes the inbox worker while measuring.
    settings = slack_settings(data_dir, api, inbox_poll_seconds=3600.0)
    services = build_services(settings, knowledge=_FixedKnowledge())  # type: ignore[arg-type]
    event.listen(services.database.engine, "begin", recorder.begin)
    slack_app = build_slack_app(settings, services)
    web_app = web.Application()
    mount_slack(web_app, slack_app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    results: dict[str, Tally] = {}
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"http://{host}:{port}/slack/events", SIGNING_SECRET, session)
        harness = SlackHarness(slack_app, sender)
        await SlackUser(harness, api, root=None).say("協議は必要ですか？")  # warm-up
        staff = SlackUser(harness, api)
        with recorder.measuring() as tally:
            [answer] = await staff.say("RFI とは何ですか？")
        results["dm question"] = tally
        assert "協議が必要です" in answer.body()
        with recorder.measuring() as tally:
            await staff.click("👍 役に立った")
        results["button press"] = tally
        posts = len(api.posts())
        chatter = channel_message(
            "お昼どうします？", user="U200", channel="C100", thread_ts="1700000000.000100"
        )
        with recorder.measuring() as tally:
            status, _ = await sender.event(event_envelope(chatter))
            await slack_app.drain()
        assert status == 200 and len(api.posts()) == posts
        results["thread chatter"] = tally
    sys.setprofile(None)
    threading.setprofile(None)  # type: ignore[arg-type]
    await runner.cleanup()
    await api.stop()
    services.database.dispose()
    return results


async def _ack_times(
    data_dir: Path, *, inline: bool, questions: int, answer_seconds: float
) -> tuple[list[float], list[float]]:
    """Without the profiler: per new DM question, ms from the signed request to Slack's
    200 (the ack), and to the reply posted."""
    import aiohttp
    from aiohttp import web

    from bot.slack import build_slack_app, mount_slack
    from bot.wiring import build_services
    from tests.slack.harness import SIGNING_SECRET, SlackHarness, SlackUser, slack_settings
    from tests.slack.mock_web_api import MockSlackApi
    from tests.slack.slack_requests import SlackSender, dm, event_envelope

    api = MockSlackApi()
    await api.start()
    settings = slack_settings(data_dir, api, inline_turns=inline)
    services = build_services(
        settings, knowledge=_FixedKnowledge(answer_seconds)  # type: ignore[arg-type]
    )
    slack_app = build_slack_app(settings, services)
    web_app = web.Application()
    mount_slack(web_app, slack_app)
    runner = web.AppRunner(web_app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    acks: list[float] = []
    replies: list[float] = []
    async with aiohttp.ClientSession() as session:
        sender = SlackSender(f"http://{host}:{port}/slack/events", SIGNING_SECRET, session)
        await SlackUser(SlackHarness(slack_app, sender), api, root=None).say("協議は必要ですか？")
        for _ in range(questions):
            posts = len(api.posts())
            started = time.perf_counter()
            status, _ = await sender.event(event_envelope(dm("RFI とは何ですか？")))
            acks.append((time.perf_counter() - started) * 1000)
            while len(api.posts()) == posts:
                await asyncio.sleep(0.001)
            replies.append((time.perf_counter() - started) * 1000)
            assert status == 200
            await slack_app.drain()
    await runner.cleanup()
    await api.stop()
    services.database.dispose()
    return acks, replies


def _ack_report(questions: int, answer_ms: float) -> None:
    print(f"\n{questions} new DM questions, answer {answer_ms:.0f} ms (ms: median / p95)")
    print(f"{'path':<22} {'to the ack':>14} {'to the reply':>14}")
    for inline in (False, True):
        with tempfile.TemporaryDirectory() as directory:
            acks, replies = asyncio.run(_ack_times(
                Path(directory), inline=inline, questions=questions,
                answer_seconds=answer_ms / 1000))
        name = "inline (before ack)" if inline else "stored, then worker"
        print(f"{name:<22} {_spread(acks):>14} {_spread(replies):>14}")


def _spread(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):.0f} / {p95:.0f}"


def main() -> None:
    if "--ack" in sys.argv:
        # python -m tests.measure_turn --ack [questions] [answer ms]
        rest = sys.argv[sys.argv.index("--ack") + 1:]
        _ack_report(int(rest[0]) if rest else 30, float(rest[1]) if len(rest) > 1 else 0.0)
        return
    with tempfile.TemporaryDirectory() as directory:
        results = asyncio.run(_measure(Path(directory)))
    print(
        f"{'turn':<16} {'transactions':>12} {'no polls':>8} {'in core':>8} {'modules':>8}"
        f" {'crossings':>10}"
    )
    for name, tally in results.items():
        polls = sum(o in _POLLS for o in tally.opened_by)
        print(
            f"{name:<16} {tally.transactions:>12} {tally.transactions - polls:>8}"
            f" {tally.in_core:>8} {len(tally.modules):>8} {tally.crossings:>10}"
        )
    print(f"bot/ lines: {bot_lines(Path.cwd())}")
    if "-v" in sys.argv:
        for name, tally in results.items():
            print(f"\n{name}: " + " → ".join(tally.modules))
            print("  transactions: " + ", ".join(tally.opened_by))


if __name__ == "__main__":
    main()
