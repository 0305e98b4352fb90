"""The length cap on what a user types: longer messages are cut before anything keeps them.

One rule for every channel: the core cuts the text of an :class:`Inbound` to
``SOUDAN_MESSAGE_MAX_CHARS`` before the turn is planned, answered or recorded, and the
reply says so in Japanese.

Example:
    >>> inbound = Inbound(channel="terminal", tenant="local", conversation="c",
    ...                   user_id="u", text="あ" * 5000)
    >>> capped, notice = cap_text(inbound, 4000)
    >>> len(capped.text or ""), notice is not None
    (4000, True)
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.messages import Inbound, Text

DEFAULT_MAX_CHARS = 4000


def cap_text(inbound: Inbound, max_chars: int | None) -> tuple[Inbound, Text | None]:
    """``inbound`` with its text cut to ``max_chars``, and the notice to show (or None)."""
    text = inbound.text
    if max_chars is None or text is None or len(text) <= max_chars:
        return inbound, None
    notice = Text(
        f"メッセージが長すぎるため、先頭の {max_chars:,} 文字だけを受け付けました"
        f"（{len(text):,} 文字のうち、残りは記録していません）。"
    )
    return replace(inbound, text=text[:max_chars]), notice
