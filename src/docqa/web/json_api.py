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
    GET    /view/{ws}/{source}?start=&end=&…        -> the document, the citation marked (HTML)
    GET    /view-page/{ws}/{page}/{source}?…        -> a PDF page, the quote boxed (PNG)

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

The routes live by subject: ``api_library`` (workspaces, questions, documents),
``api_conversations`` (kept conversations, their export, feedback); ``api_auth`` signs
callers in and turns the service's refusals into HTTP answers, and ``api_models`` holds the
request bodies. This module only puts them together on the server.
"""

from __future__ import annotations

from fastapi import FastAPI

from docqa.service import LibraryService
from docqa.web import api_conversations, api_library, api_viewer


def register(app: FastAPI, service: LibraryService) -> None:
    """Add the ``/api`` routes to the server's FastAPI ``app``: each signs the caller in, then
    calls the service, which checks roles, waits, locks, keeps conversations and audits."""
    api_library.register(app, service)
    api_conversations.register(app, service)
    api_viewer.register(app, service)
