"""The one service layer behind the web page and the JSON API.

Every request goes through here, so that each step is written once: who the user is and what
they may do in the workspace named (a workspace they may not see is not found, as an unknown
one is; a refusal of a signed-in user goes to the audit log), waiting for the workspace's
indexing, its index lock (questions share it, writes hold it alone), the library call, the
kept conversation and the audit entry. Neither Gradio nor FastAPI is imported: a refusal is a
``ServiceError`` carrying an HTTP status, which the page shows as a message and the JSON API
answers with. Who the caller is (a page session, HTTP Basic, a bearer token) is the caller's
business; the service takes the signed-in name (None on a server without users).

Example:
    >>> service = LibraryService(DocQA(), State.open(settings), protected=False)
    >>> service.start_indexing().join()
    >>> service.ask(None, "Who led the Iraqi delegation?").answer.text
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docqa.api import DocQA
from docqa.conversation import History
from docqa.conversation_store import (
    ConversationFullError,
    ConversationInfo,
    ConversationNotFound,
    Turn,
)
from docqa.errors import DocQAError
from docqa.feedback import Feedback
from docqa.ingest import ProgressCallback
from docqa.library import AddResult, DocumentInfo
from docqa.serving import (
    INDEXING_WAIT_SECONDS,
    Forbidden,
    NotFound,
    NotReady,
    ServedWorkspace,
    ServiceError,
    SignInRequired,
)
from docqa.state import State
from docqa.transcript import ShownAnswer
from docqa.users import ROLES, Role, User
from docqa.workspaces import DEFAULT_WORKSPACE, Workspace, workspace_settings

__all__ = [
    "ConversationFull",
    "Forbidden",
    "LibraryService",
    "NotFound",
    "NotReady",
    "Reply",
    "ServiceError",
    "SignInRequired",
]


class ConversationFull(ServiceError):
    """A kept conversation already holds as many turns as one may."""

    status = 409


@dataclass(frozen=True)
class Reply:
    """An answer as shown, and where it was kept (None when it was not)."""

    shown: ShownAnswer
    conversation_id: str | None = None
    turn_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The answer's JSON, with ``conversation_id`` and ``turn_id``."""
        data = self.shown.answer.to_dict()
        return {**data, "conversation_id": self.conversation_id, "turn_id": self.turn_id}


class LibraryService:
    """Workspaces served to several users: access, indexing, locking, conversations, audit.

    Args:
        qa: The ``default`` workspace's corpus and index (other workspaces share its models).
        state: The database's stores.
        protected: Whether users must sign in; without, everyone is an admin (loopback only).
        wait_seconds: How long a request waits for a workspace's indexing.
    """

    def __init__(
        self,
        qa: DocQA,
        state: State,
        *,
        protected: bool,
        wait_seconds: float = INDEXING_WAIT_SECONDS,
    ) -> None:
        self.qa = qa
        self.state = state
        self.protected = protected
        self.wait_seconds = wait_seconds
        self._served: dict[str, ServedWorkspace] = {
            DEFAULT_WORKSPACE: ServedWorkspace(DEFAULT_WORKSPACE, qa, wait_seconds)
        }
        self._serving: dict[str, Workspace] = {}  # the workspace each was built for
        self._served_lock = threading.Lock()

    # ---- the served workspaces -------------------------------------------------------------
    @property
    def default(self) -> ServedWorkspace:
        """The ``default`` workspace (the one ``/api/ask`` and ``/api/documents`` act on)."""
        return self._served[DEFAULT_WORKSPACE]

    def start_indexing(self) -> threading.Thread:
        """Index every workspace in a background thread, ``default`` first."""

        def run() -> None:
            for workspace in self.state.workspaces.all():
                self._serve(workspace, start=False).index()

        for workspace in self.state.workspaces.all():
            self._serve(workspace, start=False)  # each says "Indexing…" until its turn
        thread = threading.Thread(target=run, name="docqa-index", daemon=True)
        thread.start()
        return thread

    def mark_ready(self, status: str = "Ready.") -> None:
        """Serve every workspace's index as it is, without indexing first."""
        for workspace in self.state.workspaces.all():
            self._serve(workspace, start=False).mark_ready(status)

    def _serve(self, workspace: Workspace, *, start: bool = True) -> ServedWorkspace:
        with self._served_lock:
            served = self._served.get(workspace.name)
            if workspace.name != DEFAULT_WORKSPACE and self._serving.get(workspace.name) not in (
                None,
                workspace,
            ):
                served = None  # removed and created again while the server ran: a new one
            if served is None:
                settings = workspace_settings(self.qa.settings, workspace)
                served = ServedWorkspace(
                    workspace.name, self.qa.sibling(settings), self.wait_seconds
                )
                self._served[workspace.name] = served
                self._serving[workspace.name] = workspace
                if start:  # created since the server started: index it now
                    served.start_indexing()
            return served

    # ---- who may do what -------------------------------------------------------------------
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

    def served(self, who: str | None, workspace: str, role: Role = "reader") -> ServedWorkspace:
        """The served ``workspace``, once ``who`` is known to hold ``role`` in it."""
        self.authorize(who, role, workspace=workspace)
        found = self.state.workspaces.get(workspace)
        if found is None:  # removed a moment ago
            raise NotFound(f"No workspace {workspace!r}.")
        return self._serve(found)

    # ---- questions -------------------------------------------------------------------------
    def ask_stream(
        self,
        who: str | None,
        question: str,
        *,
        workspace: str = DEFAULT_WORKSPACE,
        conversation_id: str | None = None,
        history: History = (),
        keep: bool = True,
    ) -> Iterator[str | Reply]:
        """Text as it is written, then the final ``Reply``.

        With ``conversation_id`` the earlier turns come from that kept conversation (which
        must be ``who``'s, in ``workspace``), and the new turn is added to it; without one,
        ``keep`` starts a new conversation, and ``history`` (pairs sent by a client that keeps
        its own) resolves follow-ups.

        Raises:
            ServiceError: refused, unknown, or not indexed; ``DocQAError`` (a bad question)
                passes through with its own message, and nothing is kept.
        """
        if conversation_id is not None and (history or not keep):
            raise ServiceError(
                "A kept conversation brings its own history: send conversation_id alone, or "
                "history (kept by the client) without it."
            )
        served = self.served(who, workspace)
        owner = self.owner(who)
        conversations = self.state.conversations
        if conversation_id is not None:
            info = self._conversation(owner, conversation_id, workspace)
            limit = self.qa.settings.max_history_turns
            if info.turns >= limit:  # refused before answering; checked again when kept
                raise ConversationFull(
                    f"This conversation has {info.turns} turns, the most one keeps "
                    "(DOCQA_MAX_HISTORY_TURNS): start a new conversation."
                )
            history = conversations.history(info.id, owner, limit)
        answer = None
        for item in served.ask_stream(question, history):
            if isinstance(item, str):
                yield item
            else:
                answer = item
        assert answer is not None  # ask_stream always ends with the Answer
        shown = ShownAnswer.of(answer)
        if conversation_id is None and not keep:
            yield Reply(shown)
            return
        if conversation_id is None:
            info, turn = conversations.start(owner, workspace, question, shown.record())
        else:
            try:
                turn = conversations.append(
                    info.id, owner, question, shown.record(), max_turns=limit
                )
            except ConversationNotFound as exc:  # deleted while the answer was written
                raise NotFound(str(exc)) from None
            except ConversationFullError as exc:  # another answer took the last turn
                raise ConversationFull(str(exc)) from None
        yield Reply(shown, info.id, turn.id)

    def ask(self, who: str | None, question: str, **options: Any) -> Reply:
        """The reply to ``question`` (see ``ask_stream`` for the options)."""
        reply = None
        for item in self.ask_stream(who, question, **options):
            if isinstance(item, Reply):
                reply = item
        assert reply is not None
        return reply

    # ---- conversations ---------------------------------------------------------------------
    def _conversation(
        self, owner: str, conversation_id: str, workspace: str | None = None
    ) -> ConversationInfo:
        try:
            info = self.state.conversations.get(conversation_id, owner)
        except ConversationNotFound as exc:
            raise NotFound(str(exc)) from None
        if workspace is not None and info.workspace != workspace:
            raise NotFound(
                f"Conversation {conversation_id!r} belongs to another workspace "
                f"({info.workspace}); ask there."
            )
        return info

    def conversations(
        self, who: str | None, workspace: str | None = None
    ) -> list[ConversationInfo]:
        """``who``'s conversations (in ``workspace``), most recent first; those of workspaces
        they may no longer see are left out."""
        if workspace is not None:
            self.authorize(who, "reader", workspace=workspace)
        visible = {w.name for w, _ in self.workspaces(who)}
        found = self.state.conversations.of_user(self.owner(who), workspace)
        return [c for c in found if c.workspace in visible]

    def conversation(
        self, who: str | None, conversation_id: str
    ) -> tuple[ConversationInfo, list[Turn]]:
        """``who``'s conversation and its turns (``NotFound`` for anyone else's)."""
        info = self._visible_conversation(who, conversation_id)
        return info, self.state.conversations.turns(info.id, self.owner(who))

    def _visible_conversation(self, who: str | None, conversation_id: str) -> ConversationInfo:
        """``who``'s conversation, in a workspace they may still see (else ``NotFound``)."""
        info = self._conversation(self.owner(who), conversation_id)
        self.authorize(who, "reader", workspace=info.workspace)
        return info

    def rename_conversation(
        self, who: str | None, conversation_id: str, title: str
    ) -> ConversationInfo:
        """Give ``who``'s conversation a new title."""
        info = self._visible_conversation(who, conversation_id)
        return self.state.conversations.rename(info.id, self.owner(who), title)

    def delete_conversation(self, who: str | None, conversation_id: str) -> None:
        """Delete ``who``'s conversation and its turns."""
        info = self._visible_conversation(who, conversation_id)
        self.state.conversations.delete(info.id, self.owner(who))

    # ---- feedback --------------------------------------------------------------------------
    def give_feedback(
        self, who: str | None, turn_id: int, kind: str, passage: int | None = None
    ) -> Feedback:
        """Keep ``kind`` feedback (up, down, passage) on turn ``turn_id`` of ``who``'s."""
        owner = self.owner(who)
        try:
            info, turn = self.state.conversations.turn(turn_id, owner)
        except ConversationNotFound as exc:
            raise NotFound(str(exc)) from None
        self.authorize(who, "reader", workspace=info.workspace)
        return self.state.feedback.add(owner, info.workspace, turn, kind, passage)

    def feedback(self, who: str | None, workspace: str = DEFAULT_WORKSPACE) -> list[Feedback]:
        """The feedback kept in ``workspace`` (editors)."""
        self.authorize(who, "editor", workspace=workspace)
        return self.state.feedback.of_workspace(workspace)

    # ---- documents -------------------------------------------------------------------------
    def documents(self, who: str | None, workspace: str = DEFAULT_WORKSPACE) -> list[DocumentInfo]:
        """The indexed documents (none while the workspace's indexing runs)."""
        return self.served(who, workspace).documents()

    def add_files(
        self,
        who: str | None,
        paths: Sequence[Path | str],
        names: Sequence[str] | None = None,
        on_progress: ProgressCallback | None = None,
        workspace: str = DEFAULT_WORKSPACE,
    ) -> AddResult:
        """Check, save and index uploaded files (editors); each outcome goes to the audit log."""
        self.authorize(who, "editor", "upload", workspace)
        result = self.served(who, workspace, "editor").add_files(paths, names, on_progress)
        for added in result.accepted:
            self.state.audit.record(who, "upload", added, "added", workspace=workspace)
        for rejected, reason in result.rejected:
            self.state.audit.record(
                who, "upload", rejected, f"rejected: {reason}", workspace=workspace
            )
        return result

    def remove_document(
        self, who: str | None, source: str, workspace: str = DEFAULT_WORKSPACE
    ) -> None:
        """Delete corpus file ``source`` and its passages (editors).

        Raises:
            NotFound: ``source`` is not a document of the corpus (logged as a failed delete).
        """
        self.authorize(who, "editor", "delete", workspace)
        try:
            self.served(who, workspace, "editor").remove_document(source)
        except DocQAError as exc:
            self.state.audit.record(who, "delete", source, f"failed: {exc}", workspace=workspace)
            raise NotFound(str(exc)) from None
        self.state.audit.record(who, "delete", source, "deleted", workspace=workspace)

    def audit_entries(
        self, who: str | None, count: int = 10, workspace: str = DEFAULT_WORKSPACE
    ) -> list[dict[str, Any]]:
        """The last ``count`` audit entries of ``workspace`` for its editors; else nothing."""
        if not self.may(who, "editor", workspace):
            return []
        unscoped = workspace == DEFAULT_WORKSPACE  # user changes show with the default's
        return self.state.audit.latest(count, workspace=workspace, unscoped=unscoped)
