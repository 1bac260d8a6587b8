"""Import an earlier version's users file and audit log into the database, once.

Each import is recorded in the ``imports`` table in the same transaction as the rows it adds,
so it happens exactly once even when two processes open the database together (the second's
insert of the same record fails and rolls its copy back). The files are left in place.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.exc import IntegrityError

from docqa.db.database import Database
from docqa.db.schema import AuditRow, ImportRow, TokenRow, UserRow
from docqa.errors import DatabaseError

USERS_IMPORT = "users-file"
AUDIT_IMPORT = "audit-log"
_USERS_FORMAT = "docqa-users/1"


def _read_users(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != _USERS_FORMAT or not isinstance(data["users"], dict):
            raise ValueError("unknown format")
        return {str(k): dict(v) for k, v in data["users"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DatabaseError(
            f"The users file {path} cannot be imported ({exc}). Restore it from a backup, or "
            "move it away and add the users again with 'docqa user add'."
        ) from None


def _audit_rows(path: Path) -> list[AuditRow]:
    rows = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            entry = json.loads(line)
            at = datetime.fromisoformat(str(entry["time"]))
        except (ValueError, KeyError, TypeError):
            continue  # a damaged line was skipped by the old reader too
        rows.append(
            AuditRow(
                at=at if at.tzinfo else at.replace(tzinfo=UTC),
                user_name=str(entry.get("user") or "-")[:64],
                action=str(entry.get("action", ""))[:64],
                target=entry.get("file"),
                outcome=str(entry.get("outcome", "")),
            )
        )
    return rows


def _done(db: Database, name: str) -> bool:
    with db.reading() as session:
        return session.get(ImportRow, name) is not None


def import_legacy_files(db: Database, users_file: Path, audit_log: Path) -> None:
    """Import ``users_file`` and ``audit_log`` where they exist and were not imported yet."""
    if users_file.is_file() and not _done(db, USERS_IMPORT):
        users = _read_users(users_file)
        try:
            with db.transaction() as session:
                session.add(ImportRow(name=USERS_IMPORT))
                session.flush()
                for name, entry in sorted(users.items()):
                    if session.get(UserRow, name) is not None:
                        continue  # added in the database since: the database wins
                    session.add(
                        UserRow(name=name, role=entry["role"], password_hash=entry.get("hash", ""))
                    )
                    session.flush()
                    for digest in filter(None, entry.get("tokens", "").split(",")):
                        session.add(TokenRow(digest=digest, user_name=name))
        except IntegrityError:
            pass  # another process imported it first
    if audit_log.is_file() and not _done(db, AUDIT_IMPORT):
        rows = _audit_rows(audit_log)
        try:
            with db.transaction() as session:
                session.add(ImportRow(name=AUDIT_IMPORT))
                session.flush()
                session.add_all(rows)
        except IntegrityError:
            pass
