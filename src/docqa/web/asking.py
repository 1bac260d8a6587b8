"""Questions: the chat's streamed answer, kept in the current conversation, and the ``/ask``
endpoint for API clients (answered without keeping anything)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import gradio as gr

from docqa.errors import DocQAError
from docqa.service import LibraryService, Reply
from docqa.web.chat_view import (
    Message,
    TurnIds,
    aligned_turn_ids,
    note_message,
    passage_pick_update,
    question_message,
)
from docqa.web.conversations_panel import ConversationsPanel
from docqa.web.page_session import page_errors, who_signed_in
from docqa.web.render import (
    SOURCES_WAIT,
    md_escape,
    render_phrases,
    render_turn,
    stream_pieces,
)

# Gradio finds the request by each handler's type hints, resolved from this module's names, and
# builds the /ask endpoint's schema from them: every annotated type is imported at run time.


class Asking:
    """The question handlers over ``service``; ``conversations`` lists the conversation a
    question was kept in."""

    def __init__(self, service: LibraryService, conversations: ConversationsPanel) -> None:
        self.service = service
        self.settings = service.qa.settings
        self.conversations = conversations

    def respond(
        self,
        message: str,
        chat: list[Message],
        conversation: str | None,
        turn_ids: TurnIds,
        workspace: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer in the picked workspace, keeping the turn in the current conversation (a new
        one when there is none yet); the earlier turns come from the store, not the page."""
        who = who_signed_in(request)
        with page_errors():
            served = self.service.served(who, workspace)
        skip = gr.skip()
        question = (message or "").strip()
        asked = [*chat, question_message(question)]
        ids = aligned_turn_ids(turn_ids, len(chat))

        # Each yield fills the page's answered views: chat, sources, conversation id, turn ids,
        # question box, conversation list, title, passage row, passage pick, feedback note.
        def partial(content: str, sources: Any = skip) -> tuple[Any, ...]:
            reply = {"role": "assistant", "content": content}
            return ([*asked, reply], sources, skip, skip, "", skip, skip, skip, skip, skip)

        def noted(text: str) -> tuple[Any, ...]:
            row, pick = passage_pick_update(None)
            chat_now = [*asked, note_message(text)]
            return (chat_now, skip, skip, [*ids, None, None], "", skip, skip, row, pick, "")

        if not question:
            yield (chat, skip, skip, skip, "", skip, skip, skip, skip, skip)
            return
        if not served.ready.is_set():
            yield noted(f"⏳ {served.status} Ask again in a moment.")
            return
        reply: Reply | None = None
        draft = ""
        try:
            for item in self.service.ask_stream(
                who, question, workspace=workspace, conversation_id=conversation
            ):
                if isinstance(item, Reply):
                    reply = item
                elif self.settings.answerer == "llm":
                    # The model's words as they arrive, marked as not yet verified.
                    draft += item
                    yield partial(md_escape(draft) + " …", SOURCES_WAIT)
        except DocQAError as exc:
            yield noted(f"⚠️ {exc}")
            return
        assert reply is not None
        answer = reply.shown.answer
        if answer.answerer != "llm":  # written all at once: shown a few words at a time
            lead = render_phrases(answer)  # the answer phrase first, above the sentences
            prefix = "ℹ️ " if answer.abstained else ""
            for i, piece in enumerate(stream_pieces(answer.text)):
                yield partial(lead + md_escape(prefix + piece), SOURCES_WAIT if i == 0 else skip)
                time.sleep(0.03)
        # The final answer is rendered from its record, as a resumed conversation renders it.
        shown_reply, sources_html = render_turn(reply.shown.record(), reply.workspace)
        listed, title = self.conversations.conversation_list(workspace, who, reply.conversation_id)
        yield (
            [*asked, {"role": "assistant", "content": shown_reply}],
            sources_html,
            reply.conversation_id,
            [*ids, None, reply.turn_id],
            "",
            listed,
            title,
            *passage_pick_update(reply.shown),
            "",
        )

    def ask_api(
        self, question: str, history_json: str = "[]", request: gr.Request | None = None
    ) -> dict[str, Any]:
        """Answer ``question``; ``history_json`` is a JSON list of [question, answer] pairs."""
        try:
            pairs = [(str(q), str(a)) for q, a in json.loads(history_json or "[]")]
        except (ValueError, TypeError):
            raise gr.Error("history_json must be a JSON list of [question, answer] pairs") from None
        with page_errors():
            return self.service.ask(
                who_signed_in(request), question, history=pairs, keep=False
            ).to_dict()
