"""Posting to Slack outside a turn: review results, the weekly digest.

Example:
    >>> notifier = SlackNotifier(settings)                             # doctest: +SKIP
    >>> notifier.deliver(Address("slack", "T1", "C1:1700000000.000100"),
    ...                  [Text("相談シート R-2026-001 が受理されました。")])   # doctest: +SKIP
"""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from bot.core.messages import Address, DeliveryError, Notifier, Part
from bot.settings import Settings
from bot.slack.blocks import forms_of, render_form_opener, render_messages
from bot.slack.transport import RATE_LIMIT_RETRIES, api_base_url


class SlackNotifier(Notifier):
    """:class:`Notifier` for Slack (synchronous; the review workflow calls it).

    ``Address.conversation`` is ``"{channel}:{thread_ts}"`` (post in that thread)
    or ``"{channel}"`` (post at the top of a channel, e.g. the digest channel);
    with no conversation and a ``user_id`` the post goes to a DM with the user.

    Args:
        settings: bot token and ``slack_api_base_url``.
        client: a ready client instead (tests, a shared client).
    """

    channel = "slack"

    def __init__(self, settings: Settings, client: WebClient | None = None) -> None:
        if client is None:
            token = settings.slack_bot_token
            client = WebClient(
                token=token.get_secret_value() if token is not None else None,
                base_url=api_base_url(settings),
                retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
            )
        self._client = client

    def deliver(self, address: Address, parts: list[Part]) -> None:
        """Post ``parts`` to ``address``.

        Raises:
            DeliveryError: Slack refused or could not be reached; nothing was lost
                silently, the caller may retry.
        """
        messages = render_messages(parts) + [render_form_opener(f) for f in forms_of(parts)]
        try:
            channel, thread_ts = self._where(address)
            for message in messages:
                self._client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread_ts,
                    text=message.text,
                    blocks=message.blocks or None,
                    unfurl_links=False,
                    unfurl_media=False,
                )
        except SlackApiError as exc:
            raise DeliveryError(f"Slack refused the post: {exc.response.get('error')}") from exc
        except OSError as exc:
            raise DeliveryError(f"Slack could not be reached: {type(exc).__name__}") from exc

    def _where(self, address: Address) -> tuple[str, str | None]:
        if address.conversation:
            channel, _, thread_ts = address.conversation.partition(":")
            return channel, thread_ts or None
        if address.user_id is None:
            raise DeliveryError("the address has neither a conversation nor a user")
        response = self._client.conversations_open(users=address.user_id)
        return str(response["channel"]["id"]), None
