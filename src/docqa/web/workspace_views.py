"""The picked workspace on the page: the status line and the timer that polls it while the
workspace indexes, the page's first views, and a switch to another workspace."""

from __future__ import annotations

from typing import Any

import gradio as gr

from docqa.service import LibraryService, ServiceError
from docqa.web.chat_view import empty_chat
from docqa.web.conversations_panel import ConversationsPanel
from docqa.web.documents_tab import DocumentsTab
from docqa.web.page_session import who_signed_in
from docqa.web.render import render_status
from docqa.workspaces import DEFAULT_WORKSPACE

# Gradio finds the request by each handler's type hints, resolved from this module's names:
# every annotated type must be imported here at run time.


class WorkspaceViews:
    """The handlers that fill the page for one workspace, from ``service``, the Documents tab
    and the conversation list."""

    def __init__(
        self,
        service: LibraryService,
        documents: DocumentsTab,
        conversations: ConversationsPanel,
    ) -> None:
        self.service = service
        self.documents = documents
        self.conversations = conversations

    def status_view(self, workspace: str, who: str | None) -> tuple[str, Any]:
        """The workspace's status line, and the timer that polls it while it indexes."""
        try:
            served = self.service.served(who, workspace)
        except ServiceError as exc:
            return render_status(str(exc), "error"), gr.Timer(active=False)
        html = render_status(served.status, served.status_kind)
        return html, gr.Timer(active=not served.ready.is_set())

    def library_view(self, workspace: str, request: gr.Request) -> tuple[Any, ...]:
        """Status, timer, role note, editor's tools, documents, delete choices and audit log."""
        who = who_signed_in(request)
        note, uploading, deleting, audit = self.documents.role_view(workspace, request)
        table, choices = self.documents.documents_view(workspace, who)
        return (*self.status_view(workspace, who), note, uploading, deleting, table, choices, audit)

    def tick(self, workspace: str, request: gr.Request) -> tuple[Any, ...]:
        who = who_signed_in(request)
        status_html, timer = self.status_view(workspace, who)
        return (status_html, *self.documents.documents_view(workspace, who), timer)

    def open_page(self, request: gr.Request) -> tuple[Any, ...]:
        """The workspaces the user may use, ``default`` first and picked, and its views."""
        who = who_signed_in(request)
        try:
            names = [w.name for w, _ in self.service.workspaces(who)]
        except ServiceError:
            names = []
        picked = names[0] if names else DEFAULT_WORKSPACE
        picker = gr.update(choices=names or [DEFAULT_WORKSPACE], value=picked)
        views = self.library_view(picked, request)
        return (picker, *views, self.conversations.conversation_list(picked, who)[0])

    def switch(self, workspace: str, request: gr.Request) -> tuple[Any, ...]:
        """Another workspace: its views, its conversations, and a new (empty) chat."""
        views = self.library_view(workspace, request)
        listed = self.conversations.conversation_list(workspace, who_signed_in(request))[0]
        return (*views, listed, *empty_chat())
