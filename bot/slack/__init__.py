"""Slack channel: a thin bolt adapter over the conversation core.

Slack payloads become :class:`bot.core.messages.Inbound`; the core's parts become
Block Kit. Both connection modes share one bolt app.

Example (what ``soudan serve`` does):
    >>> slack_app = build_slack_app(settings, services)      # doctest: +SKIP
    >>> if settings.slack_app_token:                         # doctest: +SKIP
    ...     handler = await start_socket_mode(slack_app, settings)
    ... else:
    ...     mount_slack(web_app, slack_app)
"""

from bot.slack.app import SlackApp, build_slack_app
from bot.slack.notifier import SlackNotifier
from bot.slack.transport import EVENTS_PATH, build_web_client, mount_slack, start_socket_mode

__all__ = [
    "EVENTS_PATH",
    "SlackApp",
    "SlackNotifier",
    "build_slack_app",
    "build_web_client",
    "mount_slack",
    "start_socket_mode",
]
