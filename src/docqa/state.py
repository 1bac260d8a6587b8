"""Everything a shared server keeps in its database, opened together.

Example:
    >>> state = State.open(load_settings())
    >>> state.users.exists()
"""

from __future__ import annotations

from dataclasses import dataclass

from docqa.audit import AuditLog
from docqa.conversation_store import ConversationStore
from docqa.db.database import Database
from docqa.db.opening import open_database
from docqa.feedback import FeedbackStore
from docqa.settings import Settings
from docqa.users import BCRYPT_ROUNDS, UserStore
from docqa.workspaces import WorkspaceStore


@dataclass(frozen=True)
class State:
    """The stores of one database: users, workspaces, conversations, feedback, audit log."""

    db: Database
    users: UserStore
    workspaces: WorkspaceStore
    conversations: ConversationStore
    feedback: FeedbackStore
    audit: AuditLog

    @classmethod
    def of(cls, db: Database, *, rounds: int = BCRYPT_ROUNDS) -> State:
        """The stores of ``db`` (``rounds``: the bcrypt cost of new passwords)."""
        return cls(
            db,
            UserStore(db, rounds),
            WorkspaceStore(db),
            ConversationStore(db),
            FeedbackStore(db),
            AuditLog(db),
        )

    @classmethod
    def open(cls, settings: Settings, *, rounds: int = BCRYPT_ROUNDS) -> State:
        """The stores of ``settings``' database (see ``open_database``)."""
        return cls.of(open_database(settings), rounds=rounds)
