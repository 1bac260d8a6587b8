"""The JSON API's routes for kept conversations (list, read, rename, delete, export) and the
feedback given on their answers.

A conversation belongs to the user who asked it: the service answers another user's as not
found, so these routes never check ownership themselves.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Query, Response

from docqa.conversation_export import conversation_data, to_json, to_markdown
from docqa.service import LibraryService
from docqa.web.api_auth import answering, caller
from docqa.web.api_models import ConversationId, ExportFormat, FeedbackRequest, RenameRequest

_MEDIA_TYPES: dict[str, str] = {"md": "text/markdown; charset=utf-8", "json": "application/json"}
"""The media type of each export format (which is also the downloaded file's extension)."""


def _export(
    service: LibraryService, who: str | None, conversation_id: str, export_format: str
) -> Response:
    """The conversation as a download: Markdown to read, or JSON."""
    with answering():
        info, turns = service.conversation(who, conversation_id)
    text = to_markdown(info, turns) if export_format == "md" else to_json(info, turns)
    disposition = f'attachment; filename="docqa-conversation-{info.id}.{export_format}"'
    headers = {"Content-Disposition": disposition}
    return Response(text, media_type=_MEDIA_TYPES[export_format], headers=headers)


def register(app: FastAPI, service: LibraryService) -> None:
    """Add the conversation and feedback routes to ``app``."""
    signed_in = Depends(caller(service))

    # ---- kept conversations ----------------------------------------------------------------
    @app.get("/api/conversations", tags=["conversations"])
    def api_conversations(
        workspace: str | None = Query(None, description="Only this workspace's."),  # noqa: B008
        who: str | None = signed_in,
    ) -> list[dict[str, Any]]:
        """Your kept conversations, most recent first."""
        with answering():
            found = service.conversations(who, workspace)
        return [info.to_dict() for info in found]

    @app.get("/api/conversations/{conversation_id}", tags=["conversations"])
    def api_conversation(
        conversation_id: ConversationId, who: str | None = signed_in
    ) -> dict[str, Any]:
        """One of your conversations with its turns, each answer as first shown."""
        with answering():
            info, turns = service.conversation(who, conversation_id)
        return conversation_data(info, turns)

    @app.patch("/api/conversations/{conversation_id}", tags=["conversations"])
    def api_rename(
        conversation_id: ConversationId, body: RenameRequest, who: str | None = signed_in
    ) -> dict[str, Any]:
        """Give one of your conversations a new title."""
        with answering():
            info = service.rename_conversation(who, conversation_id, body.title)
        return info.to_dict()

    @app.delete("/api/conversations/{conversation_id}", tags=["conversations"])
    def api_delete_conversation(
        conversation_id: ConversationId, who: str | None = signed_in
    ) -> dict[str, str]:
        """Delete one of your conversations and its turns."""
        with answering():
            service.delete_conversation(who, conversation_id)
        return {"deleted": conversation_id}

    @app.get("/api/conversations/{conversation_id}/export", tags=["conversations"])
    def api_export(
        conversation_id: ConversationId,
        export_format: ExportFormat = Query(  # noqa: B008
            "md", alias="format", description="md (Markdown, to read) or json."
        ),
        who: str | None = signed_in,
    ) -> Response:
        """Download one of your conversations: every answer with its exact quotes."""
        return _export(service, who, conversation_id, export_format)

    # ---- feedback --------------------------------------------------------------------------
    @app.get("/api/workspaces/{workspace}/feedback", tags=["workspaces"])
    def api_workspace_feedback(workspace: str, who: str | None = signed_in) -> list[dict[str, Any]]:
        """The feedback given in the workspace, oldest first (editors)."""
        with answering():
            found = service.feedback(who, workspace)
        return [item.to_dict() for item in found]

    @app.post("/api/feedback", tags=["feedback"])
    def api_feedback(body: FeedbackRequest, who: str | None = signed_in) -> dict[str, Any]:
        """Say whether one of your kept answers was right, or which passage answers it."""
        with answering():
            kept = service.give_feedback(who, body.turn_id, body.kind, body.passage)
        return kept.to_dict()
