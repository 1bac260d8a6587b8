"""A kept conversation as a file a user downloads: Markdown to read, JSON for a program.

Both are written from the turns as first shown (``transcript.ShownAnswer.record``), so an
export says what the user saw: every answer with its numbered, exact quotes, and every
abstention with the closest passages, each marked as not an answer. Pure functions: no I/O.

Example:
    >>> info, turns = service.conversation("ana", conversation_id)
    >>> Path("otters.md").write_text(to_markdown(info, turns), encoding="utf-8")
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from docqa.conversation_store import ConversationInfo, Turn
from docqa.document_view import linked_record
from docqa.models import Citation
from docqa.transcript import ShownAnswer

NOT_AN_ANSWER = "not an answer"


def _line(text: str) -> str:
    """``text`` on one line, so that a heading or a label cannot break out of its line."""
    return " ".join(text.split())


def _blockquote(text: str) -> str:
    """``text`` quoted line by line: a quote's own line breaks stay inside the quote."""
    return "\n".join(f"> {line}".rstrip() for line in text.strip().splitlines() or [""])


def _where(citation: Citation) -> str:
    """Where a quote lies: its page when the document has pages, else its character span."""
    if citation.page is not None:
        return f"page {citation.page}"
    return f"characters {citation.start}–{citation.end}"


def _quote(citation: Citation, label: str, note: str = "") -> list[str]:
    head = f"**{label}** {_line(citation.title)} — `{_line(citation.source)}`, {_where(citation)}"
    lines = [head + (f" ({note})" if note else ""), "", _blockquote(citation.quote)]
    if citation.answer_phrase:
        lines += ["", f"Answer phrase: {_line(citation.answer_phrase)}"]
    return [*lines, ""]


def _turn(number: int, turn: Turn) -> list[str]:
    answer = ShownAnswer.from_record(turn.answer).answer
    lines = [f"## {number}. {_line(turn.question)}", ""]
    standalone = _line(answer.standalone_question)
    if standalone and standalone != _line(turn.question):
        lines += [f"*Read as:* {standalone}", ""]
    if answer.abstained:
        reason = answer.abstention_reason
        why = f" ({_line(reason.message)})" if reason else ""
        lines += [f"**No answer in the documents.**{why}", ""]
        if answer.closest:
            lines += [
                f"Closest passages — {NOT_AN_ANSWER}; docqa judged that they do not answer "
                "the question:",
                "",
            ]
            for c in answer.closest:
                lines += _quote(c, f"{c.number}.", NOT_AN_ANSWER)
        return lines
    lines += [answer.text.strip(), ""]
    if answer.citations:
        lines += ["Sources:", ""]
        for c in answer.citations:
            lines += _quote(c, f"[{c.number}]")
    return lines


def to_markdown(info: ConversationInfo, turns: Sequence[Turn]) -> str:
    """The conversation as Markdown: its title and workspace, then each question with its
    answer and numbered quotes (source, page or character span, the exact quote), or, for an
    abstention, the closest passages marked as not an answer."""
    lines = [
        f"# {_line(info.title) or 'Conversation'}",
        "",
        f"- Workspace: {info.workspace}",
        f"- Started: {info.created.isoformat(timespec='seconds')}",
        f"- Last question: {info.updated.isoformat(timespec='seconds')}",
        f"- Questions: {len(turns)}",
        "",
    ]
    for number, turn in enumerate(turns, start=1):
        lines += _turn(number, turn)
    return "\n".join(lines).rstrip() + "\n"


def conversation_data(info: ConversationInfo, turns: Sequence[Turn]) -> dict[str, Any]:
    """``{"conversation": ..., "turns": [...]}``, each turn with its answer record, whose
    citations carry their ``view_url`` (what ``GET /api/conversations/{id}`` answers)."""
    shown = [
        {**turn.to_dict(), "answer": linked_record(info.workspace, turn.answer)} for turn in turns
    ]
    return {"conversation": info.to_dict(), "turns": shown}


def to_json(info: ConversationInfo, turns: Sequence[Turn]) -> str:
    """The conversation as JSON, as ``conversation_data`` gives it."""
    return json.dumps(conversation_data(info, turns), ensure_ascii=False, indent=2) + "\n"
