"""The Documents tab: the workspace's document table, its editors' upload and delete tools,
the role note that says who may use them, and the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gradio as gr

from docqa.errors import DocQAError
from docqa.progress import EmbeddingProgress
from docqa.service import LibraryService, NotFound, ServiceError
from docqa.web.page_session import page_errors, who_signed_in
from docqa.web.render import render_audit, render_documents, render_status

# Gradio finds the request and the progress bar by each handler's type hints and defaults,
# resolved from this module's names: every annotated type must be imported here at run time.


class DocumentsTab:
    """The handlers of the Documents tab, each a thin caller of ``service`` (which checks the
    signed-in user's role: readers list documents; editors also upload and delete)."""

    def __init__(self, service: LibraryService) -> None:
        self.service = service

    def documents_view(self, workspace: str, who: str | None) -> tuple[str, Any]:
        """The document table and the choices of the delete dropdown."""
        try:
            docs = self.service.documents(who, workspace)
        except ServiceError:
            docs = []
        sources = [d.source for d in docs]
        return render_documents(docs), gr.Dropdown(choices=sources, value=None)

    def audit_view(self, workspace: str, request: gr.Request) -> str:
        return render_audit(self.service.audit_entries(who_signed_in(request), workspace=workspace))

    def role_view(self, workspace: str, request: gr.Request) -> tuple[Any, ...]:
        """The role note, the editor's tools (upload, delete) and the audit log: readers see no
        upload or delete controls (the service refuses them anyway)."""
        who = who_signed_in(request)
        try:
            role = self.service.role_in(who, workspace)
        except ServiceError as exc:
            hidden = gr.update(visible=False)
            return render_status(str(exc), "error"), hidden, hidden, ""
        if not self.service.may(who, "editor", workspace):
            note = render_status(
                f"Signed in as {who or 'you'} ({role}) in workspace {workspace}: you can ask; an "
                "editor adds and deletes documents.",
                "ready",
            )
            hidden = gr.update(visible=False)
            return note, hidden, hidden, ""
        note = render_status(f"Signed in as {who} ({role}) in workspace {workspace}.", "ready")
        shown = gr.update(visible=True)
        return (note if who else ""), shown, shown, self.audit_view(workspace, request)

    def upload(
        self,
        files: list[str] | None,
        workspace: str,
        request: gr.Request,
        progress: Any = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        who = who_signed_in(request)
        if not files:
            with page_errors():
                self.service.authorize(who, "editor", "upload", workspace)
            note = render_status("Choose one or more files first.", "error")
            return (note, *self.documents_view(workspace, who))

        def on_progress(state: EmbeddingProgress) -> None:
            progress((state.done, state.total), desc=state.describe(), unit="passages")

        with page_errors():
            result = self.service.add_files(
                who, [Path(f) for f in files], on_progress=on_progress, workspace=workspace
            )
        lines = [f"Added {name}" for name in result.accepted]
        lines += [f"Rejected {name}: {reason}" for name, reason in result.rejected]
        kind = "error" if result.rejected else "ready"
        return (render_status("\n".join(lines), kind), *self.documents_view(workspace, who))

    def delete(self, source: str | None, workspace: str, request: gr.Request) -> tuple[Any, ...]:
        who = who_signed_in(request)
        if not source:
            with page_errors():
                self.service.authorize(who, "editor", "delete", workspace)
            note = render_status("Pick a document to delete.", "error")
            return (note, *self.documents_view(workspace, who))
        try:
            self.service.remove_document(who, source, workspace)
        except NotFound as exc:  # shown in the status line; other refusals as errors
            return (render_status(str(exc), "error"), *self.documents_view(workspace, who))
        except DocQAError as exc:
            raise gr.Error(str(exc)) from None
        return (render_status(f"Deleted {source}", "ready"), *self.documents_view(workspace, who))
