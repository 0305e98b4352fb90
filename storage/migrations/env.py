"""Alembic environment for soudan's schema.

Run through :meth:`storage.Database.upgrade`, which passes an open connection in
``config.attributes["connection"]``. Logging is left to the application (no
``fileConfig``). On PostgreSQL an advisory lock serialises replicas that start at
the same time and would otherwise race to create the same tables.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from sqlmodel import SQLModel

import storage.models  # noqa: F401  (registers the tables on the metadata)

_MIGRATION_LOCK_ID = 0x50_0D_A4  # arbitrary, fixed: "soudan migrations"

target_metadata = SQLModel.metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("SELECT pg_advisory_xact_lock(:lock)"), {"lock": _MIGRATION_LOCK_ID}
            )
        context.run_migrations()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection and no sqlalchemy.url; use storage.Database.upgrade()")
    engine = sa.create_engine(url)
    with engine.begin() as new_connection:
        _run(new_connection)
    engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (--sql) migrations are not supported; use Database.upgrade()")
run_migrations_online()
