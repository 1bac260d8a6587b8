"""One workspace as a server serves it: start-up indexing, its lock, and refusals' statuses.

A ``ServedWorkspace`` wraps a ``DocQA``: requests wait for its indexing (or are told it
failed), questions share its read lock and document changes hold it alone. ``ServiceError``
and its subclasses carry the HTTP status the JSON API answers with.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

from docqa import library
from docqa.api import DocQA
from docqa.conversation import History
from docqa.errors import DocQAError
from docqa.library import AddResult, DocumentInfo
from docqa.locks import ReadWriteLock
from docqa.models import Answer
from docqa.progress import EmbeddingProgress, ProgressCallback
from docqa.workspaces import DEFAULT_WORKSPACE

INDEXING_WAIT_SECONDS = 600.0
"""How long a request waits for a workspace's indexing before it is refused."""

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
    """The request names something that is not there, or that the user may not see."""

    status = 404


class NotReady(ServiceError):
    """The workspace is still indexing, or its indexing failed."""

    status = 503


class ServedWorkspace:
    """``qa`` served to concurrent requests.

    Args:
        name: The workspace's name.
        qa: Its corpus and index.
        wait_seconds: How long a request waits for the indexing.
    """

    def __init__(self, name: str, qa: DocQA, wait_seconds: float) -> None:
        self.name = name
        self.qa = qa
        self.wait_seconds = wait_seconds
        self.lock = ReadWriteLock()
        self.ready = threading.Event()
        self.status = "Indexing the documents…"
        self.failed = False

    def start_indexing(self) -> threading.Thread:
        """Index the corpus in a background thread (requests wait for it, or are told to)."""
        thread = threading.Thread(target=self.index, name=f"docqa-index-{self.name}", daemon=True)
        thread.start()
        return thread

    def mark_ready(self, status: str = "Ready.") -> None:
        """Serve the index as it is, without indexing first."""
        self.status = status
        self.ready.set()

    def index(self) -> None:
        """Bring the index in line with the corpus folder, reporting progress in ``status``."""

        def progress(state: EmbeddingProgress) -> None:
            self.status = f"Indexing the documents… {state.describe()}"

        try:
            corpus = self.qa.settings.corpus_dir
            if self.name != DEFAULT_WORKSPACE and not corpus.exists():
                corpus.mkdir(parents=True)  # a new workspace, waiting for its first upload
            with self.lock.writing():
                report = self.qa.ingest(on_progress=progress)
            self.status = f"Ready. Index: {report.summary()}"
        except (DocQAError, OSError) as exc:
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

    def wait_until_indexed(self) -> None:
        """Return once the index is ready (raises ``NotReady`` on a timeout or a failure)."""
        if not self.ready.wait(timeout=self.wait_seconds) or self.failed:
            raise NotReady(self.status)

    def ask_stream(self, question: str, history: History) -> Iterator[str | Answer]:
        """``DocQA.ask_stream`` under the read lock, once indexed."""
        self.wait_until_indexed()
        with self.lock.reading():
            yield from self.qa.ask_stream(question, history=list(history))

    def documents(self) -> list[DocumentInfo]:
        """The indexed documents (none while the indexing runs)."""
        return library.list_documents(self.qa) if self.ready.is_set() else []

    def add_files(
        self,
        paths: Sequence[Path | str],
        names: Sequence[str] | None,
        on_progress: ProgressCallback | None,
    ) -> AddResult:
        """``library.add_files`` under the write lock."""
        self.ready.wait(timeout=self.wait_seconds)  # an ingest after a failed one may mend it
        with self.lock.writing():
            result = library.add_files(self.qa, paths, names=names, on_progress=on_progress)
        if result.report is not None and self.failed:
            self.failed, self.status = False, f"Ready. Index: {result.report.summary()}"
        return result

    def remove_document(self, source: str) -> None:
        """``library.remove_document`` under the write lock (``DocQAError`` when unknown)."""
        self.ready.wait(timeout=self.wait_seconds)
        with self.lock.writing():
            library.remove_document(self.qa, source)
