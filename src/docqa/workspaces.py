"""Workspaces: several document sets on one server, each visible only to its members.

Each workspace has its own corpus folder, Chroma collections and keyword index
(``workspace_settings``). ``default`` is the corpus and index docqa always had; it exists in
every database. Who sees what (``role_in``):

- on a server without users, everyone is an admin everywhere (a loopback-only server);
- an ``admin`` sees every workspace;
- ``default`` is open to every user with their own role (as before workspaces existed), or the
  role a grant gives them there, whichever is higher;
- any other workspace only to the users granted a role in it (``reader`` or ``editor``).

Example:
    >>> store = WorkspaceStore(open_database(settings))
    >>> store.create("legal", corpus_dir=Path("/srv/legal"))
    >>> store.grant("legal", "ana", "editor")
    >>> store.role_in("legal", users.get("ana"))
    'editor'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from docqa.db.database import Database
from docqa.db.schema import GrantRow, UserRow, WorkspaceRow
from docqa.errors import DocQAError
from docqa.layout import IndexPaths
from docqa.settings import Settings, load_settings
from docqa.users import ROLES, Role, User

DEFAULT_WORKSPACE = "default"
GRANT_ROLES: tuple[Role, ...] = ("reader", "editor")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class WorkspaceError(DocQAError, ValueError):
    """A workspace command that cannot be carried out as given; the message says what to do."""


@dataclass(frozen=True)
class Workspace:
    """One workspace: its name, its corpus folder when it was given one, and when it was
    created (so that a workspace removed and created again under its name is a new one)."""

    name: str
    corpus_dir: Path | None = None
    created: datetime | None = None


def check_workspace_name(name: str) -> str:
    """``name`` if it is a valid workspace name, else a ``WorkspaceError`` saying what is."""
    if not _NAME.match(name):
        raise WorkspaceError(
            f"Invalid workspace name {name!r}: use 1-40 lower-case letters, digits, '_' or '-', "
            "starting with a letter or digit."
        )
    return name


def workspace_settings(base: Settings, workspace: Workspace) -> Settings:
    """The settings of ``workspace``: ``base`` itself for ``default``, else its own corpus
    folder, index folder and collections (named after the workspace, so that workspaces
    sharing one Chroma server never meet)."""
    if workspace.name == DEFAULT_WORKSPACE:
        return base
    paths = IndexPaths(base.index_dir).workspace(workspace.name)
    corpus = workspace.corpus_dir or paths.workspace_corpus
    collection = f"{base.collection}.{workspace.name}.ws"
    return load_settings(
        **{
            **base.model_dump(),
            "corpus_dir": corpus,
            "index_dir": paths.root,
            "collection": collection,
        }
    )


def _workspace(row: WorkspaceRow) -> Workspace:
    return Workspace(row.name, Path(row.corpus_dir) if row.corpus_dir else None, row.created)


def _unknown(name: str) -> WorkspaceError:
    return WorkspaceError(f"No workspace {name!r}; 'docqa workspace list' shows them.")


class WorkspaceStore:
    """The workspaces and their grants in ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def all(self) -> list[Workspace]:
        """Every workspace, ``default`` first, then by name."""
        with self.db.reading() as session:
            rows = session.scalars(select(WorkspaceRow).order_by(WorkspaceRow.name)).all()
            found = [_workspace(row) for row in rows]
        return sorted(found, key=lambda w: (w.name != DEFAULT_WORKSPACE, w.name))

    def get(self, name: str) -> Workspace | None:
        """The workspace called ``name``, or None."""
        with self.db.reading() as session:
            row = session.get(WorkspaceRow, name)
            return None if row is None else _workspace(row)

    def create(self, name: str, corpus_dir: Path | None = None) -> Workspace:
        """Add workspace ``name``; its documents live in ``corpus_dir`` (which must exist) or,
        without one, in a folder of its own that uploads fill.

        Raises:
            WorkspaceError: a bad or taken name, or a corpus folder that is not a folder.
        """
        check_workspace_name(name)
        if corpus_dir is not None:
            corpus_dir = corpus_dir.expanduser().resolve()
            if not corpus_dir.is_dir():
                raise WorkspaceError(
                    f"The corpus folder {corpus_dir} does not exist: create it (and put the "
                    "documents in it) first, or leave out --corpus to upload documents later."
                )
        taken = WorkspaceError(f"Workspace {name!r} already exists; pick another name.")
        try:
            with self.db.transaction() as session:
                if session.get(WorkspaceRow, name) is not None:
                    raise taken
                session.add(
                    WorkspaceRow(name=name, corpus_dir=str(corpus_dir) if corpus_dir else None)
                )
        except IntegrityError:
            raise taken from None
        return Workspace(name, corpus_dir)

    def remove(self, name: str) -> Workspace:
        """Delete workspace ``name`` with its grants, conversations and feedback (the caller
        deletes its index). ``default`` cannot be removed.

        Raises:
            WorkspaceError: no such workspace, or ``default``.
        """
        if name == DEFAULT_WORKSPACE:
            raise WorkspaceError("The default workspace cannot be removed.")
        with self.db.transaction() as session:
            row = session.get(WorkspaceRow, name)
            if row is None:
                raise _unknown(name)
            removed = _workspace(row)
            session.delete(row)
        return removed

    def grant(self, name: str, user: str, role: str) -> None:
        """Give ``user`` the ``role`` (reader or editor) in workspace ``name``.

        Raises:
            WorkspaceError: no such workspace or user, or another role.
        """
        if role not in GRANT_ROLES:
            raise WorkspaceError(
                f"Unknown workspace role {role!r}; use reader or editor (admins see every "
                "workspace already)."
            )
        with self.db.transaction() as session:
            if session.get(WorkspaceRow, name) is None:
                raise _unknown(name)
            if session.get(UserRow, user) is None:
                raise WorkspaceError(f"No user {user!r}; add it first with 'docqa user add'.")
            row = session.get(GrantRow, (name, user))
            if row is None:
                session.add(GrantRow(workspace=name, user_name=user, role=role))
            else:
                row.role = role

    def revoke(self, name: str, user: str) -> None:
        """Take ``user``'s grant in workspace ``name`` away.

        Raises:
            WorkspaceError: the user holds no grant there.
        """
        with self.db.transaction() as session:
            if session.get(WorkspaceRow, name) is None:
                raise _unknown(name)
            done = session.execute(
                delete(GrantRow).where(GrantRow.workspace == name, GrantRow.user_name == user)
            )
            if not getattr(done, "rowcount", 0):
                raise WorkspaceError(
                    f"{user!r} holds no role in workspace {name!r}; nothing was changed."
                )

    def grants(self, name: str) -> dict[str, Role]:
        """The users granted a role in workspace ``name``, by name."""
        with self.db.reading() as session:
            rows = session.scalars(select(GrantRow).where(GrantRow.workspace == name)).all()
            return {
                row.user_name: _role(row.role) for row in sorted(rows, key=lambda r: r.user_name)
            }

    def role_in(self, name: str, user: User | None) -> Role | None:
        """``user``'s role in workspace ``name``: None when they may not see it (or it does
        not exist). ``user`` None is a server without users: admin everywhere."""
        with self.db.reading() as session:  # one read: every request passes here
            if session.get(WorkspaceRow, name) is None:
                return None
            if user is None or user.role == "admin":
                return "admin"
            grant = session.get(GrantRow, (name, user.name))
            granted = None if grant is None else _role(grant.role)
        if name == DEFAULT_WORKSPACE:
            granted = user.role if granted is None else max(granted, user.role, key=ROLES.index)
        return granted


def _role(role: str) -> Role:
    return next(r for r in ROLES if r == role)
