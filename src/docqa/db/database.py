"""Open the state database: connect, bring its schema up to date, import earlier files once.

SQLite in the index folder by default (WAL mode, so readers never wait for the writer; each
write transaction starts ``BEGIN IMMEDIATE`` and waits up to 30 s for another writer instead of
failing), or any SQLAlchemy URL in ``DOCQA_DATABASE_URL``, such as PostgreSQL shared by several
web processes. Migrations run at open, under a lock (a file lock for SQLite, an advisory lock
for PostgreSQL), so two processes starting together migrate once.

Example:
    >>> db = open_database(load_settings())  # docqa.db.opening
    >>> with db.transaction() as session:
    ...     session.scalars(select(UserRow)).all()
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from docqa.errors import DatabaseError

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_WAIT_SECONDS = 30
CONNECT_TIMEOUT_SECONDS = 5
_READ_ONLY = "docqa_read_only"  # an execution option: this transaction only reads
_MIGRATION_LOCK_KEY = 0x646F6371  # "docq": PostgreSQL's advisory lock for migrations


def _display(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


class Database:
    """One engine and its sessions. Build it with ``open_database``.

    Args:
        url: A SQLAlchemy URL.
        lock_path: The file lock migrations of a SQLite database hold.
    """

    def __init__(self, url: str, lock_path: Path | None = None) -> None:
        self.url = url
        self.display_url = _display(url)
        self.lock_path = lock_path
        try:
            parsed = make_url(url)
            self.is_sqlite = parsed.get_backend_name() == "sqlite"
            self.engine = self._create_engine()
        except (ArgumentError, NoSuchModuleError, ImportError, ValueError) as exc:
            raise DatabaseError(
                f"DOCQA_DATABASE_URL is not a usable database URL ({_first_line(exc)}); use e.g. "
                "postgresql+psycopg://user:password@host/db (pip install 'docqa[postgres]'), "
                "or unset it for SQLite in the index folder."
            ) from None
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Reads (most requests, every question's access check) take no write lock: WAL lets
        # them run beside a writer.
        readers = self.engine.execution_options(**{_READ_ONLY: True})
        self._read_sessions = sessionmaker(readers, expire_on_commit=False)

    def _create_engine(self) -> Engine:
        if not self.is_sqlite:
            connect = {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
            return create_engine(self.url, pool_pre_ping=True, connect_args=connect)
        engine = create_engine(
            self.url,
            connect_args={"timeout": SQLITE_WAIT_SECONDS, "check_same_thread": False},
        )

        @event.listens_for(engine, "connect")
        def _on_connect(connection: Any, _record: Any) -> None:
            connection.isolation_level = None  # transactions begin below, not in the driver
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_WAIT_SECONDS * 1000}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            # A transaction that may write takes the write lock at once: a read that later
            # writes would otherwise fail with "database is locked" instead of waiting its turn.
            read_only = connection.get_execution_options().get(_READ_ONLY, False)
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine

    def unreachable(self, exc: BaseException) -> DatabaseError:
        """The one-line error for a database that cannot be used."""
        return DatabaseError(
            f"Cannot use the database {self.display_url} ({_first_line(exc)}). Check "
            "DOCQA_DATABASE_URL and that the database server is running, or unset "
            "DOCQA_DATABASE_URL to keep the state in SQLite in the index folder."
        )

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction that may write: committed on success, rolled back on
        error.

        Raises:
            DatabaseError: the database cannot be reached (one line naming the setting).
        """
        with self._session(self._sessions) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session in one transaction that only reads (it takes no write lock)."""
        with self._session(self._read_sessions) as session:
            yield session

    @contextmanager
    def _session(self, sessions: sessionmaker[Session]) -> Iterator[Session]:
        try:
            with sessions.begin() as session:
                yield session
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc.orig, OSError) or _is_down(exc):
                raise self.unreachable(exc) from None
            raise

    def migrate(self) -> None:
        """Bring the schema up to date with Alembic (under a lock: once, however many start)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        try:
            if self.is_sqlite:
                assert self.lock_path is not None
                self.lock_path.parent.mkdir(parents=True, exist_ok=True)
                with FileLock(str(self.lock_path)), self.engine.begin() as connection:
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
            else:
                with self.engine.begin() as connection:
                    # Held to the end of this transaction: a second process starting at the
                    # same moment waits, then finds the schema current.
                    connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})"))
                    config.attributes["connection"] = connection
                    command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise self.unreachable(exc) from None

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _is_down(exc: DBAPIError) -> bool:
    message = str(exc.orig).lower()
    return any(
        part in message
        for part in ("connection refused", "could not connect", "server closed", "timeout")
    )
