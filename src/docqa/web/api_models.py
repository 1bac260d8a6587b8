"""The bodies and parameters the JSON API accepts, each checked before a route runs.

A request the API cannot use answers 422 with a message saying what to send instead, rather
than being quietly trimmed or half-used: that is why the validators below refuse, not repair.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, model_validator

from docqa.conversation_store import MAX_TITLE_CHARS
from docqa.feedback import FeedbackKind

CONVERSATION_ID_CHARS = 32
"""A conversation id is 32 hexadecimal characters; a longer one is refused, not cut."""

ExportFormat = Literal["md", "json"]
"""A conversation's download: Markdown to read, or JSON (also the file's extension)."""

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
