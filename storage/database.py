"""The database handle: engine, sessions and migrations.

Example:
    >>> db = Database("sqlite:///.soudan/soudan.db")   # doctest: +SKIP
    >>> db.upgrade()                                   # doctest: +SKIP
    >>> with db.session() as session:                  # doctest: +SKIP
    ...     sheet = create_sheet(session=session, sheet_in=...)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

SQLITE_BUSY_TIMEOUT_MS = 5000
_DEFERRED = "soudan_lock_on_write"
"""Connection execution option: begin the SQLite transaction without the write lock."""
_SQLITE_BUSY = 5
_SQLITE_BUSY_SNAPSHOT = 517

# SQLite files with a db.session() open in the current thread (see Database.session).
_open_sqlite_sessions = threading.local()


class NestedSessionError(RuntimeError):
    """A second ``db.session()`` on the same SQLite file was opened in one thread.

    It would wait for the write lock the first one holds, and fail after
    ``busy_timeout``; this error says so at once. Pass the open session down instead.
    """


def normalise_url(url: str) -> URL:
    """Parse a database URL, choosing psycopg 3 for PostgreSQL.

    ``postgresql://`` and ``postgres://`` (what hosting providers hand out) become
    ``postgresql+psycopg://``.

    Example:
        >>> normalise_url("postgres://u@db/soudan").render_as_string()
        'postgresql+psycopg://u@db/soudan'
    """
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


class Database:
    """One database (SQLite file or PostgreSQL server) and its engine.

    Constructing a ``Database`` opens no connection. For SQLite the parent
    directory of the file is created, and every connection gets WAL journaling,
    ``busy_timeout`` and foreign keys. SQLite transactions start with
    ``BEGIN IMMEDIATE``: a writer takes the write lock up front instead of failing
    with "database is locked" when it upgrades a read lock while another writer
    commits; other writers wait up to ``busy_timeout``. The price: on SQLite a
    ``session()`` holds the write lock until it ends, so keep sessions short (no
    network calls inside) and never open a second one inside the first in the
    same thread (:class:`NestedSessionError`); PostgreSQL has neither limit.

    Args:
        url: SQLAlchemy URL, e.g. ``sqlite:////var/lib/soudan/soudan.db`` or
            ``postgresql://user:pw@host/soudan``.
        echo: log every SQL statement (debugging only).
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = normalise_url(url)
        self.engine = self._create_engine(echo=echo)

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.url.get_backend_name()

    def __repr__(self) -> str:
        return f"Database({self.url.render_as_string(hide_password=True)!r})"

    def _create_engine(self, *, echo: bool) -> Engine:
        if self.backend != "sqlite":
            return sa.create_engine(
                self.url, echo=echo, pool_pre_ping=True, hide_parameters=not echo
            )
        database = self.url.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        # Error messages must not carry row values (user text, names) into the logs.
        kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": not echo}
        if in_memory:
            # One shared connection, or every checkout would see an empty database.
            kwargs |= {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        else:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(self.url, **kwargs)
        event.listen(engine, "connect", _configure_sqlite_connection)
        event.listen(engine, "begin", _begin_immediate)
        return engine

    @contextmanager
    def session(self, *, lock_on_write: bool = False) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on error.

        Objects stay readable after the block (``expire_on_commit=False``).

        ``lock_on_write`` (SQLite; no difference on PostgreSQL): the transaction begins
        without the write lock (``BEGIN DEFERRED``) and takes it at its first write, so
        a transaction that reads for a long time before it writes (a question waiting
        for its answer) does not hold up other writers meanwhile. That first write
        fails at once when another writer holds the lock or committed since this
        transaction first read (:func:`lost_write_race`): do the work again, in a
        plain session.

        Raises:
            NestedSessionError: SQLite only, a session on the same file is already
                open in this thread.
        """
        with self._sqlite_thread_guard(), Session(self.engine, expire_on_commit=False) as session:
            if lock_on_write and self.backend == "sqlite":
                session.connection(execution_options={_DEFERRED: True})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def _sqlite_thread_guard(self) -> Iterator[None]:
        if self.backend != "sqlite":
            yield
            return
        key = self.url.database or ":memory:"
        open_here: set[str] = _open_sqlite_sessions.__dict__.setdefault("files", set())
        if key in open_here:
            raise NestedSessionError(
                "a db.session() on this SQLite database is already open in this thread; "
                "pass that session down instead of opening another"
            )
        open_here.add(key)
        try:
            yield
        finally:
            open_here.discard(key)

    def upgrade(self, revision: str = "head") -> None:
        """Apply the Alembic migrations up to ``revision`` (default: the newest)."""
        from alembic import command  # Alembic loads only for commands that touch the schema

        with self.engine.begin() as connection:
            command.upgrade(self._alembic_config(connection), revision)

    def downgrade(self, revision: str) -> None:
        """Revert the migrations down to ``revision`` (``"base"``: drop everything)."""
        from alembic import command

        with self.engine.begin() as connection:
            command.downgrade(self._alembic_config(connection), revision)

    def current_revision(self) -> str | None:
        """The revision the database is at (``None`` for an empty database)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def head_revision(self) -> str | None:
        """The newest revision shipped with this code."""
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self._alembic_config(None)).get_current_head()

    def is_up_to_date(self) -> bool:
        """Whether the schema is at the newest shipped revision."""
        return self.current_revision() == self.head_revision()

    def create_revision(self, message: str) -> None:
        """Generate a new migration from the difference between the models and this database.

        For developers changing the schema: the database must be at head (use a
        scratch SQLite file). Review the generated file in
        ``storage/migrations/versions/`` before committing it.
        """
        from alembic import command

        with self.engine.begin() as connection:
            command.revision(self._alembic_config(connection), message=message, autogenerate=True)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def _alembic_config(self, connection: sa.Connection | None) -> Config:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        config.attributes["connection"] = connection
        return config


def _configure_sqlite_connection(dbapi_connection: Any, connection_record: Any) -> None:
    # Let SQLAlchemy's "begin" event emit BEGIN (the sqlite3 module's implicit
    # transactions would break BEGIN IMMEDIATE and SAVEPOINT).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _begin_immediate(connection: sa.Connection) -> None:
    deferred = connection.get_execution_options().get(_DEFERRED, False)
    connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")


def lost_write_race(error: BaseException) -> bool:
    """Whether ``error`` is SQLite refusing a ``lock_on_write`` transaction its write
    lock (another writer holds it, or committed after this transaction first read):
    nothing was written, and the work can be done again in a plain session."""
    cause = getattr(error, "orig", None)
    code = getattr(cause, "sqlite_errorcode", None)
    return isinstance(error, sa.exc.OperationalError) and code in (
        _SQLITE_BUSY, _SQLITE_BUSY_SNAPSHOT
    )
