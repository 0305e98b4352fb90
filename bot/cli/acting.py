"""Who a ``soudan`` command acts as: a named user (``--as``) or the OS operator (``admin``).

A command that reads or changes 相談シート acts as the person ``--as`` names and goes
through the policy (:func:`bot.core.policy.decide`): a CIO補佐 sees every sheet of
their tenant, staff their department's (a pending department: their own sheets), an
administrator none. The few operations that must bypass the policy (backups,
migrations, ending someone's console sessions) are ``soudan admin …``, audited with
the OS user running them as actor (``cli:local:<OS user>``, ``admin.…`` actions).

Example:
    >>> named_user(database, "slack:T0123:U0456").key      # doctest: +SKIP
    'slack:T0123:U0456'
"""

from __future__ import annotations

import dataclasses
import getpass
from typing import Annotated

import typer

from bot.core.policy import Actor
from storage import Database

AS_HELP = "操作する利用者（channel:tenant:user_id または user_id）。その人が閲覧できる相談シートだけを扱います"
AsOption = Annotated[str, typer.Option("--as", help=AS_HELP)]


admin_app = typer.Typer(
    help="運用者（管理者）の操作。アクセス制御を通さないため、すべて監査ログに OS ユーザー名で残ります",
    no_args_is_help=True,
)
"""``soudan admin …``: every operation that bypasses the policy (``admin sheets`` in
:mod:`bot.cli.sheet_cmds`, ``admin console`` in :mod:`bot.cli.console_cmds`), audited
as :func:`os_operator` with an ``admin.…`` action."""


def refuse(message: str, code: int = 1) -> typer.Exit:
    """Print ``message`` (Japanese) on standard error; the exit to raise."""
    typer.secho(message, err=True, fg=typer.colors.RED)
    return typer.Exit(code=code)


def named_user(database: Database, spec: str, *, refuse_unknown: bool = True) -> Actor:
    """The user ``--as`` names, with their role and department, ``via=cli``.

    ``spec`` is ``channel:tenant:user_id``, or a user id registered once. A full key
    of an unregistered person comes back unregistered (the policy decides what they
    may: their own sheets, say); a bare id nobody registered is refused here, as a
    user id registered in several channels or tenants is.

    Args:
        refuse_unknown: ``False`` (``soudan review``, ``soudan digest``): a bare id
            nobody registered comes back unregistered too, and the policy refuses it
            with its own message (an audited attempt), as those commands always did.

    Raises:
        typer.Exit: (1) the user cannot be named this way; the message says why.
    """
    from bot.review.outcomes import ReviewRefused
    from bot.review.store import ReviewStore
    from bot.users import UserDirectory, parse_user_key

    try:
        actor = UserDirectory(ReviewStore(database)).resolve(spec)
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    if refuse_unknown and actor.role is None and parse_user_key(spec) is None:
        raise refuse(
            f"利用者「{spec}」は登録されていません。`soudan users list` で登録済みの利用者を確認し、"
            "--as に channel:tenant:user_id（例: slack:T0123:U0456）か user_id を指定してください。"
        )
    return dataclasses.replace(actor, via="cli")


def os_operator() -> Actor:
    """The person at the shell, for ``soudan admin …``: ``cli:local:<OS user>``."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers)
        user = "operator"
    return Actor("cli", "local", user or "operator", role="admin", via="cli")
