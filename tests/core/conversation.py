"""A conversation with the real core, written like a script: ``say`` / ``click`` / ``expect``."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.chat import render_lines
from bot.core.assistant import Assistant
from bot.core.messages import Action, Choices, Form, Inbound, Part

_ids = itertools.count(1)


@dataclass
class Conversation:
    """One user in one conversation (a Slack thread, a Teams reply chain, a terminal)."""

    assistant: Assistant
    conversation: str = "thread-1"
    user_id: str = "U-yamada"
    user_name: str = "山田 花子"
    tenant: str = "T-kisarazu"
    channel: str = "terminal"
    last: list[Part] = field(default_factory=list)

    def send(self, inbound: Inbound) -> list[Part]:
        self.last = self.assistant.handle(inbound)
        return self.last

    def inbound(self, **fields: object) -> Inbound:
        values: dict[str, object] = {
            "channel": self.channel, "tenant": self.tenant, "conversation": self.conversation,
            "user_id": self.user_id, "user_name": self.user_name,
            "inbound_id": f"delivery-{next(_ids)}",
        }
        values.update(fields)
        return Inbound(**values)  # type: ignore[arg-type]

    def say(self, text: str, **fields: object) -> list[Part]:
        return self.send(self.inbound(text=text, **fields))

    def click(self, label: str) -> list[Part]:
        """Press the button labelled ``label`` among the last reply's buttons."""
        return self.send(self.inbound(action=self.button(label)))

    def submit_form(self, **changes: str) -> list[Part]:
        form = next(p for p in self.last if isinstance(p, Form))
        values = {f.name: f.value for f in form.fields}
        values.update(changes)
        return self.send(self.inbound(action=form.submit, form=values))

    def button(self, label: str) -> Action:
        for part in self.last:
            if isinstance(part, Choices):
                for choice in part.options:
                    if choice.label == label:
                        return choice.action
        raise AssertionError(f"no button {label!r} in:\n{self.text}")

    @property
    def text(self) -> str:
        return render(self.last)


def render(parts: Sequence[Part]) -> str:
    return "\n".join(line for part in parts for line in render_lines(part))
