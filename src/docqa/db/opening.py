"""Open the state database of a ``Settings``: where it is, its migrations, the one-time import.

Example:
    >>> state_db = open_database(load_settings())
"""

from __future__ import annotations

from docqa.db.database import Database
from docqa.db.legacy import import_legacy_files
from docqa.layout import IndexPaths
from docqa.settings import Settings


def open_database(settings: Settings) -> Database:
    """The state database of ``settings``, migrated, with an earlier version's files imported.

    Raises:
        DatabaseError: it cannot be reached or opened (one line naming DOCQA_DATABASE_URL).
    """
    paths = IndexPaths(settings.index_dir)
    if not settings.database_url:
        paths.root.mkdir(parents=True, exist_ok=True)
    db = Database(settings.state_database_url, lock_path=paths.database_lock)
    db.migrate()
    if not settings.database_url:
        # Password hashes and conversations: owner-only, as the users file was (SQLite gives
        # its -wal and -shm files the database file's permissions).
        paths.database.chmod(0o600)
    import_legacy_files(db, settings.users_path, paths.audit)
    return db
