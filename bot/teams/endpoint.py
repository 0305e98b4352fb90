"""``POST /api/messages``: authenticate, check the tenant, run the turn.

Responses:
    200  the activity is stored in the inbox (the answer follows as a proactive reply);
    400  the body is not an Activity; 415 not JSON;
    401  the Bot Framework token is missing, expired, badly signed or not for us;
    403  the sender's tenant is not in ``SOUDAN_TEAMS_TENANTS`` (recorded in the
         audit log; nothing is stored and the core is not called);
    500  the activity could not be stored (the Bot Connector delivers it again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection

from aiohttp import web
from botbuilder.core import CloudAdapterBase, serializer_helper
from botbuilder.schema import Activity
from botframework.connector.auth import BotFrameworkAuthentication

from bot.teams.bot import SoudanTeamsBot
from bot.teams.inbound import tenant_of, user_id_of
from bot.teams.records import TeamsRecords
from storage.audit import actor_key

log = logging.getLogger(__name__)


class MessagesEndpoint:
    """The aiohttp handler of the Bot Framework messaging endpoint.

    Args:
        adapter: runs the turn (botbuilder ``CloudAdapter``).
        authentication: validates the ``Authorization`` header.
        bot: the turn logic.
        records: where refused activities are recorded.
        allowed_tenants: tenant ids allowed to use the bot; empty allows every tenant.
    """

    def __init__(
        self,
        *,
        adapter: CloudAdapterBase,
        authentication: BotFrameworkAuthentication,
        bot: SoudanTeamsBot,
        records: TeamsRecords,
        allowed_tenants: Collection[str],
    ) -> None:
        self._adapter = adapter
        self._authentication = authentication
        self._bot = bot
        self._records = records
        self._allowed_tenants = frozenset(allowed_tenants)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.content_type != "application/json":
            return web.Response(status=415, text="expected application/json")
        try:
            body = await request.json()
            activity = Activity().deserialize(body)
        except Exception:
            return web.Response(status=400, text="not a Bot Framework activity")
        if not isinstance(activity, Activity) or not activity.type:
            return web.Response(status=400, text="not a Bot Framework activity")

        try:
            # botbuilder fetches the signing keys with blocking, timeout-less HTTP calls
            # (once a day); validate on a worker thread so a slow key server cannot
            # stall every other conversation on the event loop.
            authenticated = await asyncio.to_thread(
                asyncio.run,
                self._authentication.authenticate_request(
                    activity, request.headers.get("Authorization")
                ),
            )
        except Exception as exc:  # botbuilder raises PermissionError, jwt errors, ...
            log.warning("teams request rejected by authentication: %s", type(exc).__name__)
            return web.Response(status=401, text="unauthorized")

        tenant = tenant_of(activity)
        if self._allowed_tenants and tenant not in self._allowed_tenants:
            await asyncio.to_thread(
                self._records.record_refusal,
                tenant=tenant,
                actor=actor_key("teams", tenant, user_id_of(activity)),
                reason="tenant not allowed",
            )
            log.warning("teams activity refused: tenant not in SOUDAN_TEAMS_TENANTS")
            return web.Response(status=403, text="tenant not allowed")

        try:
            invoke_response = await self._adapter.process_activity(
                authenticated, activity, self._bot.on_turn
            )
        except Exception as exc:
            # Not stored (the database is down): no 200, so the Bot Connector retries.
            log.error("teams activity not accepted: %s", type(exc).__name__)
            return web.Response(status=500, text="not accepted, retry later")
        if invoke_response is not None:
            return web.json_response(
                data=serializer_helper(invoke_response.body), status=invoke_response.status
            )
        return web.Response(status=200)
