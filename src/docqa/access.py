"""Who may do what, in which workspace: the access checks every request of a server passes.

A user's role in a workspace comes from ``WorkspaceStore.role_in``; a workspace a user may not
see is refused exactly as an unknown one (``NotFound``, 404), so that its name leaks nothing. A
refusal of a signed-in user's action is written to the audit log.
"""

from __future__ import annotations

from docqa.serving import Forbidden, NotFound, ServiceError, SignInRequired
from docqa.state import State
from docqa.users import ROLES, Role, User
from docqa.workspaces import DEFAULT_WORKSPACE, Workspace


class AccessControl:
    """The access checks of a server over ``state``.

    Args:
        state: The database's stores (users, workspaces, audit log).
        protected: Whether users must sign in; without, everyone is an admin (loopback only).
    """

    def __init__(self, state: State, *, protected: bool) -> None:
        self.state = state
        self.protected = protected

    def user(self, who: str | None) -> User | None:
        """The signed-in user (None on a server without users).

        Raises:
            SignInRequired: nobody is signed in, on a server with users.
        """
        if not self.protected:
            return None
        user = self.state.users.get(who) if who else None
        if user is None:
            raise SignInRequired("Sign in first.")
        return user

    def owner(self, who: str | None) -> str:
        """The name conversations and feedback are kept under ("" without users)."""
        user = self.user(who)
        return "" if user is None else user.name

    def role_in(self, who: str | None, workspace: str) -> Role:
        """``who``'s role in ``workspace``.

        Raises:
            SignInRequired: nobody is signed in.
            NotFound: the workspace does not exist, or ``who`` may not see it.
        """
        role = self.state.workspaces.role_in(workspace, self.user(who))
        if role is None:
            raise NotFound(f"No workspace {workspace!r} among those you can use.")
        return role

    def authorize(
        self,
        who: str | None,
        role: Role,
        action: str | None = None,
        workspace: str = DEFAULT_WORKSPACE,
    ) -> str | None:
        """``who`` when they hold ``role`` in ``workspace`` (None when the server has no users).

        Raises:
            SignInRequired: nobody is signed in.
            NotFound: the workspace is unknown or invisible to ``who``.
            Forbidden: naming the role needed and how to get it; a refused ``action`` is written
                to the audit log.
        """
        held = self.role_in(who, workspace)
        if ROLES.index(held) < ROLES.index(role):
            if action is not None:
                self.state.audit.record(
                    who, action, None, f"refused: needs {role}", workspace=workspace
                )
            needed = ", ".join(r for r in ROLES if ROLES.index(r) >= ROLES.index(role))
            fix = (
                f"'docqa user add {who} --role {role} --replace'"
                if workspace == DEFAULT_WORKSPACE
                else f"'docqa workspace grant {workspace} {who} --role {role}'"
            )
            raise Forbidden(
                f"{who} is a {held} in workspace {workspace}: this needs the role {needed}. "
                f"Ask an admin to run {fix}."
            )
        return None if not self.protected else who

    def may(self, who: str | None, role: Role, workspace: str = DEFAULT_WORKSPACE) -> bool:
        """Whether ``who`` holds ``role`` in ``workspace`` (without logging a refusal)."""
        try:
            self.authorize(who, role, workspace=workspace)
        except ServiceError:
            return False
        return True

    def workspaces(self, who: str | None) -> list[tuple[Workspace, Role]]:
        """The workspaces ``who`` may use, with their role in each, ``default`` first."""
        user = self.user(who)
        found = []
        for workspace in self.state.workspaces.all():
            role = self.state.workspaces.role_in(workspace.name, user)
            if role is not None:
                found.append((workspace, role))
        return found
