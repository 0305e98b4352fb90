"""Carrying a core :class:`~bot.core.messages.Action` through a Slack button.

Slack gives a clicked button back with its ``action_id`` and ``value``. The value
holds the whole action as compact JSON, so a click needs no server-side state and
any replica can take it. The ``action_id`` only has to be unique within a message.

Example:
    >>> from bot.core.messages import Action
    >>> decode_action(encode_action(Action("feedback", "up", "a1")))
    Action(kind='feedback', value='up', ref='a1')
"""

from __future__ import annotations

import json
import re

from bot.core.messages import Action

ACTION_ID_PREFIX = "soudan."
ACTION_ID_PATTERN = re.compile(r"^soudan\.")
"""Matches every button this app renders (bolt listener constraint)."""

_MAX_VALUE_CHARS = 2000  # Slack's limit for a button value


def encode_action(action: Action) -> str:
    """Serialise ``action`` into a button ``value`` (at most 2,000 characters).

    Raises:
        ValueError: the action does not fit into a Slack button.
    """
    payload: dict[str, str] = {"k": action.kind, "v": action.value}
    if action.ref is not None:
        payload["r"] = action.ref
    value = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    if len(value) > _MAX_VALUE_CHARS:
        raise ValueError(f"action {action.kind!r} is too long for a Slack button value")
    return value


def decode_action(value: str) -> Action:
    """Turn a button ``value`` produced by :func:`encode_action` back into an action.

    Raises:
        ValueError: the value was not produced by this app.
    """
    try:
        payload = json.loads(value)
        return Action(kind=str(payload["k"]), value=str(payload.get("v", "")), ref=payload.get("r"))
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ValueError("not a soudan button value") from exc


def action_id(kind: str, index: int) -> str:
    """Block Kit ``action_id`` for the ``index``-th button of a message."""
    return f"{ACTION_ID_PREFIX}{kind}.{index}"
