"""The audit log of a shared server: one row per upload, delete, user and workspace change.

Rows live in the state database (``docqa.db``), appended to and never rewritten; an earlier
version's ``audit.jsonl`` is imported once when the database is opened.

Example:
    >>> log = AuditLog(open_database(settings))
    >>> log.record("ana", "upload", "memo.md", "added", workspace="default")
    >>> log.latest(5)[-1]["action"]
    'upload'
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import or_, select

from docqa.db.database import Database
from docqa.db.schema import AuditRow


class AuditLog:
    """The audit log in ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        user: str | None,
        action: str,
        target: str | None,
        outcome: str,
        *,
        workspace: str | None = None,
    ) -> dict[str, Any]:
        """Append one entry (time in UTC, user, action, target, outcome) and return it."""
        row = AuditRow(
            user_name=(user or "-")[:64],
            action=action[:64],
            target=target,
            outcome=outcome,
            workspace=workspace[:64] if workspace else None,
        )
        with self.db.transaction() as session:
            session.add(row)
        return _entry(row)

    def latest(
        self, count: int = 20, *, workspace: str | None = None, unscoped: bool = True
    ) -> list[dict[str, Any]]:
        """The last ``count`` entries, oldest first: of ``workspace`` when given, and (with
        ``unscoped``) those of no workspace, such as user changes."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(count)
        if workspace is not None:
            scope = AuditRow.workspace == workspace
            query = query.where(or_(scope, AuditRow.workspace.is_(None)) if unscoped else scope)
        with self.db.reading() as session:
            rows = list(session.scalars(query))
        return [_entry(row) for row in reversed(rows)]


def _entry(row: AuditRow) -> dict[str, Any]:
    return {
        "time": row.at.isoformat(timespec="seconds"),
        "user": row.user_name,
        "action": row.action,
        "file": row.target,
        "outcome": row.outcome,
        "workspace": row.workspace,
    }
