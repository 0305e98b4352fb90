"""Small stand-ins for the conversation core, injected through ``mount_teams(assistant=...)``."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from bot.core.assistant import TurnReceipt
from bot.core.messages import Address, Inbound, Part, Text
from bot.teams.bot import Assistant
from knowledge.types import Answer, Hit, Passage


class RecordingAssistant:
    """Answers every turn with one text and remembers what it was given."""

    def __init__(self) -> None:
        self.inbounds: list[Inbound] = []

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        self.inbounds.append(inbound)
        return [Text(f"受け付けました: {inbound.text or inbound.action}")]


class BrokenAssistant:
    """A core that fails, as a database outage would make it."""

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        raise RuntimeError(f"database unavailable while handling {inbound.text}")


class GatedAssistant:
    """Wraps a core and holds every turn until :meth:`open` is called (a slow answer)."""

    def __init__(self, inner: Assistant) -> None:
        self._inner = inner
        self._gate = threading.Event()
        self.entered = threading.Event()

    def open(self) -> None:
        self._gate.set()

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        self.entered.set()
        if not self._gate.wait(timeout=60):
            raise TimeoutError("the test never opened the gate")
        return self._inner.handle(inbound, receipt=receipt)


RFI_PASSAGES = (
    Passage(
        id="kisarazu:rfi:1",
        doc="kisarazu-ict-guideline.md",
        title="木更津市 ICT活用ガイドライン（案）",
        section="【Ⅱ. 予算】 > 1. 所管課概要案の作成 > （1）情報提供招請（RFI）を行う場合",
        text="RFI とは、新たに ICT 活用を検討する業務や ICT 活用に必要な基礎情報が不足している場合に行うものである。",
    ),
    Passage(
        id="kisarazu:rfi:2",
        doc="kisarazu-ict-guideline.md",
        title="木更津市 ICT活用ガイドライン（案）",
        section="【Ⅱ. 予算】 > 1. 所管課概要案の作成 > （1）情報提供招請（RFI）を行う場合 > 1.1",
        text="RFI では、見積書、提案のコンセプト及び実施方法などについて事業者へ回答を求める。",
    ),
)


class GuidelineExcerpts:
    """The knowledge side reduced to two real guideline passages about RFI.

    The Teams tests exercise the adapter and the real core; retrieval quality is the
    knowledge package's own tests' business, and loading the embedding model here
    would only slow the suite down.
    """

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Answer:
        if "RFI" not in question.upper():
            return Answer(question, False, "ガイドラインには記載が見当たりません。")
        return Answer(
            question,
            True,
            "RFI（情報提供招請）は、新たに ICT 活用を検討する業務や基礎情報が不足している場合に行います。",
            RFI_PASSAGES,
        )

    def search(self, question: str, *, top_k: int = 5) -> list[Hit]:
        return [Hit(passage, 1.0) for passage in RFI_PASSAGES[:top_k] if "RFI" in question.upper()]


class UnwritableRecords:
    """Conversation-reference storage that is down (every write fails)."""

    def save_reference(self, **_: object) -> None:
        raise ConnectionError("database is down")

    def find_reference(self, address: Address) -> dict[str, Any] | None:
        return None

    def record_refusal(self, **_: object) -> None:
        raise ConnectionError("database is down")


class ConcurrencyProbe:
    """Wraps a core and records how many turns were inside it at once."""

    def __init__(self, inner: Assistant) -> None:
        self._inner = inner
        self._lock = threading.Lock()
        self._inside = 0
        self.most_at_once = 0

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        with self._lock:
            self._inside += 1
            self.most_at_once = max(self.most_at_once, self._inside)
        try:
            return self._inner.handle(inbound, receipt=receipt)
        finally:
            with self._lock:
                self._inside -= 1
