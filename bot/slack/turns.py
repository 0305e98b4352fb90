"""Running one turn: acknowledge in Slack, ask the core, post what it says.

The order is fixed so that a user never faces silence: first a visible sign that
the request arrived (a 👀 reaction on their message, the clicked button marked, or
a 「確認しています…」 placeholder), then the core's answer (replacing the
placeholder), or a Japanese error message if anything failed. A failure after the
core applied the turn says that the input was received (sending it again would
answer the next question) and how to see the current question.

The runner is the Slack :class:`~bot.core.inbox.Courier`: the listeners only store
the turn in the durable inbox before Slack is acknowledged; the inbox's worker hands
each stored turn here, also after a crash (on any replica). The turn is applied once
(:meth:`~bot.core.inbox.InboxTurn.apply`); a turn taken over after a crash reuses the
placeholder the first attempt posted, gets the stored reply when it was applied
already, and always has its 👀 removed.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.core.assistant import TurnReceipt
from bot.core.inbox import InboxTurn, Outcome
from bot.core.messages import ERROR_TEXT, Form, Inbound, Part
from bot.slack.blocks import (
    SlackMessage,
    forms_of,
    render_form_opener,
    render_home,
    render_messages,
    render_modal,
)
from bot.slack.files import SlackFiles
from bot.slack.payloads import Clicked, Thread, Turn, form_metadata, restore_turn
from bot.slack.people import LOOKUP_TIMEOUT_SECONDS, SlackDirectory

log = logging.getLogger(__name__)

PLACEHOLDER_TEXT = "確認しています…"
RECEIVED_TEXT = (
    "入力は受け付けましたが、返信を表示できませんでした。"
    "「続きから」と送ると、今の質問をもう一度表示します。"
)
"""After the core applied the turn: sending the same text again would answer the next step."""
NOT_IN_CHANNEL_TEXT = (
    "soudan はこのチャンネルに参加していないため、ここには返信できません。"
    "`/invite @soudan` で招待するか、soudan との DM でもう一度お試しください。"
)
WORKING_REACTION = "eyes"
INLINE_LOOKUP_SECONDS = 1.0
"""How long a turn applied before the ack waits for the sender's display name."""
_NOT_A_MEMBER = ("not_in_channel", "channel_not_found", "is_archived")


class ConversationCore(Protocol):
    """What the adapter needs from ``bot.core.assistant.Assistant``."""

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]: ...

    def home(self, *, channel: str, tenant: str, user_id: str) -> list[Part]: ...


class TurnRunner:
    """Carries stored turns between Slack and the core (the inbox's Slack courier).

    Args:
        core: the conversation core (``Assistant``).
        directory: the display-name look-up the core calls while it has no name recorded.
        client: the Web API client of the app.
    """

    def __init__(
        self, core: ConversationCore, directory: SlackDirectory, client: AsyncWebClient
    ) -> None:
        self._core = core
        self._directory = directory
        self._client = client
        self._files = SlackFiles(client)

    async def run(self, work: InboxTurn) -> None:
        """Acknowledge the stored turn visibly, apply it once and post the reply.

        A turn flagged ``only_in_active_flow`` (a channel-thread reply without a
        mention) shows nothing before the core answers: the core answers nothing when
        the sender does not run the consultation in the thread, and then nothing is
        shown at all.
        """
        client = self._client
        turn = restore_turn(work.inbound, work.delivery)
        quiet = turn.only_in_active_flow
        thread = turn.thread
        reacted = False
        applied = work.applied_on_arrival
        placeholder: str | None = work.delivery.get("placeholder")
        try:
            if not quiet:
                if turn.clicked is not None:
                    await self._show_click(client, turn.clicked)
                if thread.channel is None:
                    thread = Thread(await self._open_dm(client, turn.user_id))
                if turn.react_to is not None:
                    reacted = await self._react(client, thread, turn.react_to)
                elif placeholder is None and (turn.clicked is None or thread.root_ts is None):
                    placeholder = await self._post(
                        client, thread, SlackMessage(PLACEHOLDER_TEXT, [])
                    )
                    thread = Thread(thread.channel, thread.root_ts or placeholder)
                    # A worker taking over after a crash answers in this thread, not a new one.
                    await work.remember(thread=[thread.channel, thread.root_ts],
                                        placeholder=placeholder)
            parts = await work.apply(self._core_inbound(turn, thread))
            if work.outcome is Outcome.LOST:
                reacted = False  # the worker that holds it now answers and tidies up
                return
            if quiet:
                if not parts:
                    return  # not for the app: people talking among themselves
                if turn.react_to is not None:
                    reacted = await self._react(client, thread, turn.react_to)
            applied = True
            messages = await self._messages(client, thread, parts, turn.trigger_id)
            if placeholder is not None:
                await self._replace(client, thread, placeholder,
                                    messages.pop(0) if messages else None)
                placeholder = None  # it shows the answer now; an apology must not replace it
            for message in messages:
                await self._post(client, thread, message)
        except Exception as exc:
            # Type and frames only: the message of an exception may quote what the user wrote.
            log.error(
                "slack turn failed %s: %s\n%s",
                "after the core applied it" if applied else "before the core applied it",
                type(exc).__name__,
                "".join(traceback.format_tb(exc.__traceback__)),
            )
            if quiet and not applied:
                return  # not known to be for the app: stay silent rather than answer a bystander
            apology = RECEIVED_TEXT if applied else ERROR_TEXT
            await self._apologise(client, thread, placeholder, exc, turn.response_url, apology)
        finally:
            if reacted:
                await self._unreact(client, thread, turn.react_to)

    def ready(self, turn: Turn) -> Inbound | None:
        """The core's inbound for ``turn`` when Slack need not be asked anything before
        the turn — its thread is known (no DM to open, no placeholder to start one) and
        no file is shared — so the inbox may apply it before Slack is acknowledged."""
        thread = turn.thread
        if thread.channel is None or thread.root_ts is None or turn.attachment is not None:
            return None
        # Slack waits 3 s for the ack: a slow name look-up gives up (asked again next turn).
        return self._core_inbound(turn, thread, lookup_seconds=INLINE_LOOKUP_SECONDS)

    def _core_inbound(
        self, turn: Turn, thread: Thread, *, lookup_seconds: float = LOOKUP_TIMEOUT_SECONDS
    ) -> Inbound:
        """The inbound the core applies: in ``thread``, the display-name look-up bound
        (the core calls it only while it has no name recorded; not for a thread reply
        that may be a bystander's), a shared file's download bound."""
        find_name = None if turn.only_in_active_flow else self._directory.finder(
            turn.user_id, timeout=lookup_seconds)
        inbound = replace(turn.inbound(thread, None), find_name=find_name)
        return self._with_download(inbound)

    def _with_download(self, inbound: Inbound) -> Inbound:
        """The inbound with its shared file's download bound (the core asks for it
        only after the file's name and size passed)."""
        attachment = inbound.attachment
        if attachment is None:
            return inbound
        fetch = self._files.fetcher(attachment.source)
        return replace(inbound, attachment=replace(attachment, fetch=fetch))

    async def publish_home(self, client: AsyncWebClient, tenant: str, user_id: str) -> None:
        """Publish the App Home tab: the user's 相談シート as the core lists them."""
        parts = await asyncio.to_thread(
            partial(self._core.home, channel="slack", tenant=tenant, user_id=user_id)
        )
        await client.views_publish(user_id=user_id, view=render_home(parts))

    # --- delivering -------------------------------------------------------------------------

    async def _messages(
        self, client: AsyncWebClient, thread: Thread, parts: Sequence[Part],
        trigger_id: str | None,
    ) -> list[SlackMessage]:
        """The messages that show ``parts``; forms open as modals where Slack allows it."""
        messages = render_messages(parts)
        for form in forms_of(parts):
            # A modal opens only within 3 s of the click; else a message stands in for it.
            metadata = form_metadata(form.submit, thread)
            if not (trigger_id and await self._open_modal(client, trigger_id, form, metadata)):
                messages.append(render_form_opener(form))
        return messages

    async def _replace(
        self, client: AsyncWebClient, thread: Thread, placeholder: str,
        message: SlackMessage | None,
    ) -> None:
        """Show ``message`` in place of the placeholder, or delete it when there is none."""
        channel = thread.channel or ""
        if message is None:
            await client.chat_delete(channel=channel, ts=placeholder)
        else:
            await client.chat_update(
                channel=channel, ts=placeholder, text=message.text, blocks=message.blocks
            )

    async def _post(self, client: AsyncWebClient, thread: Thread, message: SlackMessage) -> str:
        response = await client.chat_postMessage(
            channel=thread.channel or "",
            thread_ts=thread.root_ts,
            text=message.text,
            blocks=message.blocks or None,
            unfurl_links=False,
            unfurl_media=False,
        )
        return str(response["ts"])

    async def _open_modal(
        self, client: AsyncWebClient, trigger_id: str, form: Form, metadata: str
    ) -> bool:
        try:
            await client.views_open(
                trigger_id=trigger_id, view=render_modal(form, private_metadata=metadata)
            )
        except SlackApiError as exc:
            log.info("views.open failed (%s); posting a button instead", exc.response.get("error"))
            return False
        return True

    async def _apologise(
        self,
        client: AsyncWebClient,
        thread: Thread,
        placeholder: str | None,
        exc: Exception,
        response_url: str | None,
        apology: str,
    ) -> None:
        """Tell the user what happened: ``apology`` in the thread, else privately."""
        not_a_member = (
            isinstance(exc, SlackApiError) and exc.response.get("error") in _NOT_A_MEMBER
        )
        if not not_a_member and thread.channel is not None:
            try:
                if placeholder is not None:
                    await client.chat_update(
                        channel=thread.channel, ts=placeholder, text=apology
                    )
                else:
                    await self._post(client, thread, SlackMessage(apology, []))
                return
            except SlackApiError as error:
                log.error("could not post the error message: %s", error.response.get("error"))
        if response_url is None:
            return
        # Only the user sees this, and it needs no channel membership.
        webhook = AsyncWebhookClient(response_url, retry_handlers=client.retry_handlers)
        try:
            response = await webhook.send(
                text=NOT_IN_CHANNEL_TEXT if not_a_member else apology,
                response_type="ephemeral",
            )
        except Exception as error:
            log.error("could not answer through response_url: %s", type(error).__name__)
            return
        if response.status_code != 200:
            log.error("could not answer through response_url: HTTP %s", response.status_code)

    # --- small Slack calls whose failure must not stop the answer --------------------------

    async def _show_click(self, client: AsyncWebClient, clicked: Clicked) -> None:
        try:
            await client.chat_update(
                channel=clicked.channel, ts=clicked.ts, text=clicked.text, blocks=clicked.blocks
            )
        except SlackApiError as exc:
            log.info("could not mark the click: %s", exc.response.get("error"))

    async def _open_dm(self, client: AsyncWebClient, user_id: str) -> str:
        response = await client.conversations_open(users=user_id)
        return str(response["channel"]["id"])

    async def _react(self, client: AsyncWebClient, thread: Thread, ts: str) -> bool:
        try:
            await client.reactions_add(channel=thread.channel or "", timestamp=ts,
                                       name=WORKING_REACTION)
        except SlackApiError as exc:
            # already_reacted: an attempt that crashed added it; this one removes it.
            # (Only one worker holds a stored turn at a time.)
            error = exc.response.get("error")
            log.debug("reactions.add: %s", error)
            return error == "already_reacted"
        return True

    async def _unreact(self, client: AsyncWebClient, thread: Thread, ts: str | None) -> None:
        try:
            await client.reactions_remove(channel=thread.channel or "", timestamp=ts or "",
                                          name=WORKING_REACTION)
        except SlackApiError as exc:
            log.debug("reactions.remove: %s", exc.response.get("error"))
