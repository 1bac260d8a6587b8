"""The JSON HTTP API, on the same server and with the same users as the page.

    POST   /api/ask                {"question": "...", "history": [[q, a], ...]} -> the Answer
    GET    /api/documents          -> [{"source", "title", "chunks"}]
    POST   /api/documents          multipart "files" (editors) -> {"accepted", "rejected"}
    DELETE /api/documents/{name}   (editors) -> {"deleted": name}

Sign in with HTTP Basic (a user's name and password) or ``Authorization: Bearer <token>`` (from
``docqa token create NAME``). Without a users file (a loopback-only server) the API is open, as
the page is. The OpenAPI description is at ``/api/openapi.json``.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path
from typing import Any

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from pydantic import BaseModel, Field

from docqa import audit, library
from docqa.errors import DocQAError
from docqa.users import ROLES, Role, User, UserStore
from docqa.web.state import Library


class AskRequest(BaseModel):
    """A question and the earlier turns of the conversation, oldest first."""

    question: str
    history: list[tuple[str, str]] = Field(default_factory=list)


def _challenge(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": 'Basic realm="docqa"'})


def signed_in(users: UserStore | None, request: Request, role: Role) -> str | None:
    """The user's name when the request's credentials hold ``role`` (None: API open).

    Raises:
        HTTPException: 401 without valid credentials, 403 for too small a role.
    """
    if users is None:
        return None
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    user: User | None = None
    if scheme.lower() == "bearer" and value:
        user = users.verify_token(value.strip())
    elif scheme.lower() == "basic" and value:
        try:
            name, _, password = base64.b64decode(value).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _challenge("Malformed Basic credentials.") from None
        checked = users.verify(name, password)
        user = User(name, checked) if checked else None
    if user is None:
        raise _challenge("Sign in: HTTP Basic (name and password) or a Bearer token.")
    if not user.may(role):
        needed = ", ".join(r for r in ROLES if ROLES.index(r) >= ROLES.index(role))
        raise HTTPException(403, f"{user.name} is a {user.role}: this needs the role {needed}.")
    return user.name


def register(app: FastAPI, lib: Library, users: UserStore | None) -> None:
    """Add the ``/api`` routes to the server's FastAPI ``app``."""
    index_dir = lib.qa.settings.index_dir

    @app.post("/api/ask", tags=["docqa"])
    def api_ask(body: AskRequest, request: Request) -> dict[str, Any]:
        """Answer a question from the documents (every sentence cited), or abstain."""
        signed_in(users, request, "reader")
        try:
            return lib.ask(body.question, body.history).to_dict()
        except Exception as exc:  # gr.Error from the library state, DocQAError, QuestionError
            raise HTTPException(400, str(exc)) from None

    @app.get("/api/documents", tags=["docqa"])
    def api_documents(request: Request) -> list[dict[str, Any]]:
        """The indexed documents: source, title and number of passages."""
        signed_in(users, request, "reader")
        docs = library.list_documents(lib.qa) if lib.ready.is_set() else []
        return [{"source": d.source, "title": d.title, "chunks": d.chunks} for d in docs]

    @app.post("/api/documents", tags=["docqa"])
    def api_upload(
        request: Request,
        files: list[UploadFile] = File(...),  # noqa: B008 - FastAPI's way
    ) -> dict[str, Any]:
        """Add documents (editors): each is checked, saved into the corpus and indexed."""
        who = _checked(users, request, "editor", "upload", index_dir)
        lib.ready.wait(timeout=600)
        with tempfile.TemporaryDirectory() as tmp:
            paths, names = [], []
            for i, upload in enumerate(files):
                path = Path(tmp) / f"upload-{i}"
                path.write_bytes(upload.file.read())
                paths.append(path)
                names.append(upload.filename or f"upload-{i}")
            with lib.lock.writing():
                result = library.add_files(lib.qa, paths, names=names)
        for name in result.accepted:
            audit.record(index_dir, who, "upload", name, "added")
        for name, reason in result.rejected:
            audit.record(index_dir, who, "upload", name, f"rejected: {reason}")
        return {
            "accepted": list(result.accepted),
            "rejected": [{"file": n, "reason": r} for n, r in result.rejected],
        }

    @app.delete("/api/documents/{name:path}", tags=["docqa"])
    def api_delete(name: str, request: Request) -> dict[str, str]:
        """Delete a document (editors): the file and its passages."""
        who = _checked(users, request, "editor", "delete", index_dir)
        lib.ready.wait(timeout=600)
        try:
            with lib.lock.writing():
                library.remove_document(lib.qa, name)
        except DocQAError as exc:
            audit.record(index_dir, who, "delete", name, f"failed: {exc}")
            raise HTTPException(404, str(exc)) from None
        audit.record(index_dir, who, "delete", name, "deleted")
        return {"deleted": name}


def _checked(
    users: UserStore | None, request: Request, role: Role, action: str, index_dir: Path
) -> str | None:
    """``signed_in``, with refusals of a signed-in user written to the audit log."""
    try:
        return signed_in(users, request, role)
    except HTTPException as exc:
        if exc.status_code == 403:
            who = exc.detail.split(" ", 1)[0]
            audit.record(index_dir, who, action, None, f"refused: needs {role}")
        raise
