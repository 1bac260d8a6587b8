"""The chat as the page shows it: questions, notes, kept conversations, and the row that offers
the closest passages after an abstention.

Nothing here calls the service; the handlers that do (``asking``, ``conversations_panel``) build
their chat views from these pieces.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gradio as gr

from docqa.conversation_store import Turn
from docqa.transcript import ShownAnswer
from docqa.web.render import SOURCES_EMPTY, md_escape, render_turn

Message = dict[str, str]
TurnIds = list[int | None]
"""One entry per chat message: the kept turn's id at its answer, None elsewhere."""


def aligned_turn_ids(turn_ids: TurnIds | None, messages: int) -> TurnIds:
    """``turn_ids`` cut or padded to one entry per chat message (a like names its message by
    index, so the two must line up)."""
    ids = list(turn_ids or [])[:messages]
    return ids + [None] * (messages - len(ids))


def question_message(text: str) -> Message:
    """A question as the chat shows it: literally, whatever markup it holds."""
    return {"role": "user", "content": md_escape(text)}


def note_message(text: str) -> Message:
    """A reply that is no answer (busy, refused, failed): kept nowhere, liked by nobody."""
    return {"role": "assistant", "content": md_escape(text)}


def chat_of_turns(turns: Sequence[Turn], workspace: str) -> tuple[list[Message], TurnIds]:
    """A kept conversation's chat, each answer rendered from its record, and its turn ids."""
    chat: list[Message] = []
    ids: TurnIds = []
    for turn in turns:
        reply, _ = render_turn(turn.answer, workspace)
        chat += [question_message(turn.question), {"role": "assistant", "content": reply}]
        ids += [None, turn.id]
    return chat, ids


def passage_pick_update(shown: ShownAnswer | None) -> tuple[Any, Any]:
    """The "this passage answers it" row: shown with the closest passages' numbers after an
    abstention that has some, hidden otherwise."""
    answer = None if shown is None else shown.answer
    numbers = [c.number for c in answer.closest] if answer and answer.abstained else []
    return (
        gr.update(visible=bool(numbers)),
        gr.update(choices=[(str(n), n) for n in numbers], value=numbers[0] if numbers else None),
    )


def empty_chat() -> tuple[Any, ...]:
    """A new conversation: the next question starts a new kept one.

    The values follow the page's chat views: chat, sources, conversation id, turn ids, title,
    passage row, passage pick, feedback note (``build_app`` wires them in that order)."""
    return ([], SOURCES_EMPTY, None, [], "", *passage_pick_update(None), "")
