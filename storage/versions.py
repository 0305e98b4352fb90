"""Shared versions: what every replica should be running, kept in the database.

One row per name (``flows``: the flow definition files). A replica compares the
digest it loaded with the stored one every few seconds and reloads when they differ,
so a change published by one process (``soudan flow publish``, a replica starting
with new files) reaches every replica without a restart.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from storage.columns import JSONDocument, UTCDateTime, utc_now
from storage.conflicts import dialect_insert


class SharedVersion(SQLModel, table=True):
    """The current version of something every replica shares (e.g. ``flows``)."""

    __tablename__ = "shared_version"

    name: str = Field(primary_key=True, max_length=40)
    digest: str = Field(max_length=128)
    content: dict[str, Any] | None = Field(default=None, sa_type=JSONDocument)
    """What the version consists of (for ``flows``: file name -> YAML text)."""
    changed_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    changed_by: str | None = Field(default=None, max_length=200)


def get_shared_digest(*, session: Session, name: str) -> str | None:
    """The stored digest of ``name`` (one small read), or None when never published."""
    statement = sa.select(col(SharedVersion.digest)).where(col(SharedVersion.name) == name)
    return session.execute(statement).scalar_one_or_none()


def get_shared_version(*, session: Session, name: str) -> SharedVersion | None:
    """The stored version of ``name`` with its content."""
    statement = (
        select(SharedVersion)
        .where(col(SharedVersion.name) == name)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def publish_shared_version(
    *,
    session: Session,
    name: str,
    digest: str,
    content: dict[str, Any] | None,
    changed_by: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Store ``digest`` (and its content) as the current version of ``name``.

    Returns:
        True when the stored digest changed; False when it already was ``digest``.
    """
    table = SharedVersion.__table__  # type: ignore[attr-defined]
    values = {
        "digest": digest, "content": content, "changed_at": now or utc_now(),
        "changed_by": changed_by,
    }
    statement = (
        dialect_insert(session, SharedVersion)
        .values(name=name, **values)
        .on_conflict_do_update(
            index_elements=["name"], set_=values, where=table.c.digest != digest
        )
        .returning(table.c.name)
    )
    # One statement: two replicas publishing at once never fail on the primary key.
    return session.execute(statement).first() is not None
