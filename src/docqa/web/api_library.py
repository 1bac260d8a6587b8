"""The JSON API's library routes: workspaces, questions and documents.

Each operation is one function, shared by the workspace route (``/api/workspaces/{ws}/...``)
and the ``default`` workspace's older route (``/api/ask``, ``/api/documents``), so that the two
can never drift apart.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, File, HTTPException, UploadFile

from docqa.service import LibraryService
from docqa.web.api_auth import answering, caller
from docqa.web.api_models import AskRequest, WorkspaceAskRequest
from docqa.workspaces import DEFAULT_WORKSPACE

UPLOAD_PIECE_BYTES = 1024 * 1024
"""Uploads are copied to disk in pieces of this size, never read whole into memory."""


def _save_bounded(upload: UploadFile, path: Path, max_bytes: int) -> None:
    """Copy ``upload`` to ``path`` in pieces, stopping one piece past ``max_bytes`` (the
    library then refuses the file as too large, naming the limit)."""
    written = 0
    with path.open("wb") as out:
        while written <= max_bytes:
            piece = upload.file.read(UPLOAD_PIECE_BYTES)
            if not piece:
                break
            out.write(piece)
            written += len(piece)


def _ask(
    service: LibraryService,
    who: str | None,
    workspace: str,
    question: str,
    conversation_id: str | None,
    history: list[tuple[str, str]] | None = None,
) -> dict[str, Any]:
    """The answer's JSON; kept unless the client sent its own ``history`` (None: it did not)."""
    if history is not None and conversation_id is not None:
        raise HTTPException(
            422,
            "Send either 'history' (a conversation you keep yourself) or 'conversation_id' "
            "(a conversation the server keeps), not both.",
        )
    with answering():
        if history is not None:
            reply = service.ask(who, question, workspace=workspace, history=history, keep=False)
        else:
            reply = service.ask(who, question, workspace=workspace, conversation_id=conversation_id)
    return reply.to_dict()


def _documents(service: LibraryService, who: str | None, workspace: str) -> list[dict[str, Any]]:
    with answering():
        docs = service.documents(who, workspace)
    return [{"source": d.source, "title": d.title, "chunks": d.chunks} for d in docs]


def _upload(
    service: LibraryService,
    who: str | None,
    workspace: str,
    files: Sequence[UploadFile],
) -> dict[str, Any]:
    """Copy the uploads to a temporary folder, each bounded, then hand them to the service."""
    max_bytes = service.qa.settings.max_file_bytes
    with answering():
        service.authorize(who, "editor", "upload", workspace)  # refuse before copying a file
        with tempfile.TemporaryDirectory() as tmp:
            paths, names = [], []
            for i, upload in enumerate(files):
                path = Path(tmp) / f"upload-{i}"
                _save_bounded(upload, path, max_bytes)
                paths.append(path)
                names.append(upload.filename or f"upload-{i}")
            result = service.add_files(who, paths, names=names, workspace=workspace)
    return {
        "accepted": list(result.accepted),
        "rejected": [{"file": n, "reason": r} for n, r in result.rejected],
    }


def _delete(service: LibraryService, who: str | None, workspace: str, name: str) -> dict[str, str]:
    with answering():
        service.remove_document(who, name, workspace)
    return {"deleted": name}


def register(app: FastAPI, service: LibraryService) -> None:
    """Add the workspace, question and document routes to ``app``."""
    signed_in = Depends(caller(service))
    uploaded = File(..., description="The documents to add.")

    # ---- workspaces ------------------------------------------------------------------------
    @app.get("/api/workspaces", tags=["workspaces"])
    def api_workspaces(who: str | None = signed_in) -> list[dict[str, str]]:
        """The workspaces you may use, with your role in each, ``default`` first."""
        with answering():
            found = service.workspaces(who)
        return [{"name": workspace.name, "role": role} for workspace, role in found]

    @app.post("/api/workspaces/{workspace}/ask", tags=["workspaces"])
    def api_workspace_ask(
        workspace: str, body: WorkspaceAskRequest, who: str | None = signed_in
    ) -> dict[str, Any]:
        """Answer from the workspace's documents (every sentence cited), or abstain; the turn
        is kept in ``conversation_id`` (a new conversation when none was sent)."""
        return _ask(service, who, workspace, body.question, body.conversation_id)

    @app.get("/api/workspaces/{workspace}/documents", tags=["workspaces"])
    def api_workspace_documents(
        workspace: str, who: str | None = signed_in
    ) -> list[dict[str, Any]]:
        """The workspace's indexed documents: source, title and number of passages."""
        return _documents(service, who, workspace)

    @app.post("/api/workspaces/{workspace}/documents", tags=["workspaces"])
    def api_workspace_upload(
        workspace: str,
        files: list[UploadFile] = uploaded,
        who: str | None = signed_in,
    ) -> dict[str, Any]:
        """Add documents to the workspace (editors): each is checked, saved and indexed."""
        return _upload(service, who, workspace, files)

    @app.delete("/api/workspaces/{workspace}/documents/{name:path}", tags=["workspaces"])
    def api_workspace_delete(
        workspace: str, name: str, who: str | None = signed_in
    ) -> dict[str, str]:
        """Delete a document of the workspace (editors): the file and its passages."""
        return _delete(service, who, workspace, name)

    # ---- the default workspace, as before workspaces -----------------------------------------
    @app.post("/api/ask", tags=["docqa"])
    def api_ask(body: AskRequest, who: str | None = signed_in) -> dict[str, Any]:
        """Answer a question from the ``default`` documents (every sentence cited), or abstain.
        With ``history`` the answer is not kept; without, as POST /api/workspaces/default/ask."""
        # Only a history the client actually sent means "not kept"; the default [] does not.
        history = body.history if "history" in body.model_fields_set else None
        return _ask(service, who, DEFAULT_WORKSPACE, body.question, body.conversation_id, history)

    @app.get("/api/documents", tags=["docqa"])
    def api_documents(who: str | None = signed_in) -> list[dict[str, Any]]:
        """The indexed documents of ``default``: source, title and number of passages."""
        return _documents(service, who, DEFAULT_WORKSPACE)

    @app.post("/api/documents", tags=["docqa"])
    def api_upload(
        files: list[UploadFile] = uploaded, who: str | None = signed_in
    ) -> dict[str, Any]:
        """Add documents to ``default`` (editors): each is checked, saved and indexed."""
        return _upload(service, who, DEFAULT_WORKSPACE, files)

    @app.delete("/api/documents/{name:path}", tags=["docqa"])
    def api_delete(name: str, who: str | None = signed_in) -> dict[str, str]:
        """Delete a document of ``default`` (editors): the file and its passages."""
        return _delete(service, who, DEFAULT_WORKSPACE, name)
