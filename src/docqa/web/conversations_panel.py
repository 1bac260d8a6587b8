"""The conversations beside the chat: the user's kept conversations in the picked workspace,
resumed, renamed or deleted, and the feedback given on their answers."""

from __future__ import annotations

from typing import Any

import gradio as gr

from docqa.service import LibraryService, ServiceError
from docqa.transcript import ShownAnswer
from docqa.web.chat_view import TurnIds, chat_of_turns, empty_chat, passage_pick_update
from docqa.web.page_session import page_errors, who_signed_in
from docqa.web.render import SOURCES_EMPTY, render_status, render_turn

# Gradio finds the request and the like's data by each handler's type hints, resolved from this
# module's names: ``gr`` and every annotated type must be imported here at run time.


class ConversationsPanel:
    """The handlers of the conversation list and of feedback, each a thin caller of ``service``
    (which keeps each user's conversations apart and checks their workspace)."""

    def __init__(self, service: LibraryService) -> None:
        self.service = service

    def conversation_list(
        self, workspace: str, who: str | None, selected: str | None = None
    ) -> tuple[Any, str]:
        """The user's conversations in ``workspace``, most recent first, labelled by title
        (shown as plain text: a title is never read as HTML), and the selected one's title."""
        try:
            found = self.service.conversations(who, workspace)
        except ServiceError:
            found = []
        title = next((c.title for c in found if c.id == selected), "")
        return gr.update(choices=[(c.title, c.id) for c in found], value=selected), title

    def resume(self, conversation: str | None, request: gr.Request) -> tuple[Any, ...]:
        """A kept conversation: every turn as first shown, the last one's sources."""
        if not conversation:
            return empty_chat()
        with page_errors():
            info, turns = self.service.conversation(who_signed_in(request), conversation)
        chat, ids = chat_of_turns(turns, info.workspace)
        last = turns[-1].answer if turns else None
        sources_html = render_turn(last, info.workspace)[1] if last else SOURCES_EMPTY
        shown = ShownAnswer.from_record(last) if last is not None else None
        return (chat, sources_html, info.id, ids, info.title, *passage_pick_update(shown), "")

    def new_conversation(self, workspace: str, request: gr.Request) -> tuple[Any, ...]:
        return (*empty_chat(), self.conversation_list(workspace, who_signed_in(request))[0])

    def rename(
        self, conversation: str | None, title: str, workspace: str, request: gr.Request
    ) -> tuple[Any, Any]:
        if not conversation:
            raise gr.Error("Pick a conversation (or ask a question to start one) to rename it.")
        who = who_signed_in(request)
        with page_errors():
            info = self.service.rename_conversation(who, conversation, title)
        return self.conversation_list(workspace, who, info.id)

    def delete_conversation(
        self, conversation: str | None, workspace: str, request: gr.Request
    ) -> tuple[Any, ...]:
        if not conversation:
            raise gr.Error("Pick a conversation to delete it.")
        who = who_signed_in(request)
        with page_errors():
            self.service.delete_conversation(who, conversation)
        return (*empty_chat(), self.conversation_list(workspace, who)[0])

    # ---- feedback --------------------------------------------------------------------------
    def like(self, turn_ids: TurnIds, data: gr.LikeData, request: gr.Request) -> str:
        """Thumbs up or down on an answer: kept as feedback on its turn."""
        index = data.index if isinstance(data.index, int) else -1
        turn = turn_ids[index] if 0 <= index < len(turn_ids or []) else None
        if turn is None:
            return render_status("Only an answer takes feedback.", "error")
        if not isinstance(data.liked, bool):  # the thumb clicked again, to take it back
            return render_status("Feedback given earlier stays kept.", "busy")
        with page_errors():
            self.service.give_feedback(who_signed_in(request), turn, "up" if data.liked else "down")
        return render_status("Thanks: your feedback on this answer is kept.", "ready")

    def passage_answers(self, number: int | None, turn_ids: TurnIds, request: gr.Request) -> str:
        """ "This passage answers it", on the last answer (an abstention)."""
        turn = turn_ids[-1] if turn_ids else None
        if turn is None or number is None:
            return render_status("Pick one of the closest passages first.", "error")
        with page_errors():
            self.service.give_feedback(who_signed_in(request), turn, "passage", int(number))
        return render_status(f"Thanks: kept that passage {number} answers the question.", "ready")
