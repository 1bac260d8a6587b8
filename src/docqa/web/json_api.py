"""The JSON HTTP API, on the same server and with the same users as the page.

    POST   /api/ask                {"question": "...", "history": [[q, a], ...]} -> the Answer
    GET    /api/documents          -> [{"source", "title", "chunks"}]
    POST   /api/documents          multipart "files" (editors) -> {"accepted", "rejected"}
    DELETE /api/documents/{name}   (editors) -> {"deleted": name}

Sign in with HTTP Basic (a user's name and password) or ``Authorization: Bearer <token>`` (from
``docqa token create NAME``), both declared through ``fastapi.security`` so that the OpenAPI
description (``/api/openapi.json``) shows them. Without a users file (a loopback-only server) the
API is open, as the page is. Every route signs the caller in and calls the service layer
(``docqa.service``); its refusals answer with their status: 401, 403, 404, 503 (still indexing).
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, File, HTTPException, Request, Security, UploadFile
from fastapi.security import (
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)
from pydantic import BaseModel, Field

from docqa.errors import DocQAError
from docqa.service import LibraryService, ServiceError
from docqa.users import User, UserStore

UPLOAD_PIECE_BYTES = 1024 * 1024
"""Uploads are copied to disk in pieces of this size, never read whole into memory."""


class AskRequest(BaseModel):
    """A question and the earlier turns of the conversation, oldest first."""

    question: str
    history: list[tuple[str, str]] = Field(default_factory=list)


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


def register(app: FastAPI, service: LibraryService) -> None:
    """Add the ``/api`` routes to the server's FastAPI ``app``: each signs the caller in, then
    calls the service, which checks roles, waits, locks and audits."""
    users = service.users
    max_bytes = service.qa.settings.max_file_bytes

    def caller(
        basic: HTTPBasicCredentials | None = Security(_BASIC),  # noqa: B008 - FastAPI's way
        bearer: HTTPAuthorizationCredentials | None = Security(_BEARER),  # noqa: B008
    ) -> str | None:
        return authenticate(users, basic, bearer)

    signed_in = Depends(caller)

    @app.post("/api/ask", tags=["docqa"])
    def api_ask(body: AskRequest, who: str | None = signed_in) -> dict[str, Any]:
        """Answer a question from the documents (every sentence cited), or abstain."""
        try:
            return service.ask(who, body.question, body.history).to_dict()
        except DocQAError as exc:
            raise _http_error(exc) from None

    @app.get("/api/documents", tags=["docqa"])
    def api_documents(who: str | None = signed_in) -> list[dict[str, Any]]:
        """The indexed documents: source, title and number of passages."""
        try:
            docs = service.documents(who)
        except DocQAError as exc:
            raise _http_error(exc) from None
        return [{"source": d.source, "title": d.title, "chunks": d.chunks} for d in docs]

    @app.post("/api/documents", tags=["docqa"])
    def api_upload(
        files: list[UploadFile] = File(...),  # noqa: B008 - FastAPI's way
        who: str | None = signed_in,
    ) -> dict[str, Any]:
        """Add documents (editors): each is checked, saved into the corpus and indexed."""
        try:
            service.authorize(who, "editor", "upload")  # refuse before copying any file
            with tempfile.TemporaryDirectory() as tmp:
                paths, names = [], []
                for i, upload in enumerate(files):
                    path = Path(tmp) / f"upload-{i}"
                    _save_bounded(upload, path, max_bytes)
                    paths.append(path)
                    names.append(upload.filename or f"upload-{i}")
                result = service.add_files(who, paths, names=names)
        except DocQAError as exc:
            raise _http_error(exc) from None
        return {
            "accepted": list(result.accepted),
            "rejected": [{"file": n, "reason": r} for n, r in result.rejected],
        }

    @app.delete("/api/documents/{name:path}", tags=["docqa"])
    def api_delete(name: str, who: str | None = signed_in) -> dict[str, str]:
        """Delete a document (editors): the file and its passages."""
        try:
            service.remove_document(who, name)
        except DocQAError as exc:
            raise _http_error(exc) from None
        return {"deleted": name}
