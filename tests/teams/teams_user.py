"""A Teams user for scenario tests: types, presses card buttons, reads what came back."""

from __future__ import annotations

from typing import Any

from tests.teams.activities import PERSONAL_CONVERSATION, message, submit_of
from tests.teams.connector import ConnectorCall, MockConnector
from tests.teams.running_bot import RunningBot


def shown_text(calls: list[ConnectorCall]) -> str:
    """Everything a person would read in ``calls``: message text, card text, facts."""
    lines: list[str] = []
    for call in calls:
        if call.text:
            lines.append(call.text)
        for card in call.cards:
            for element in card.get("body") or []:
                if element.get("type") == "TextBlock":
                    lines.append(element["text"])
                elif element.get("type") == "FactSet":
                    lines += [f"{fact['title']}: {fact['value']}" for fact in element["facts"]]
                elif element.get("type") == "Input.Text":
                    lines.append(f"{element['label']}: {element['value']}")
    return "\n".join(lines)


class TeamsUser:
    """One person in one Teams conversation, talking to the bot over the real endpoint."""

    def __init__(
        self,
        running: RunningBot,
        connector: MockConnector,
        *,
        conversation: str = PERSONAL_CONVERSATION,
        mention_bot: bool = False,
    ) -> None:
        self._running = running
        self._connector = connector
        self._conversation = conversation
        self._mention_bot = mention_bot
        self.replies: list[ConnectorCall] = []
        """What the bot posted in answer to the last thing this user did."""

    async def says(self, text: str) -> str:
        """Type ``text``; returns what the bot showed in reply."""
        return await self._send(text=text)

    async def presses(self, title: str, *, on: dict[str, Any] | None = None, **inputs: str) -> str:
        """Press the newest button titled ``title`` (on the card ``on`` if given).

        ``inputs`` are what the user typed into the card's fields; Teams sends them
        along with the button's data.
        """
        cards = [on] if on is not None else self.cards()
        for card in reversed(cards):
            try:
                value = submit_of(card, title, **inputs)
            except AssertionError:
                continue
            return await self._send(value=value)
        raise AssertionError(f"no button {title!r} in the last reply:\n{shown_text(self.replies)}")

    def cards(self) -> list[dict[str, Any]]:
        return [card for call in self.replies for card in call.cards]

    async def _send(self, text: str | None = None, value: dict[str, Any] | None = None) -> str:
        before = len(self._connector.messages(self._conversation))
        activity = message(
            self._connector.service_url,
            text,
            value=value,
            conversation=self._conversation,
            mention_bot=self._mention_bot and text is not None,
        )
        await self._running.turn(activity)
        self.replies = self._connector.messages(self._conversation)[before:]
        assert all(call.reply_to == activity["id"] for call in self.replies)
        return shown_text(self.replies)
