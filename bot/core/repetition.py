"""Quiet under repetition: the one rule for inputs that no longer mean anything.

After a consultation moved on (submitted, cancelled, moved to another conversation),
people press its old buttons again and type its words again (「確定」 thirty times).
Such a turn is *stale*:

* a flow word typed while the sender runs no consultation in this conversation
  (「確定」「はい」「戻る」「やめる」「2」 …, see :func:`is_flow_word`): it is never a
  guideline question, so it is never recorded as one (no unanswered-question rows in
  the digest);
* a press of a consultation button whose consultation is over or elsewhere;
* 「相談を始める」 (typed or pressed) while the sender's consultation already runs here.

The reply to a stale turn is sent at most once per ``window`` per conversation; the
others get no reply at all. The rule holds across replicas: the right to reply is
claimed in the database (an ``inbound_receipt`` row per conversation and time slot)
inside the turn's own transaction.

Example:
    >>> is_flow_word("確定"), is_flow_word("２"), is_flow_word("確定申告とは？")
    (True, True, False)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

import storage
from bot.core.commands import Command, parse_command
from bot.core.messages import Inbound, Part
from flows.answer_reading import BACK_WORDS, SUBMIT_WORDS
from flows.parsing.normalize import normalize_answer
from flows.parsing.yes_no import parse_yes_no

DEFAULT_WINDOW_SECONDS = 10.0

_FLOW_COMMANDS = (Command.SUBMIT, Command.BACK, Command.CANCEL)
_CHOICE_NUMBER = re.compile(r"^\d{1,2}$")


def is_flow_word(text: str) -> bool:
    """Whether ``text`` only makes sense as an answer to, or a command in, a consultation.

    「確定」「この内容で確定する」「はい」「いいえ」「戻る」「やめる」「提出」, or a bare
    choice number: never a question about the guidelines.
    """
    if parse_command(text) in _FLOW_COMMANDS:
        return True
    word = normalize_answer(text)
    if not word:
        return False
    return (
        word in SUBMIT_WORDS
        or word in BACK_WORDS
        or _CHOICE_NUMBER.match(word) is not None
        or parse_yes_no(text) is not None
    )


class RepeatGuard:
    """Lets one stale reply per conversation through per ``window``.

    Args:
        window: the quiet period after a stale reply (``SOUDAN_REPEAT_REPLY_SECONDS``).
        clock: the current time (UTC); inject a fake one in tests.
    """

    def __init__(
        self, window: timedelta, clock: Callable[[], datetime] | None = None
    ) -> None:
        self.window = window
        self.clock = clock or (lambda: datetime.now(UTC))

    def reply(self, session: Session, inbound: Inbound, parts: list[Part]) -> list[Part]:
        """``parts`` when this conversation had no stale reply in the window, else ``[]``.

        Call inside the turn's transaction: if the turn rolls back, so does the claim.
        """
        seconds = self.window.total_seconds()
        if seconds <= 0:
            return parts
        now = self.clock()
        slot = int(now.timestamp() // seconds)
        if not storage.claim_inbound(session=session, key=self._key(inbound, slot), now=now):
            return []  # this slot already had its reply (or its quiet claim)
        previous = session.get(storage.InboundReceipt, self._key(inbound, slot - 1))
        if previous is not None and _utc(previous.received_at) > now - self.window:
            # The slot before replied less than a window ago: stay quiet, and keep this
            # slot's claim so that the rest of the slot stays quiet too.
            return []
        return parts

    @staticmethod
    def _key(inbound: Inbound, slot: int) -> str:
        where = f"{inbound.channel}\x1f{inbound.tenant}\x1f{inbound.conversation}"
        digest = hashlib.sha256(where.encode("utf-8", "surrogatepass")).hexdigest()[:32]
        return f"quiet:{digest}:{slot}"


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
