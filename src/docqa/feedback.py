"""Feedback on answers, kept for editors and turned into an evaluation set.

Three kinds: ``up`` and ``down`` on an answer, and ``passage`` ("this passage answers it") on
one of the closest passages of an abstention (or a cited passage). Each row keeps the question
and the answer as shown, so it reads the same after the conversation is deleted.

``questions()`` writes what the feedback teaches in ``docqa eval``'s question format:
- ``passage``: answerable; the passage is the evidence and the reference answer;
- ``up`` on an answer: answerable; its sentences are the reference, its quotes the evidence;
- ``up`` on an abstention: not answerable (the user agrees the documents hold no answer);
- ``down`` says what is wrong, not what is right: listed for editors, never exported.

Example:
    >>> store = FeedbackStore(open_database(settings))
    >>> store.add("ana", "default", turn, "up")
    >>> store.questions("default")[0]["answerable"]
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import select

from docqa.citations import strip_markers
from docqa.conversation_store import Turn
from docqa.db.database import Database
from docqa.db.schema import FeedbackRow
from docqa.errors import DocQAError

FeedbackKind = Literal["up", "down", "passage"]
FEEDBACK_KINDS: tuple[str, ...] = get_args(FeedbackKind)
THUMBS = ("up", "down")


class FeedbackError(DocQAError, ValueError):
    """Feedback that cannot be kept as given; the message says what to send."""


@dataclass(frozen=True)
class Feedback:
    """One piece of feedback, as editors read it."""

    id: int
    workspace: str
    user: str
    turn_id: int | None
    kind: str
    question: str
    answer: dict[str, Any]
    passage: dict[str, Any] | None
    created: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "id": self.id,
            "workspace": self.workspace,
            "user": self.user,
            "turn_id": self.turn_id,
            "kind": self.kind,
            "question": self.question,
            "answer": self.answer,
            "passage": self.passage,
            "created": self.created,
        }


def _passage(answer: dict[str, Any], number: int | None) -> dict[str, Any]:
    """The closest passage ``number`` of an abstention, or citation ``number`` of an answer."""
    if number is None:
        raise FeedbackError(
            "Say which passage answers it: send its number (as shown with the answer)."
        )
    pool = answer.get("closest") if answer.get("abstained") else answer.get("citations")
    for passage in pool or ():
        if passage.get("number") == number:
            return dict(passage)
    raise FeedbackError(
        f"The answer has no passage {number}; pick one of the numbers shown with it."
    )


class FeedbackStore:
    """The feedback in ``db``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        user: str,
        workspace: str,
        turn: Turn,
        kind: str,
        passage_number: int | None = None,
    ) -> Feedback:
        """Keep ``kind`` feedback on ``turn`` (the caller checked that it is ``user``'s).

        Raises:
            FeedbackError: an unknown kind, or a passage number the answer does not show.
        """
        if kind not in FEEDBACK_KINDS:
            raise FeedbackError(
                f"Unknown feedback {kind!r}; send one of {', '.join(FEEDBACK_KINDS)}."
            )
        passage = _passage(turn.answer, passage_number) if kind == "passage" else None
        row = FeedbackRow(
            workspace=workspace,
            user_name=user,
            turn_id=turn.id,
            kind=kind,
            question=str(turn.answer.get("standalone_question") or turn.question),
            answer=turn.answer,
            passage=passage,
        )
        with self.db.transaction() as session:
            # One thumb per user and answer (a change of mind replaces it), and one mark per
            # passage: clicking twice counts once.
            same = select(FeedbackRow).where(
                FeedbackRow.user_name == user, FeedbackRow.turn_id == turn.id
            )
            for earlier in session.scalars(same):
                if (
                    kind != "passage"
                    and earlier.kind in THUMBS
                    or (
                        kind == "passage"
                        and earlier.kind == "passage"
                        and earlier.passage == passage
                    )
                ):
                    session.delete(earlier)
            session.add(row)
            session.flush()
            return _feedback(row)

    def of_workspace(self, workspace: str) -> list[Feedback]:
        """The feedback of ``workspace``, oldest first."""
        with self.db.reading() as session:
            rows = session.scalars(
                select(FeedbackRow)
                .where(FeedbackRow.workspace == workspace)
                .order_by(FeedbackRow.id)
            ).all()
            return [_feedback(row) for row in rows]

    def questions(self, workspace: str) -> list[dict[str, Any]]:
        """The feedback of ``workspace`` as ``docqa eval`` questions (see the module notes)."""
        found = []
        for item in self.of_workspace(workspace):
            question = _question(item)
            if question is not None:
                found.append({"id": f"feedback-{item.id}", **question})
        return found


def _question(item: Feedback) -> dict[str, Any] | None:
    answer = item.answer
    if item.kind == "passage" and item.passage is not None:
        quote = str(item.passage.get("quote", ""))
        return {
            "type": "feedback-passage",
            "question": item.question,
            "answerable": True,
            "answers": [quote],
            "evidence": [quote],
            "gold_doc_ids": [item.passage.get("doc_id")],
        }
    if item.kind != "up":
        return None
    if answer.get("abstained"):
        return {"type": "feedback-unanswerable", "question": item.question, "answerable": False}
    citations = answer.get("citations") or []
    phrases = [c["answer_phrase"] for c in citations if c.get("answer_phrase")]
    return {
        "type": "feedback-answer",
        "question": item.question,
        "answerable": True,
        "answers": [strip_markers(str(answer.get("text", "")))],
        "key_phrases": phrases,
        "evidence": [str(c.get("quote", "")) for c in citations],
        "gold_doc_ids": sorted({str(c.get("doc_id")) for c in citations}),
    }


def _feedback(row: FeedbackRow) -> Feedback:
    return Feedback(
        row.id,
        row.workspace,
        row.user_name,
        row.turn_id,
        row.kind,
        row.question,
        dict(row.answer),
        dict(row.passage) if row.passage else None,
        row.created.isoformat(timespec="seconds"),
    )
