"""The one service layer behind the web page and the JSON API.

Every request that touches the library goes through here, so that each step is written once:
the role check (a refusal of a signed-in user is written to the audit log), waiting for the
start-up indexing, the index lock (questions share it, writes hold it alone), the library call
and the audit entry. Neither Gradio nor FastAPI is imported: a refusal is a ``ServiceError``
carrying an HTTP status, which the page shows as a message and the JSON API answers with.
Who the caller is (a page session, HTTP Basic, a bearer token) is the caller's business; the
service takes the signed-in name (None when the server has no users).

Example:
    >>> service = LibraryService(DocQA(), users=None)
    >>> service.start_indexing().join()
    >>> service.ask(None, "Who led the Iraqi delegation?").text
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from docqa import audit, library
from docqa.api import DocQA
from docqa.conversation import History
from docqa.errors import DocQAError
from docqa.ingest import ProgressCallback
from docqa.library import AddResult, DocumentInfo
from docqa.locks import ReadWriteLock
from docqa.models import Answer
from docqa.users import ROLES, Role, UserStore

INDEXING_WAIT_SECONDS = 600.0
"""How long a request waits for the start-up indexing before it is refused."""

StatusKind = Literal["busy", "ready", "error"]


class ServiceError(DocQAError):
    """A request the service refuses; ``status`` is the HTTP status the JSON API answers."""

    status = 400


class SignInRequired(ServiceError):
    """No signed-in user, on a server that has users."""

    status = 401


class Forbidden(ServiceError, PermissionError):
    """The signed-in user's role does not allow the request."""

    status = 403


class NotFound(ServiceError):
    """The request names a document that is not in the library."""

    status = 404


class NotReady(ServiceError):
    """The library is still indexing, or its indexing failed."""

    status = 503


class LibraryService:
    """A ``DocQA`` served to several users: roles, start-up indexing, locking and the audit log.

    Args:
        qa: The corpus and index served.
        users: The users file; None serves everyone (a loopback-only server without users).
        wait_seconds: How long a request waits for the start-up indexing.
    """

    def __init__(
        self,
        qa: DocQA,
        users: UserStore | None = None,
        *,
        wait_seconds: float = INDEXING_WAIT_SECONDS,
    ) -> None:
        self.qa = qa
        self.users = users
        self.wait_seconds = wait_seconds
        self.lock = ReadWriteLock()
        self.ready = threading.Event()
        self.status = "Indexing the documents…"
        self.failed = False

    @property
    def index_dir(self) -> Path:
        """Where the index, and the audit log beside it, live."""
        return self.qa.settings.index_dir

    # ---- start-up indexing -----------------------------------------------------------------
    def start_indexing(self) -> threading.Thread:
        """Index the corpus in a background thread (requests wait for it, or are told to)."""
        thread = threading.Thread(target=self._index, name="docqa-index", daemon=True)
        thread.start()
        return thread

    def mark_ready(self, status: str = "Ready.") -> None:
        """Serve the index as it is, without indexing first."""
        self.status = status
        self.ready.set()

    def _index(self) -> None:
        def progress(done: int, total: int) -> None:
            self.status = f"Indexing the documents… {done:,} of {total:,} passages embedded"

        try:
            with self.lock.writing():
                report = self.qa.ingest(on_progress=progress)
            self.status = f"Ready. Index: {report.summary()}"
        except DocQAError as exc:
            self.failed = True
            self.status = f"Indexing failed: {exc}"
        finally:
            self.ready.set()

    @property
    def status_kind(self) -> StatusKind:
        """``busy`` while indexing, ``error`` when it failed, else ``ready``."""
        if self.failed:
            return "error"
        return "ready" if self.ready.is_set() else "busy"

    def _wait_until_indexed(self) -> None:
        if not self.ready.wait(timeout=self.wait_seconds) or self.failed:
            raise NotReady(self.status)

    # ---- who may do what -------------------------------------------------------------------
    def authorize(self, who: str | None, role: Role, action: str | None = None) -> str | None:
        """``who`` when they hold ``role`` (None when the server has no users).

        Raises:
            SignInRequired: nobody is signed in.
            Forbidden: naming the role needed and how to get it; a refused ``action`` is written
                to the audit log.
        """
        if self.users is None:
            return None
        user = self.users.get(who) if who else None
        if user is None:
            raise SignInRequired("Sign in first.")
        if not user.may(role):
            if action is not None:
                audit.record(self.index_dir, user.name, action, None, f"refused: needs {role}")
            needed = ", ".join(r for r in ROLES if ROLES.index(r) >= ROLES.index(role))
            raise Forbidden(
                f"{user.name} is a {user.role}: this needs the role {needed}. Ask an admin to "
                f"run 'docqa user add {user.name} --role {role} --replace'."
            )
        return user.name

    def may(self, who: str | None, role: Role) -> bool:
        """Whether ``who`` holds ``role`` (without logging a refusal)."""
        try:
            self.authorize(who, role)
        except ServiceError:
            return False
        return True

    # ---- questions -------------------------------------------------------------------------
    def ask_stream(
        self, who: str | None, question: str, history: History = ()
    ) -> Iterator[str | Answer]:
        """Text as it is written, then the final ``Answer`` (see ``DocQA.ask_stream``).

        Raises:
            ServiceError: refused, or the library is not indexed; ``DocQAError`` (a bad
                question) passes through with its own message.
        """
        self.authorize(who, "reader")
        self._wait_until_indexed()
        with self.lock.reading():
            yield from self.qa.ask_stream(question, history=list(history))

    def ask(self, who: str | None, question: str, history: History = ()) -> Answer:
        """The answer to ``question`` (see ``ask_stream``)."""
        answer = None
        for item in self.ask_stream(who, question, history):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None  # ask_stream always ends with the Answer
        return answer

    # ---- documents -------------------------------------------------------------------------
    def documents(self, who: str | None) -> list[DocumentInfo]:
        """The indexed documents (none while the start-up indexing runs)."""
        self.authorize(who, "reader")
        return library.list_documents(self.qa) if self.ready.is_set() else []

    def add_files(
        self,
        who: str | None,
        paths: Sequence[Path | str],
        names: Sequence[str] | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> AddResult:
        """Check, save and index uploaded files (editors); each outcome goes to the audit log."""
        name = self.authorize(who, "editor", "upload")
        self.ready.wait(timeout=self.wait_seconds)  # an ingest after a failed one may mend it
        with self.lock.writing():
            result = library.add_files(self.qa, paths, names=names, on_progress=on_progress)
        for added in result.accepted:
            audit.record(self.index_dir, name, "upload", added, "added")
        for rejected, reason in result.rejected:
            audit.record(self.index_dir, name, "upload", rejected, f"rejected: {reason}")
        return result

    def remove_document(self, who: str | None, source: str) -> None:
        """Delete corpus file ``source`` and its passages (editors).

        Raises:
            NotFound: ``source`` is not a document of the corpus (logged as a failed delete).
        """
        name = self.authorize(who, "editor", "delete")
        self.ready.wait(timeout=self.wait_seconds)
        try:
            with self.lock.writing():
                library.remove_document(self.qa, source)
        except DocQAError as exc:
            audit.record(self.index_dir, name, "delete", source, f"failed: {exc}")
            raise NotFound(str(exc)) from None
        audit.record(self.index_dir, name, "delete", source, "deleted")

    def audit_entries(self, who: str | None, count: int = 10) -> list[dict[str, Any]]:
        """The last ``count`` audit entries for an editor; nothing for anyone else."""
        if not self.may(who, "editor"):
            return []
        return audit.latest(self.index_dir, count)
