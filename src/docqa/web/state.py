"""The state behind the web page: the ``DocQA``, its background indexing, and the lock that lets
questions run together but never alongside an index write."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from typing import Any

import gradio as gr

from docqa import library
from docqa.api import DocQA
from docqa.errors import DocQAError
from docqa.models import Answer
from docqa.web.locks import ReadWriteLock
from docqa.web.render import render_documents, render_status


class Library:
    """The ``DocQA`` behind the page, its background indexing, and a lock that lets questions
    run together but never alongside an index write."""

    def __init__(self, qa: DocQA) -> None:
        self.qa = qa
        self.lock = ReadWriteLock()
        self.ready = threading.Event()
        self.status = "Indexing the documents…"
        self.failed = False

    def start_indexing(self) -> threading.Thread:
        """Index the corpus in a background thread (the page stays usable meanwhile)."""
        thread = threading.Thread(target=self._index, name="docqa-index", daemon=True)
        thread.start()
        return thread

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

    def status_html(self) -> str:
        """The status line for the page."""
        kind = "error" if self.failed else ("ready" if self.ready.is_set() else "busy")
        return render_status(self.status, kind)

    def documents_view(self) -> tuple[str, Any]:
        """The document table and the choices of the delete dropdown."""
        docs = library.list_documents(self.qa) if self.ready.is_set() else []
        sources = [d.source for d in docs]
        return render_documents(docs), gr.Dropdown(choices=sources, value=None)

    def ask(self, question: str, turns: Sequence[tuple[str, str]]) -> Answer:
        """The answer; waits for indexing (up to 10 minutes)."""
        answer = None
        for item in self.ask_stream(question, turns):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def ask_stream(self, question: str, turns: Sequence[tuple[str, str]]) -> Iterator[str | Answer]:
        """Text as it is written, then the final ``Answer`` (see ``DocQA.ask_stream``)."""
        if not self.ready.wait(timeout=600) or self.failed:
            raise gr.Error(self.status)
        try:
            with self.lock.reading():
                yield from self.qa.ask_stream(question, history=list(turns))
        except DocQAError as exc:
            raise gr.Error(str(exc)) from None
