"""docqa's state database: users, workspaces, grants, conversations, feedback and the audit log."""

from docqa.db.database import Database
from docqa.db.opening import open_database

__all__ = ["Database", "open_database"]
