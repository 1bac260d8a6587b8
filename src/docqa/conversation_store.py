"""Conversations kept across visits: per user and workspace, with every turn as first shown.

A turn's position is the next free one in its conversation; two writers that pick the same
position at once collide on a unique constraint and the loser retries, so no turn is lost.

Example:
    >>> store = ConversationStore(open_database(settings))
    >>> conversation = store.create("ana", "default", "Who led the delegation?")
    >>> store.append(conversation.id, "ana", "Who led the delegation?", shown.record())
    >>> [t.question for t in store.turns(conversation.id, "ana")]
    ['Who led the delegation?']
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from docqa.db.database import Database
from docqa.db.schema import ConversationRow, TurnRow, utc_now
from docqa.errors import DocQAError

TITLE_CHARS = 80
"""A title made from the first question is cut to this many characters."""
MAX_TITLE_CHARS = 200
"""The longest title a conversation may be given."""
_APPEND_TRIES = 20


class ConversationNotFound(DocQAError, LookupError):
    """No conversation with that id belongs to the user (another user's is not found either)."""


@dataclass(frozen=True)
class ConversationInfo:
    """One conversation: its id, owner, workspace, title, times and number of turns."""

    id: str
    user: str
    workspace: str
    title: str
    created: datetime
    updated: datetime
    turns: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "workspace": self.workspace,
            "title": self.title,
            "created": self.created.isoformat(timespec="seconds"),
            "updated": self.updated.isoformat(timespec="seconds"),
            "turns": self.turns,
        }


@dataclass(frozen=True)
class Turn:
    """One question and its answer as first shown (``transcript.ShownAnswer.record``)."""

    id: int
    position: int
    question: str
    answer: dict[str, Any]
    created: datetime

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "position": self.position,
            "question": self.question,
            "answer": self.answer,
            "created": self.created.isoformat(timespec="seconds"),
        }


def title_of(question: str) -> str:
    """A conversation's title made from its first question."""
    words = " ".join(question.split())
    return words if len(words) <= TITLE_CHARS else words[: TITLE_CHARS - 1].rstrip() + "…"


def check_title(title: str) -> str:
    """``title`` with its spaces tidied, else a ``ConversationTitleError`` saying what is."""
    cleaned = " ".join(str(title).split())
    if not cleaned or len(cleaned) > MAX_TITLE_CHARS:
        raise ConversationTitleError(f"A title needs 1-{MAX_TITLE_CHARS} characters.")
    return cleaned


class ConversationFullError(DocQAError):
    """A conversation already holds as many turns as one may."""


class ConversationTitleError(DocQAError, ValueError):
    """A title that is empty or too long."""


class ConversationStore:
    """The conversations in ``db``. Every method takes the user: one user never reads,
    changes or even learns of another's conversation (they are simply not found)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def _info(self, session: Any, row: ConversationRow) -> ConversationInfo:
        count = session.scalar(
            select(func.count()).select_from(TurnRow).where(TurnRow.conversation_id == row.id)
        )
        return ConversationInfo(
            row.id, row.user_name, row.workspace, row.title, row.created, row.updated, int(count)
        )

    def _owned(self, session: Any, conversation_id: str, user: str) -> ConversationRow:
        row = session.get(ConversationRow, str(conversation_id))
        if row is None or row.user_name != user:
            raise ConversationNotFound(f"No conversation {conversation_id!r} among yours.")
        return row

    def create(self, user: str, workspace: str, title: str) -> ConversationInfo:
        """A new, empty conversation of ``user`` in ``workspace``."""
        row = ConversationRow(
            id=secrets.token_hex(16), user_name=user, workspace=workspace, title=title_of(title)
        )
        with self.db.transaction() as session:
            session.add(row)
            session.flush()
            return self._info(session, row)

    def start(
        self, user: str, workspace: str, question: str, answer: dict[str, Any]
    ) -> tuple[ConversationInfo, Turn]:
        """A new conversation of ``user`` in ``workspace`` holding its first turn, written in
        one transaction (a failure leaves no empty conversation behind)."""
        row = ConversationRow(
            id=secrets.token_hex(16), user_name=user, workspace=workspace, title=title_of(question)
        )
        with self.db.transaction() as session:
            session.add(row)
            session.flush()
            turn = TurnRow(conversation_id=row.id, position=0, question=question, answer=answer)
            session.add(turn)
            session.flush()
            kept = Turn(turn.id, turn.position, question, answer, turn.created)
            return self._info(session, row), kept

    def turn(self, turn_id: int, user: str) -> tuple[ConversationInfo, Turn]:
        """Turn ``turn_id`` of one of ``user``'s conversations, with its conversation.

        Raises:
            ConversationNotFound: there is none, or it is another user's.
        """
        with self.db.reading() as session:
            found = session.get(TurnRow, int(turn_id))
            row = None if found is None else session.get(ConversationRow, found.conversation_id)
            if found is None or row is None or row.user_name != user:
                raise ConversationNotFound(f"No answer {turn_id} in your conversations.")
            kept = Turn(found.id, found.position, found.question, dict(found.answer), found.created)
            return self._info(session, row), kept

    def of_user(self, user: str, workspace: str | None = None) -> list[ConversationInfo]:
        """``user``'s conversations (in ``workspace``, when given), most recent first."""
        query = select(ConversationRow).where(ConversationRow.user_name == user)
        if workspace is not None:
            query = query.where(ConversationRow.workspace == workspace)
        with self.db.reading() as session:
            rows = session.scalars(query.order_by(ConversationRow.updated.desc())).all()
            return [self._info(session, row) for row in rows]

    def get(self, conversation_id: str, user: str) -> ConversationInfo:
        """``user``'s conversation ``conversation_id``.

        Raises:
            ConversationNotFound: there is none, or it is another user's.
        """
        with self.db.reading() as session:
            return self._info(session, self._owned(session, conversation_id, user))

    def turns(self, conversation_id: str, user: str) -> list[Turn]:
        """The turns of ``user``'s conversation, in order (raises ``ConversationNotFound``)."""
        with self.db.reading() as session:
            row = self._owned(session, conversation_id, user)
            rows = session.scalars(
                select(TurnRow).where(TurnRow.conversation_id == row.id).order_by(TurnRow.position)
            ).all()
            return [Turn(r.id, r.position, r.question, dict(r.answer), r.created) for r in rows]

    def append(
        self,
        conversation_id: str,
        user: str,
        question: str,
        answer: dict[str, Any],
        *,
        max_turns: int | None = None,
    ) -> Turn:
        """Add a turn at the end of ``user``'s conversation.

        Raises:
            ConversationNotFound: there is none (any more), or it is another user's.
            ConversationFullError: it already holds ``max_turns`` turns (checked in the same
                transaction as the write, so concurrent writers cannot go past it).
        """
        for _ in range(_APPEND_TRIES):
            try:
                with self.db.transaction() as session:
                    row = self._owned(session, conversation_id, user)
                    last = session.scalar(
                        select(func.max(TurnRow.position)).where(TurnRow.conversation_id == row.id)
                    )
                    held = 0 if last is None else int(last) + 1
                    if max_turns is not None and held >= max_turns:
                        raise ConversationFullError(
                            f"This conversation has {held} turns, the most one keeps "
                            "(DOCQA_MAX_HISTORY_TURNS): start a new conversation."
                        )
                    turn = TurnRow(
                        conversation_id=row.id,
                        position=0 if last is None else int(last) + 1,
                        question=question,
                        answer=answer,
                    )
                    session.add(turn)
                    row.updated = utc_now()
                    session.flush()
                    return Turn(turn.id, turn.position, question, answer, turn.created)
            except IntegrityError:
                # Another writer took the position: take the next one. (Were the conversation
                # deleted meanwhile, the next try says it is not found.)
                continue
        raise DocQAError("The conversation is too busy to add a turn; ask again.")

    def rename(self, conversation_id: str, user: str, title: str) -> ConversationInfo:
        """Set the title of ``user``'s conversation (raises ``ConversationNotFound``)."""
        cleaned = check_title(title)
        with self.db.transaction() as session:
            row = self._owned(session, conversation_id, user)
            row.title = cleaned
            return self._info(session, row)

    def delete(self, conversation_id: str, user: str) -> None:
        """Delete ``user``'s conversation and its turns (raises ``ConversationNotFound``)."""
        with self.db.transaction() as session:
            session.delete(self._owned(session, conversation_id, user))

    def history(self, conversation_id: str, user: str, limit: int) -> list[tuple[str, str]]:
        """The last ``limit`` turns as (question, answer text) pairs, for follow-ups."""
        turns = self.turns(conversation_id, user)[-limit:] if limit else []
        return [(t.question, str(t.answer.get("text", ""))) for t in turns]
