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
    >>> service.ask(None, "Who led the Iraqi delegation?").shown.answer.text
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docqa import library
from docqa.api import DocQA
from docqa.conversation import History
from docqa.conversation_access import ConversationAccess
from docqa.conversation_store import (
    ConversationFullError,
    ConversationNotFound,
)
from docqa.document_view import Span, check_span, load_document, with_links
from docqa.errors import DocQAError
from docqa.library import AddResult, DocumentInfo
from docqa.models import Document
from docqa.progress import ProgressCallback
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
from docqa.users import Role
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
    """An answer as shown, its workspace, and where it was kept (None when it was not)."""

    shown: ShownAnswer
    workspace: str = DEFAULT_WORKSPACE
    conversation_id: str | None = None
    turn_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """The answer's JSON, each citation and closest passage with its ``view_url`` (and a
        PDF's ``page_image_url``), with ``conversation_id`` and ``turn_id``."""
        answer = self.shown.answer
        return {
            **answer.to_dict(),
            "citations": [with_links(self.workspace, c, c.to_dict()) for c in answer.citations],
            "closest": [with_links(self.workspace, c, c.to_dict()) for c in answer.closest],
            "conversation_id": self.conversation_id,
            "turn_id": self.turn_id,
        }


class LibraryService(ConversationAccess):
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
        super().__init__(state, protected=protected)
        self.qa = qa
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
            yield Reply(shown, workspace)
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
        yield Reply(shown, workspace, info.id, turn.id)

    def ask(self, who: str | None, question: str, **options: Any) -> Reply:
        """The reply to ``question`` (see ``ask_stream`` for the options)."""
        reply = None
        for item in self.ask_stream(who, question, **options):
            if isinstance(item, Reply):
                reply = item
        assert reply is not None
        return reply

    # ---- documents -------------------------------------------------------------------------
    def documents(self, who: str | None, workspace: str = DEFAULT_WORKSPACE) -> list[DocumentInfo]:
        """The indexed documents (none while the workspace's indexing runs)."""
        return self.served(who, workspace).documents()

    def document_view(
        self, who: str | None, workspace: str, source: str, doc_id: str | None, span: Span
    ) -> tuple[Document, Path]:
        """The document ``doc_id`` of corpus file ``source`` in ``workspace``, for the viewer,
        with the file's path: reading it needs what asking needs (``NotFound`` otherwise, and
        for anything outside the workspace's corpus folder)."""
        qa = self.served(who, workspace).qa
        try:
            path = library.resolve_source(qa, source)
            document = load_document(path, source, doc_id, qa.settings.max_file_bytes)
        except DocQAError as exc:
            raise NotFound(str(exc)) from None
        check_span(document, span)  # a malformed span is the request's fault (ViewError)
        return document, path

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
