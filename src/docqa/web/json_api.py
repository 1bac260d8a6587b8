"""The JSON HTTP API, on the same server and with the same users as the page.

    GET    /api/workspaces                          -> [{"name", "role"}], default first
    POST   /api/workspaces/{ws}/ask                 {"question", "conversation_id"?} -> the Answer
    GET    /api/workspaces/{ws}/documents           -> [{"source", "title", "chunks"}]
    POST   /api/workspaces/{ws}/documents           multipart "files" (editors)
                                                    -> {"accepted", "rejected"}
    DELETE /api/workspaces/{ws}/documents/{name}    (editors) -> {"deleted": name}
    GET    /api/workspaces/{ws}/feedback            (editors) -> [the Feedback]
    POST   /api/ask                                 {"question", "history"?, "conversation_id"?}
                                                    -> the Answer, in ``default``
    GET    /api/documents                           as /api/workspaces/default/documents
    POST   /api/documents                           as /api/workspaces/default/documents
    DELETE /api/documents/{name}                    as /api/workspaces/default/documents/{name}
    GET    /api/conversations?workspace=ws          -> [the conversation], most recent first
    GET    /api/conversations/{id}                  -> {"conversation", "turns"}
    PATCH  /api/conversations/{id}                  {"title"} -> the conversation
    DELETE /api/conversations/{id}                  -> {"deleted": id}
    GET    /api/conversations/{id}/export?format=md|json  -> a Markdown or JSON download
    POST   /api/feedback                            {"turn_id", "kind", "passage"?} -> the Feedback

An answer is the ``Answer``'s JSON with ``conversation_id`` and ``turn_id``: where it was kept.
A question without ``conversation_id`` starts a new kept conversation; with one, it continues
that conversation, whose earlier turns come from the server's store, never from the client. A
client that keeps its own history sends ``history`` (pairs of question and answer text) to
``/api/ask``: that answer is not kept (``conversation_id`` is null). A workspace the caller may
not see answers 404 exactly as an unknown one, and another user's conversation is not found.
Feedback ``kind`` is ``up`` or ``down`` on an answer, or ``passage`` with ``passage``: the
number of the closest passage (of an abstention) or of the citation that answers.

Sign in with HTTP Basic (a user's name and password) or ``Authorization: Bearer <token>`` (from
``docqa token create NAME``), both declared through ``fastapi.security`` so that the OpenAPI
description (``/api/openapi.json``) shows them. Without users (a loopback-only server) the
API is open, as the page is. Every route signs the caller in and calls the service layer
(``docqa.service``); its refusals answer with their status: 401, 403, 404, 503 (still indexing).
A request the API cannot use (an over-long question, an empty title, an unknown feedback kind)
answers 400 or 422 with a message saying what to send.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import (
    Depends,
    FastAPI,
    File,
    HTTPException,
    Query,
    Request,
    Response,
    Security,
    UploadFile,
)
from fastapi import Path as PathParam
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from pydantic import BaseModel, ConfigDict, Field, model_validator

from docqa.conversation_export import to_json, to_markdown
from docqa.conversation_store import MAX_TITLE_CHARS
from docqa.errors import DocQAError
from docqa.feedback import FeedbackKind
from docqa.service import LibraryService, ServiceError
from docqa.users import User, UserStore
from docqa.workspaces import DEFAULT_WORKSPACE

UPLOAD_PIECE_BYTES = 1024 * 1024
"""Uploads are copied to disk in pieces of this size, never read whole into memory."""

CONVERSATION_ID_CHARS = 32
"""A conversation id is 32 hexadecimal characters; a longer one is refused, not cut."""

ExportFormat = Literal["md", "json"]
_MEDIA_TYPES: dict[str, str] = {"md": "text/markdown; charset=utf-8", "json": "application/json"}
"""The media type of each export format (which is also the downloaded file's extension)."""

ConversationId = Annotated[
    str,
    PathParam(
        min_length=1,
        max_length=CONVERSATION_ID_CHARS,
        description="A conversation id, as GET /api/conversations lists them.",
    ),
]


class AskRequest(BaseModel):
    """A question in ``default``; ``history`` when the client keeps the conversation itself
    (the answer is not kept), else ``conversation_id`` to continue a kept one."""

    question: str
    history: list[tuple[str, str]] = Field(
        default_factory=list,
        description="Earlier (question, answer) turns, oldest first; the answer is not kept.",
    )
    conversation_id: str | None = Field(
        None,
        max_length=CONVERSATION_ID_CHARS,
        description="Continue this kept conversation; leave out (with no history) to start one.",
    )


class WorkspaceAskRequest(BaseModel):
    """A question, and the kept conversation it continues (None: start a new one). Earlier
    turns come from the conversation, so ``history`` is refused rather than ignored."""

    model_config = ConfigDict(extra="forbid")

    question: str
    conversation_id: str | None = Field(
        None,
        max_length=CONVERSATION_ID_CHARS,
        description="Continue this kept conversation; leave out to start a new one.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_client_history(cls, data: Any) -> Any:
        if isinstance(data, dict) and "history" in data:
            raise ValueError(
                "This route keeps the conversation itself: send 'conversation_id' (from the "
                "previous answer) instead of 'history', or POST /api/ask with your own history."
            )
        return data


class RenameRequest(BaseModel):
    """A conversation's new title."""

    title: str = Field(max_length=MAX_TITLE_CHARS, description="1-200 characters.")


class FeedbackRequest(BaseModel):
    """Feedback on one kept answer (``turn_id`` from the answer's JSON)."""

    turn_id: int
    kind: FeedbackKind = Field(
        description="up or down on the answer, or passage: this passage answers it."
    )
    passage: int | None = Field(
        None,
        ge=1,
        description="With kind passage: the number of the closest passage or the citation.",
    )

    @model_validator(mode="after")
    def _passage_with_its_kind(self) -> FeedbackRequest:
        if self.kind == "passage" and self.passage is None:
            raise ValueError(
                "kind 'passage' needs 'passage': the number of the closest passage or "
                "citation that answers the question."
            )
        if self.kind != "passage" and self.passage is not None:
            raise ValueError(
                f"'passage' goes with kind 'passage' only; send kind {self.kind!r} without it."
            )
        return self


def _challenge(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Basic realm="docqa"'})


class _Basic(HTTPBasic):
    """HTTP Basic as ``fastapi.security`` declares it (so the OpenAPI description shows it),
    decoding the credentials as UTF-8: FastAPI's own reading accepts ASCII passwords only."""

    async def __call__(self, request: Request) -> HTTPBasicCredentials | None:  # type: ignore[override]
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or not value:
            return None
        try:
            name, colon, password = base64.b64decode(value).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _challenge("Malformed Basic credentials.") from None
        if not colon:
            raise _challenge("Malformed Basic credentials: expected NAME:PASSWORD.")
        return HTTPBasicCredentials(username=name, password=password)


_BASIC = _Basic(
    scheme_name="HTTPBasic",
    realm="docqa",
    auto_error=False,
    description="A user's name and password.",
)
_BEARER = HTTPBearer(auto_error=False, description="A token from 'docqa token create NAME'.")


def authenticate(
    users: UserStore | None,
    basic: HTTPBasicCredentials | None,
    bearer: HTTPAuthorizationCredentials | None,
) -> str | None:
    """The name the request's credentials belong to (None: the server has no users).

    Raises:
        HTTPException: 401 without valid credentials.
    """
    if users is None:
        return None
    user: User | None = None
    if bearer is not None:
        user = users.verify_token(bearer.credentials.strip())
    elif basic is not None:
        role = users.verify(basic.username, basic.password)
        user = User(basic.username, role) if role else None
    if user is None:
        raise _challenge("Sign in: HTTP Basic (name and password) or a Bearer token.")
    return user.name


def _http_error(exc: DocQAError) -> HTTPException:
    """A refusal of the service as its HTTP status; any other error is the request's fault."""
    status = exc.status if isinstance(exc, ServiceError) else 400
    if status == 401:
        return _challenge(str(exc))
    return HTTPException(status, str(exc))


@contextmanager
def _answering() -> Iterator[None]:
    """Turn a ``DocQAError`` raised inside into the HTTP answer it stands for."""
    try:
        yield
    except DocQAError as exc:
        raise _http_error(exc) from None


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


# ---- one function per operation, shared by the workspace routes and the default's ----------
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
    with _answering():
        if history is not None:
            reply = service.ask(who, question, workspace=workspace, history=history, keep=False)
        else:
            reply = service.ask(who, question, workspace=workspace, conversation_id=conversation_id)
    return reply.to_dict()


def _documents(service: LibraryService, who: str | None, workspace: str) -> list[dict[str, Any]]:
    with _answering():
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
    with _answering():
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
    with _answering():
        service.remove_document(who, name, workspace)
    return {"deleted": name}


def _export(
    service: LibraryService, who: str | None, conversation_id: str, export_format: str
) -> Response:
    """The conversation as a download: Markdown to read, or JSON."""
    with _answering():
        info, turns = service.conversation(who, conversation_id)
    text = to_markdown(info, turns) if export_format == "md" else to_json(info, turns)
    disposition = f'attachment; filename="docqa-conversation-{info.id}.{export_format}"'
    headers = {"Content-Disposition": disposition}
    return Response(text, media_type=_MEDIA_TYPES[export_format], headers=headers)


def register(app: FastAPI, service: LibraryService) -> None:
    """Add the ``/api`` routes to the server's FastAPI ``app``: each signs the caller in, then
    calls the service, which checks roles, waits, locks, keeps conversations and audits."""
    users = service.state.users if service.protected else None

    def caller(
        basic: HTTPBasicCredentials | None = Security(_BASIC),  # noqa: B008 - FastAPI's way
        bearer: HTTPAuthorizationCredentials | None = Security(_BEARER),  # noqa: B008
    ) -> str | None:
        return authenticate(users, basic, bearer)

    signed_in = Depends(caller)
    uploaded = File(..., description="The documents to add.")

    # ---- workspaces ------------------------------------------------------------------------
    @app.get("/api/workspaces", tags=["workspaces"])
    def api_workspaces(who: str | None = signed_in) -> list[dict[str, str]]:
        """The workspaces you may use, with your role in each, ``default`` first."""
        with _answering():
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

    @app.get("/api/workspaces/{workspace}/feedback", tags=["workspaces"])
    def api_workspace_feedback(workspace: str, who: str | None = signed_in) -> list[dict[str, Any]]:
        """The feedback given in the workspace, oldest first (editors)."""
        with _answering():
            found = service.feedback(who, workspace)
        return [item.to_dict() for item in found]

    # ---- the default workspace, as before workspaces -----------------------------------------
    @app.post("/api/ask", tags=["docqa"])
    def api_ask(body: AskRequest, who: str | None = signed_in) -> dict[str, Any]:
        """Answer a question from the ``default`` documents (every sentence cited), or abstain.
        With ``history`` the answer is not kept; without, as POST /api/workspaces/default/ask."""
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

    # ---- kept conversations ----------------------------------------------------------------
    @app.get("/api/conversations", tags=["conversations"])
    def api_conversations(
        workspace: str | None = Query(None, description="Only this workspace's."),  # noqa: B008
        who: str | None = signed_in,
    ) -> list[dict[str, Any]]:
        """Your kept conversations, most recent first."""
        with _answering():
            found = service.conversations(who, workspace)
        return [info.to_dict() for info in found]

    @app.get("/api/conversations/{conversation_id}", tags=["conversations"])
    def api_conversation(
        conversation_id: ConversationId, who: str | None = signed_in
    ) -> dict[str, Any]:
        """One of your conversations with its turns, each answer as first shown."""
        with _answering():
            info, turns = service.conversation(who, conversation_id)
        return {"conversation": info.to_dict(), "turns": [turn.to_dict() for turn in turns]}

    @app.patch("/api/conversations/{conversation_id}", tags=["conversations"])
    def api_rename(
        conversation_id: ConversationId, body: RenameRequest, who: str | None = signed_in
    ) -> dict[str, Any]:
        """Give one of your conversations a new title."""
        with _answering():
            info = service.rename_conversation(who, conversation_id, body.title)
        return info.to_dict()

    @app.delete("/api/conversations/{conversation_id}", tags=["conversations"])
    def api_delete_conversation(
        conversation_id: ConversationId, who: str | None = signed_in
    ) -> dict[str, str]:
        """Delete one of your conversations and its turns."""
        with _answering():
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
    @app.post("/api/feedback", tags=["feedback"])
    def api_feedback(body: FeedbackRequest, who: str | None = signed_in) -> dict[str, Any]:
        """Say whether one of your kept answers was right, or which passage answers it."""
        with _answering():
            kept = service.give_feedback(who, body.turn_id, body.kind, body.passage)
        return kept.to_dict()
