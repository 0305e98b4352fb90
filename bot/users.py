"""利用者の登録 (user directory): roles and departments, managed by an admin.

Used by ``soudan users …`` and by administrators in chat; every method names the
administrator acting (``operator``). At the shell that is the OS user
(:func:`bot.cli.acting.os_operator`, ``cli:local:<OS user>``, as for ``soudan admin …``:
shell access to the server is the administrator's, and the first administrator is
registered this way). Every change, allowed or denied, writes one audit row.

A department set here by an administrator (add, set-department, import) is
confirmed; a department a user declared in chat is pending until an administrator
confirms it (:meth:`UserDirectory.confirm_department`).

YAML import format::

    users:
      - channel: slack          # slack | teams | terminal | web | cli
        tenant: T0123ABCD       # Slack team id / Teams tenant id / local
        user_id: U0123ABCD
        name: 木更津 花子        # optional
        role: reviewer          # staff | reviewer | admin (default staff)
        department: 経営改革課   # required for staff
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast, get_args

import yaml

from bot.core.messages import ChannelName
from bot.core.policy import AccessGate, decide
from bot.review.outcomes import ReviewRefused
from bot.review.records import ROLES, Actor, Role
from bot.review.store import ReviewStore

CHANNELS: tuple[str, ...] = get_args(ChannelName)


class UserFileError(ValueError):
    """The users YAML file cannot be imported; the message says where and why (Japanese)."""


@dataclass(frozen=True)
class UserEntry:
    channel: ChannelName
    tenant: str
    user_id: str
    role: Role = "staff"
    department: str | None = None
    display_name: str | None = None


def parse_user_key(text: str) -> tuple[ChannelName, str, str] | None:
    """``slack:T1:U1`` -> ``("slack", "T1", "U1")``; None when not in that form."""
    parts = text.split(":", 2)
    if len(parts) == 3 and parts[0] in CHANNELS and all(parts):
        return cast(ChannelName, parts[0]), parts[1], parts[2]
    return None


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise ReviewRefused(f"役割は {' / '.join(ROLES)} のいずれかを指定してください: {role}")
    return cast(Role, role)


class UserDirectory:
    """Registering users, their roles and departments (admins only)."""

    def __init__(self, store: ReviewStore, now: Callable[[], datetime] | None = None) -> None:
        self.store = store
        self.gate = AccessGate(store, now or (lambda: datetime.now(UTC)))

    def resolve(self, spec: str) -> Actor:
        """The user named ``channel:tenant:user_id``, or by a user id registered once.

        An unknown user comes back unregistered (``role=None``), which the policy
        refuses everything.

        Raises:
            ReviewRefused: a bare user id registered in several channels/tenants.
        """
        key = parse_user_key(spec)
        if key is not None:
            return self.store.actor(*key)
        found = self.store.actors_named(spec)
        if len(found) > 1:
            choices = "、".join(a.key for a in found)
            raise ReviewRefused(
                f"利用者「{spec}」は複数登録されています。channel:tenant:user_id で指定してください"
                f"（候補: {choices}）。"
            )
        return found[0] if found else Actor("cli", "local", spec)

    def _change(self, operator: Actor, user: Actor, change: Callable[[], Actor],
                what: str, detail: dict[str, str] | None = None) -> Actor:
        decision = decide(operator, "manage_users", users_of=user.tenant)
        if not decision.allowed:
            self.gate.record(operator, what, user.key, "denied", detail)
            raise ReviewRefused(decision.reason)
        saved = change()
        self.gate.record(operator, what, user.key, "allowed", detail)
        return saved

    def add(self, entry: UserEntry, *, operator: Actor) -> Actor:
        """Register (or update) a user with role, department and name."""
        role = check_role(entry.role)
        if role == "staff" and not entry.department:
            raise ReviewRefused(
                "職員（staff）には所属部署が必要です。--department で指定してください。"
            )
        user = Actor(entry.channel, entry.tenant, entry.user_id)
        return self._change(
            operator, user,
            lambda: self.store.save_user(
                entry.channel, entry.tenant, entry.user_id, role=role,
                department=entry.department, confirmed_by=operator.key,
                display_name=entry.display_name,
            ),
            "user.add",
        )

    def set_role(self, spec: str, role: str, *, operator: Actor) -> Actor:
        checked = check_role(role)
        user = self._registered(spec)
        return self._change(
            operator, user,
            lambda: self.store.save_user(user.channel, user.tenant, user.user_id, role=checked),
            "user.set_role",
        )

    def set_department(self, spec: str, department: str, *, operator: Actor) -> Actor:
        name = " ".join(department.split())
        if not name:
            raise ReviewRefused("所属部署名を指定してください（例: 総務課）。")
        user = self._registered(spec)
        return self._change(
            operator, user,
            lambda: self.store.save_user(user.channel, user.tenant, user.user_id,
                                         department=name, confirmed_by=operator.key),
            "user.set_department",
        )

    def confirm_department(self, spec: str, *, operator: Actor) -> Actor:
        """Confirm the department a user declared themselves (it then opens that
        department's sheets). Confirming an already confirmed one changes nothing.

        Raises:
            ReviewRefused: not an administrator, unknown user, or no department.
        """
        user = self._registered(spec)
        if user.department is None:
            raise ReviewRefused(
                f"利用者「{spec}」には所属部署がありません。"
                "`soudan users set-department` で登録してください。"
            )
        if not user.department_pending:
            return self._change(operator, user, lambda: user, "user.confirm_department",
                                {"already": "confirmed"})
        department = user.department
        return self._change(
            operator, user,
            lambda: self.store.save_user(user.channel, user.tenant, user.user_id,
                                         department=department, confirmed_by=operator.key),
            "user.confirm_department",
        )

    def registered(
        self,
        tenant: str | None = None,
        *,
        operator: Actor,
        pending: bool | None = None,
    ) -> list[Actor]:
        """Every registered user (of ``tenant`` when given); ``pending=True``: only
        those whose self-declared department awaits confirmation."""
        decision = decide(operator, "manage_users", users_of=tenant)
        if not decision.allowed:
            self.gate.record(operator, "user.list", "users", "denied")
            raise ReviewRefused(decision.reason)
        users = self.store.users(tenant, pending=pending)
        self.gate.record(operator, "user.list", "users", "allowed")
        return users

    def _registered(self, spec: str) -> Actor:
        user = self.resolve(spec)
        if user.role is None:
            raise ReviewRefused(
                f"利用者「{spec}」は登録されていません。"
                "先に `soudan users add` で登録してください。"
            )
        return user

    def import_file(self, path: Path, *, operator: Actor) -> list[Actor]:
        """Register every user in a YAML file (all checked before any is saved)."""
        entries = read_user_file(path)
        return [self.add(entry, operator=operator) for entry in entries]


def read_user_file(path: Path) -> list[UserEntry]:
    """Read and check a users YAML file.

    Raises:
        UserFileError: unreadable file or an invalid entry (says which one).
    """
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise UserFileError(f"{path} を読み込めません: {error}") from error
    items = data.get("users") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise UserFileError(f"{path}: 先頭に users: の一覧を書いてください。")
    entries = []
    for number, item in enumerate(items, start=1):
        where = f"{path} の {number} 件目"
        if not isinstance(item, dict):
            raise UserFileError(f"{where}: channel, tenant, user_id を持つ項目にしてください。")
        missing = [name for name in ("channel", "tenant", "user_id") if not item.get(name)]
        if missing:
            raise UserFileError(f"{where}: {', '.join(missing)} がありません。")
        channel, role = str(item["channel"]), str(item.get("role", "staff"))
        if channel not in CHANNELS:
            raise UserFileError(f"{where}: channel は {' / '.join(CHANNELS)} のいずれかです。")
        if role not in ROLES:
            raise UserFileError(f"{where}: role は {' / '.join(ROLES)} のいずれかです。")
        department = item.get("department")
        if role == "staff" and not department:
            raise UserFileError(f"{where}: 職員（staff）には department が必要です。")
        entries.append(
            UserEntry(
                channel=cast(ChannelName, channel),
                tenant=str(item["tenant"]),
                user_id=str(item["user_id"]),
                role=cast(Role, role),
                department=str(department) if department else None,
                display_name=str(item["name"]) if item.get("name") else None,
            )
        )
    return entries
