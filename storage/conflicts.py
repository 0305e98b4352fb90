"""``INSERT ... ON CONFLICT`` for the backend in use (SQLite and PostgreSQL both have it).

Atomic "insert unless present" and "insert or update" are what make claims and
upserts safe across processes: the database's unique constraint decides, not a
read followed by a write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, SQLModel


def dialect_insert(session: Session, model: type[SQLModel]) -> Any:
    """An ``INSERT`` for ``model``'s table that supports ``on_conflict_do_*``."""
    table = model.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def insert_unless_present(
    *, session: Session, model: type[SQLModel], values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert one row unless a row with the same ``conflict`` columns exists.

    Returns:
        True if this call inserted the row, False if it was already there.
    """
    return inserted_value(
        session=session, model=model, values=values, conflict=conflict, column=conflict[0]
    ) is not None


def inserted_value(
    *,
    session: Session,
    model: type[SQLModel],
    values: dict[str, Any],
    conflict: list[str],
    column: str,
) -> Any | None:
    """:func:`insert_unless_present`, giving the new row's ``column`` (its generated id,
    say), or None when a row with the same ``conflict`` columns was already there."""
    table = model.__table__  # type: ignore[attr-defined]
    statement = (
        dialect_insert(session, model)
        .values(**values)
        .on_conflict_do_nothing(index_elements=conflict)
        # RETURNING, not rowcount: drivers need not report a rowcount for INSERT.
        .returning(table.c[column])
    )
    inserted = session.execute(statement).first()
    return None if inserted is None else inserted[0]
