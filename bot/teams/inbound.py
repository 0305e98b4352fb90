"""Teams Activity -> the core's neutral :class:`~bot.core.messages.Inbound`.

Typed text becomes ``Inbound.text`` (the bot's own @mention removed); an Adaptive
Card ``Action.Submit`` arrives as a message whose ``value`` holds the button's
:class:`~bot.core.messages.Action` under :data:`ACTION_KEY` and the card's input
values beside it, and becomes ``Inbound.action`` + ``Inbound.form``.

Example:
    >>> to_inbound(Activity(type="message", id="a1", text="RFI とは？", ...))  # doctest: +SKIP
    Inbound(channel='teams', tenant='<tenant id>', conversation='a:1...', text='RFI とは？', ...)
"""

from __future__ import annotations

from typing import Any

from botbuilder.schema import Activity, ActivityTypes

from bot.core.messages import Action, Attachment, Inbound

ACTION_KEY = "soudan"
"""Key of the :class:`Action` inside an ``Action.Submit`` data object."""

FILE_DOWNLOAD_INFO = "application/vnd.microsoft.teams.file.download.info"
"""A file shared in a personal chat: ``content.downloadUrl`` is a short-lived download link."""
_NOT_FILES = ("text/html", "application/vnd.microsoft.card.")
"""Attachments that are the message itself or a card, not a shared file."""

LOCAL_TENANT = "local"
"""Tenant of activities that carry none (Bot Framework Emulator)."""


def tenant_of(activity: Activity) -> str:
    """The Microsoft Entra tenant id of the activity's sender, or :data:`LOCAL_TENANT`."""
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    if isinstance(tenant, dict) and tenant.get("id"):
        return str(tenant["id"])
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    return LOCAL_TENANT


GUEST_ROLES = ("guest", "anonymous")
"""``from.userRole`` values of senders who are not members of the tenant's directory."""


def home_tenant_of(activity: Activity, tenant: str) -> str | None:
    """The sender's own Azure AD tenant when the activity reports one other than ``tenant``.

    Teams reports it as ``from.tenantId`` for a user of another organisation (a shared
    channel, a cross-tenant chat). A sender marked ``from.userRole`` guest or anonymous
    whose own tenant is not reported gets that role instead (``"guest"``), so that the
    policy treats them as outside unless ``SOUDAN_TEAMS_ALLOWED_TENANTS`` lists it.
    ``None``: the sender belongs to ``tenant``.

    Example:
        >>> activity = Activity().deserialize({"type": "message", "from": {
        ...     "id": "29:x", "tenantId": "other"}})
        >>> home_tenant_of(activity, "mine"), home_tenant_of(activity, "other")
        ('other', None)
    """
    sender = activity.from_property
    extra = (sender.additional_properties or {}) if sender is not None else {}
    reported = extra.get("tenantId")
    if isinstance(reported, str) and reported:
        return None if reported == tenant else reported
    role = extra.get("userRole")
    if isinstance(role, str) and role.lower() in GUEST_ROLES:
        return role.lower()
    return None


def user_id_of(activity: Activity) -> str:
    """The sender's AAD object id (stable across Teams clients), else the channel user id."""
    sender = activity.from_property
    if sender is None:
        return ""
    return str(sender.aad_object_id or sender.id or "")


def action_of(data: object) -> Action | None:
    """The :class:`Action` a card button carried, or ``None`` if ``data`` is not ours."""
    if not isinstance(data, dict):
        return None
    payload = data.get(ACTION_KEY)
    if not isinstance(payload, dict) or not isinstance(payload.get("kind"), str):
        return None
    ref = payload.get("ref")
    return Action(
        kind=payload["kind"],
        value=str(payload.get("value") or ""),
        ref=str(ref) if ref is not None else None,
    )


def form_of(data: dict[str, Any]) -> dict[str, str] | None:
    """The card's input values (everything in the submit data except our action)."""
    fields = {
        str(name): "" if value is None else str(value)
        for name, value in data.items()
        if name != ACTION_KEY and name != "msteams"
    }
    return fields or None


def text_without_bot_mention(activity: Activity) -> str:
    """The typed text with the bot's own ``<at>soudan</at>`` mention removed."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient is not None else None
    for entity in activity.entities or []:
        properties = entity.additional_properties or {}
        mentioned = properties.get("mentioned") or {}
        if entity.type == "mention" and mentioned.get("id") == bot_id and properties.get("text"):
            text = text.replace(str(properties["text"]), " ")
    # Teams writes "<at>soudan</at>&nbsp;質問" for channel mentions.
    return text.replace("&nbsp;", " ").strip()


def attachment_of(activity: Activity) -> Attachment | None:
    """The first file shared with the message: a ``file.download.info`` attachment (its
    ``downloadUrl``) or another attachment with a ``contentUrl``. Teams reports no size."""
    for item in activity.attachments or []:
        content_type = str(item.content_type or "")
        content = item.content if isinstance(item.content, dict) else {}
        if content_type == FILE_DOWNLOAD_INFO and isinstance(content.get("downloadUrl"), str):
            file_type = str(content.get("fileType") or "")
            name = str(item.name or (f"ファイル.{file_type}" if file_type else "ファイル"))
            return Attachment(
                name=name, size=None, media_type=content_type, source=content["downloadUrl"]
            )
        if item.content_url and not content_type.startswith(_NOT_FILES):
            return Attachment(
                name=str(item.name or "ファイル"),
                size=None,
                media_type=content_type,
                source=str(item.content_url),
            )
    return None


def to_inbound(activity: Activity) -> Inbound | None:
    """The neutral inbound message for a Teams message activity.

    Returns ``None`` for activities that carry nothing for the core (other activity
    types, an empty message, a submit from a card that is not ours).
    """
    if activity.type != ActivityTypes.message or activity.conversation is None:
        return None
    tenant = tenant_of(activity)
    common: dict[str, Any] = {
        "channel": "teams",
        "tenant": tenant,
        "home_tenant": home_tenant_of(activity, tenant),
        "conversation": str(activity.conversation.id),
        "user_id": user_id_of(activity),
        "user_name": activity.from_property.name if activity.from_property else None,
        "inbound_id": activity.id,
    }
    if activity.value is not None:
        action = action_of(activity.value)
        if action is None:
            return None
        assert isinstance(activity.value, dict)  # action_of checked it
        return Inbound(**common, action=action, form=form_of(activity.value))
    text = text_without_bot_mention(activity)
    attachment = attachment_of(activity)
    if attachment is not None:
        return Inbound(**common, text=text or None, attachment=attachment)
    if not text:
        return None
    return Inbound(**common, text=text)
