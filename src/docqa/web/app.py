"""The docqa web UI: a thin Gradio layer over ``LibraryService`` (chat with sources, kept
conversations, feedback, document library), one workspace at a time.

Run ``python app.py`` (or ``python -m docqa.web``) and open http://127.0.0.1:7860. The server
starts at once and indexes the corpora in a background thread; the page shows the progress of
the workspace picked. The page's questions are kept as conversations, which a later visit lists
and resumes. Everything taken from documents, titles or questions is HTML-escaped (or shown as
plain text) before it is shown.
API: ``gradio_client.Client(url).predict("Who is Tom Goffus?", "[]", api_name="/ask")``.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

try:
    import gradio as gr
except ImportError:  # the web UI is an extra: say how to get it
    raise SystemExit(
        "docqa: the web UI needs Gradio: `make run` installs it, or `pip install -e '.[web]'`."
    ) from None

from docqa.api import DocQA  # noqa: E402
from docqa.conversation_store import Turn  # noqa: E402
from docqa.documents import SUPPORTED_SUFFIXES  # noqa: E402
from docqa.errors import DocQAError  # noqa: E402
from docqa.service import LibraryService, NotFound, Reply, ServiceError  # noqa: E402
from docqa.state import State  # noqa: E402
from docqa.transcript import ShownAnswer  # noqa: E402
from docqa.web.address import resolve_address  # noqa: E402
from docqa.web.auth import (  # noqa: E402
    LoginGuard,
    exposure_problem,
    is_loopback,
    refuse_framing,
    throttle_logins,
)
from docqa.web.json_api import register  # noqa: E402
from docqa.web.render import (  # noqa: E402
    CSS,
    EXAMPLES,
    SOURCES_EMPTY,
    SOURCES_WAIT,
    md_escape,
    render_audit,
    render_documents,
    render_phrases,
    render_status,
    render_turn,
    stream_pieces,
)
from docqa.workspaces import DEFAULT_WORKSPACE  # noqa: E402

Message = dict[str, str]
TurnIds = list[int | None]
"""One entry per chat message: the kept turn's id at its answer, None elsewhere."""


@contextmanager
def _page_errors() -> Iterator[None]:
    """A refusal or error of the service, shown on the page as Gradio's error message."""
    try:
        yield
    except DocQAError as exc:
        raise gr.Error(str(exc)) from None


def _who(request: gr.Request | None) -> str | None:
    """The name the page session signed in with (None without sign-in)."""
    return getattr(request, "username", None) or None


def _aligned(turn_ids: TurnIds | None, messages: int) -> TurnIds:
    """``turn_ids`` cut or padded to one entry per chat message (a like names its message by
    index, so the two must line up)."""
    ids = list(turn_ids or [])[:messages]
    return ids + [None] * (messages - len(ids))


def _question(text: str) -> Message:
    """A question as the chat shows it: literally, whatever markup it holds."""
    return {"role": "user", "content": md_escape(text)}


def _note(text: str) -> Message:
    """A reply that is no answer (busy, refused, failed): kept nowhere, liked by nobody."""
    return {"role": "assistant", "content": md_escape(text)}


def _chat_of(turns: Sequence[Turn]) -> tuple[list[Message], TurnIds]:
    """A kept conversation's chat, each answer rendered from its record, and its turn ids."""
    chat: list[Message] = []
    ids: TurnIds = []
    for turn in turns:
        reply, _ = render_turn(turn.answer)
        chat += [_question(turn.question), {"role": "assistant", "content": reply}]
        ids += [None, turn.id]
    return chat, ids


def _passage_pick(shown: ShownAnswer | None) -> tuple[Any, Any]:
    """The "this passage answers it" row: shown with the closest passages' numbers after an
    abstention that has some, hidden otherwise."""
    answer = None if shown is None else shown.answer
    numbers = [c.number for c in answer.closest] if answer and answer.abstained else []
    return (
        gr.update(visible=bool(numbers)),
        gr.update(choices=[(str(n), n) for n in numbers], value=numbers[0] if numbers else None),
    )


def build_app(
    service: LibraryService,
    *,
    index_on_start: bool = True,
    warning: str | None = None,
) -> gr.Blocks:
    """Build the Gradio page over ``service``; with ``index_on_start`` it indexes in the background.

    Every handler is a thin caller of the service, which checks the signed-in user's role in
    the picked workspace (readers ask; editors also upload and delete), waits for indexing,
    locks, keeps conversations and audits; ``warning`` is shown at the top of the page (an
    unprotected server).
    """
    settings = service.qa.settings
    suffixes = " ".join(sorted(SUPPORTED_SUFFIXES))
    if index_on_start:
        service.start_indexing()
    else:
        service.mark_ready()

    # ---- views of the picked workspace ----------------------------------------------------
    def status_view(workspace: str, who: str | None) -> tuple[str, Any]:
        """The workspace's status line, and the timer that polls it while it indexes."""
        try:
            served = service.served(who, workspace)
        except ServiceError as exc:
            return render_status(str(exc), "error"), gr.Timer(active=False)
        html = render_status(served.status, served.status_kind)
        return html, gr.Timer(active=not served.ready.is_set())

    def documents_view(workspace: str, who: str | None) -> tuple[str, Any]:
        """The document table and the choices of the delete dropdown."""
        try:
            docs = service.documents(who, workspace)
        except ServiceError:
            docs = []
        sources = [d.source for d in docs]
        return render_documents(docs), gr.Dropdown(choices=sources, value=None)

    def audit_view(workspace: str, request: gr.Request) -> str:
        return render_audit(service.audit_entries(_who(request), workspace=workspace))

    def role_view(workspace: str, request: gr.Request) -> tuple[Any, ...]:
        """The role note, the editor's tools (upload, delete) and the audit log: readers see no
        upload or delete controls (the service refuses them anyway)."""
        who = _who(request)
        try:
            role = service.role_in(who, workspace)
        except ServiceError as exc:
            hidden = gr.update(visible=False)
            return render_status(str(exc), "error"), hidden, hidden, ""
        if not service.may(who, "editor", workspace):
            note = render_status(
                f"Signed in as {who or 'you'} ({role}) in workspace {workspace}: you can ask; an "
                "editor adds and deletes documents.",
                "ready",
            )
            hidden = gr.update(visible=False)
            return note, hidden, hidden, ""
        note = render_status(f"Signed in as {who} ({role}) in workspace {workspace}.", "ready")
        shown = gr.update(visible=True)
        return (note if who else ""), shown, shown, audit_view(workspace, request)

    def library_view(workspace: str, request: gr.Request) -> tuple[Any, ...]:
        """Status, timer, role note, editor's tools, documents, delete choices and audit log."""
        who = _who(request)
        note, uploading, deleting, audit = role_view(workspace, request)
        table, choices = documents_view(workspace, who)
        return (*status_view(workspace, who), note, uploading, deleting, table, choices, audit)

    def conversation_list(
        workspace: str, who: str | None, selected: str | None = None
    ) -> tuple[Any, str]:
        """The user's conversations in ``workspace``, most recent first, labelled by title
        (shown as plain text: a title is never read as HTML), and the selected one's title."""
        try:
            found = service.conversations(who, workspace)
        except ServiceError:
            found = []
        title = next((c.title for c in found if c.id == selected), "")
        return gr.update(choices=[(c.title, c.id) for c in found], value=selected), title

    def empty_chat() -> tuple[Any, ...]:
        """A new conversation: the next question starts a new kept one."""
        return ([], SOURCES_EMPTY, None, [], "", *_passage_pick(None), "")

    def tick(workspace: str, request: gr.Request) -> tuple[Any, ...]:
        who = _who(request)
        status_html, timer = status_view(workspace, who)
        return (status_html, *documents_view(workspace, who), timer)

    def open_page(request: gr.Request) -> tuple[Any, ...]:
        """The workspaces the user may use, ``default`` first and picked, and its views."""
        who = _who(request)
        try:
            names = [w.name for w, _ in service.workspaces(who)]
        except ServiceError:
            names = []
        picked = names[0] if names else DEFAULT_WORKSPACE
        picker = gr.update(choices=names or [DEFAULT_WORKSPACE], value=picked)
        return (picker, *library_view(picked, request), conversation_list(picked, who)[0])

    def switch(workspace: str, request: gr.Request) -> tuple[Any, ...]:
        """Another workspace: its views, its conversations, and a new (empty) chat."""
        views = library_view(workspace, request)
        return (*views, conversation_list(workspace, _who(request))[0], *empty_chat())

    # ---- questions and kept conversations --------------------------------------------------
    def respond(
        message: str,
        chat: list[Message],
        conversation: str | None,
        turn_ids: TurnIds,
        workspace: str,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer in the picked workspace, keeping the turn in the current conversation (a new
        one when there is none yet); the earlier turns come from the store, not the page."""
        who = _who(request)
        with _page_errors():
            served = service.served(who, workspace)
        skip = gr.skip()
        question = (message or "").strip()
        asked = [*chat, _question(question)]
        ids = _aligned(turn_ids, len(chat))

        def partial(content: str, sources: Any = skip) -> tuple[Any, ...]:
            reply = {"role": "assistant", "content": content}
            return ([*asked, reply], sources, skip, skip, "", skip, skip, skip, skip, skip)

        def noted(text: str) -> tuple[Any, ...]:
            row, pick = _passage_pick(None)
            chat_now = [*asked, _note(text)]
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
            for item in service.ask_stream(
                who, question, workspace=workspace, conversation_id=conversation
            ):
                if isinstance(item, Reply):
                    reply = item
                elif settings.answerer == "llm":
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
        shown_reply, sources_html = render_turn(reply.shown.record())
        listed, title = conversation_list(workspace, who, reply.conversation_id)
        yield (
            [*asked, {"role": "assistant", "content": shown_reply}],
            sources_html,
            reply.conversation_id,
            [*ids, None, reply.turn_id],
            "",
            listed,
            title,
            *_passage_pick(reply.shown),
            "",
        )

    def resume(conversation: str | None, request: gr.Request) -> tuple[Any, ...]:
        """A kept conversation: every turn as first shown, the last one's sources."""
        if not conversation:
            return empty_chat()
        with _page_errors():
            info, turns = service.conversation(_who(request), conversation)
        chat, ids = _chat_of(turns)
        last = turns[-1].answer if turns else None
        sources_html = render_turn(last)[1] if last is not None else SOURCES_EMPTY
        shown = ShownAnswer.from_record(last) if last is not None else None
        return (chat, sources_html, info.id, ids, info.title, *_passage_pick(shown), "")

    def new_conversation(workspace: str, request: gr.Request) -> tuple[Any, ...]:
        return (*empty_chat(), conversation_list(workspace, _who(request))[0])

    def rename(
        conversation: str | None, title: str, workspace: str, request: gr.Request
    ) -> tuple[Any, Any]:
        if not conversation:
            raise gr.Error("Pick a conversation (or ask a question to start one) to rename it.")
        who = _who(request)
        with _page_errors():
            info = service.rename_conversation(who, conversation, title)
        return conversation_list(workspace, who, info.id)

    def delete_conversation(
        conversation: str | None, workspace: str, request: gr.Request
    ) -> tuple[Any, ...]:
        if not conversation:
            raise gr.Error("Pick a conversation to delete it.")
        who = _who(request)
        with _page_errors():
            service.delete_conversation(who, conversation)
        return (*empty_chat(), conversation_list(workspace, who)[0])

    # ---- feedback --------------------------------------------------------------------------
    def like(turn_ids: TurnIds, data: gr.LikeData, request: gr.Request) -> str:
        """Thumbs up or down on an answer: kept as feedback on its turn."""
        index = data.index if isinstance(data.index, int) else -1
        turn = turn_ids[index] if 0 <= index < len(turn_ids or []) else None
        if turn is None:
            return render_status("Only an answer takes feedback.", "error")
        if not isinstance(data.liked, bool):  # the thumb clicked again, to take it back
            return render_status("Feedback given earlier stays kept.", "busy")
        with _page_errors():
            service.give_feedback(_who(request), turn, "up" if data.liked else "down")
        return render_status("Thanks: your feedback on this answer is kept.", "ready")

    def passage_answers(number: int | None, turn_ids: TurnIds, request: gr.Request) -> str:
        """ "This passage answers it", on the last answer (an abstention)."""
        turn = turn_ids[-1] if turn_ids else None
        if turn is None or number is None:
            return render_status("Pick one of the closest passages first.", "error")
        with _page_errors():
            service.give_feedback(_who(request), turn, "passage", int(number))
        return render_status(f"Thanks: kept that passage {number} answers the question.", "ready")

    # ---- the JSON endpoint and the document library ----------------------------------------
    def ask_api(
        question: str, history_json: str = "[]", request: gr.Request | None = None
    ) -> dict[str, Any]:
        """Answer ``question``; ``history_json`` is a JSON list of [question, answer] pairs."""
        try:
            pairs = [(str(q), str(a)) for q, a in json.loads(history_json or "[]")]
        except (ValueError, TypeError):
            raise gr.Error("history_json must be a JSON list of [question, answer] pairs") from None
        with _page_errors():
            return service.ask(_who(request), question, history=pairs, keep=False).to_dict()

    def upload(
        files: list[str] | None,
        workspace: str,
        request: gr.Request,
        progress: Any = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        who = _who(request)
        if not files:
            with _page_errors():
                service.authorize(who, "editor", "upload", workspace)
            note = render_status("Choose one or more files first.", "error")
            return (note, *documents_view(workspace, who))

        def on_progress(done: int, total: int) -> None:
            progress((done, total), desc="Embedding passages", unit="passages")

        with _page_errors():
            result = service.add_files(
                who, [Path(f) for f in files], on_progress=on_progress, workspace=workspace
            )
        lines = [f"Added {name}" for name in result.accepted]
        lines += [f"Rejected {name}: {reason}" for name, reason in result.rejected]
        kind = "error" if result.rejected else "ready"
        return (render_status("\n".join(lines), kind), *documents_view(workspace, who))

    def delete(source: str | None, workspace: str, request: gr.Request) -> tuple[Any, ...]:
        who = _who(request)
        if not source:
            with _page_errors():
                service.authorize(who, "editor", "delete", workspace)
            note = render_status("Pick a document to delete.", "error")
            return (note, *documents_view(workspace, who))
        try:
            service.remove_document(who, source, workspace)
        except NotFound as exc:  # shown in the status line; other refusals as errors
            return (render_status(str(exc), "error"), *documents_view(workspace, who))
        except DocQAError as exc:
            raise gr.Error(str(exc)) from None
        return (render_status(f"Deleted {source}", "ready"), *documents_view(workspace, who))

    with gr.Blocks(title="docqa — ask your documents") as demo:
        gr.HTML(
            '<div class="docqa-header"><h1>docqa</h1><p>Answers from your documents, every '
            "sentence cited — or an honest “not in the documents”.</p></div>"
        )
        if warning:
            gr.HTML(render_status("⚠️ " + warning, "error"), elem_id="docqa-unprotected")
        with gr.Row(equal_height=True):
            picker = gr.Dropdown(
                choices=[DEFAULT_WORKSPACE],
                value=DEFAULT_WORKSPACE,
                label="Workspace",
                elem_id="docqa-workspace",
                interactive=True,
                scale=1,
                min_width=180,
            )
            with gr.Column(scale=4):
                status = gr.HTML(elem_id="docqa-status")
        timer = gr.Timer(1.0, active=True)
        conversation = gr.State(None)
        turn_ids = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
                with gr.Column(scale=1, min_width=200):
                    new = gr.Button("New conversation", size="sm", elem_id="docqa-new-conversation")
                    conversations = gr.Radio(
                        choices=[],
                        value=None,
                        label="Your conversations",
                        elem_id="docqa-conversations",
                        interactive=True,
                    )
                    rename_box = gr.Textbox(
                        label="Title", max_lines=1, elem_id="docqa-rename", interactive=True
                    )
                    with gr.Row():
                        rename_button = gr.Button(
                            "Rename", size="sm", elem_id="docqa-rename-button"
                        )
                        forget = gr.Button(
                            "Delete", size="sm", variant="stop", elem_id="docqa-delete-conversation"
                        )
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        elem_id="docqa-chat",
                        label="Conversation",
                        height=440,
                        sanitize_html=True,
                        allow_tags=False,
                        feedback_options=("Like", "Dislike"),
                        buttons=["copy"],
                        placeholder="Ask a question about your documents.",
                    )
                    feedback_note = gr.HTML(elem_id="docqa-feedback-note")
                    with gr.Row(visible=False, elem_id="docqa-passage-row") as passage_row:
                        passage_pick = gr.Dropdown(
                            choices=[],
                            label="Does one of the closest passages answer it after all?",
                            elem_id="docqa-passage-pick",
                            interactive=True,
                            scale=3,
                        )
                        passage_button = gr.Button(
                            "This passage answers it", elem_id="docqa-passage-answers", scale=1
                        )
                    with gr.Row():
                        box = gr.Textbox(
                            placeholder="e.g. Who led the Iraqi delegation?",
                            show_label=False,
                            scale=5,
                            elem_id="docqa-question",
                            max_lines=4,
                        )
                        send = gr.Button("Ask", variant="primary", scale=1, elem_id="docqa-ask")
                    gr.Examples(EXAMPLES, inputs=[box], label="Try")
                with gr.Column(scale=2):
                    sources = gr.HTML(SOURCES_EMPTY, label="Sources", elem_id="docqa-sources")
            with gr.Tab("Documents", id="documents"):
                role_note = gr.HTML(elem_id="docqa-role-note")
                with gr.Column(visible=False) as editor_tools:
                    files = gr.File(
                        label=f"Add documents ({suffixes}, ≤ {settings.max_file_mb:g} MB each)",
                        file_count="multiple",
                        type="filepath",
                        elem_id="docqa-upload",
                    )
                    add = gr.Button("Add to library", variant="primary", elem_id="docqa-add")
                    upload_status = gr.HTML(elem_id="docqa-upload-status")
                docs = gr.HTML(elem_id="docqa-documents")
                with gr.Row(visible=False) as delete_tools:
                    pick = gr.Dropdown(label="Document", choices=[], scale=4, interactive=True)
                    remove = gr.Button("Delete document", variant="stop", scale=1)
                audit_log = gr.HTML(elem_id="docqa-audit")

        private: dict[str, Any] = {"api_visibility": "private"}
        library = [status, timer, role_note, editor_tools, delete_tools, docs, pick, audit_log]
        chat_views = [chat, sources, conversation, turn_ids, rename_box, passage_row]
        chat_views += [passage_pick, feedback_note]
        answered = [chat, sources, conversation, turn_ids, box, conversations, rename_box]
        answered += [passage_row, passage_pick, feedback_note]
        asking = [box, chat, conversation, turn_ids, picker]
        box.submit(respond, asking, answered, **private)
        send.click(respond, asking, answered, **private)
        new.click(new_conversation, [picker], [*chat_views, conversations], **private)
        chat.clear(new_conversation, [picker], [*chat_views, conversations], **private)
        conversations.input(resume, [conversations], chat_views, **private)
        rename_button.click(
            rename, [conversation, rename_box, picker], [conversations, rename_box], **private
        )
        rename_box.submit(
            rename, [conversation, rename_box, picker], [conversations, rename_box], **private
        )
        forget.click(
            delete_conversation, [conversation, picker], [*chat_views, conversations], **private
        )
        chat.like(like, [turn_ids], [feedback_note], **private)
        passage_button.click(passage_answers, [passage_pick, turn_ids], [feedback_note], **private)
        picker.input(switch, [picker], [*library, conversations, *chat_views], **private)
        add.click(upload, [files, picker], [upload_status, docs, pick], api_name="upload").then(
            lambda: None, None, [files], **private
        ).then(audit_view, [picker], [audit_log], **private)
        remove.click(delete, [pick, picker], [upload_status, docs, pick], api_name="delete").then(
            audit_view, [picker], [audit_log], **private
        )
        timer.tick(tick, [picker], [status, docs, pick, timer], **private)
        demo.load(open_page, None, [picker, *library, conversations], **private)
        gr.api(ask_api, api_name="ask")
    return demo


def launch(
    demo: gr.Blocks,
    host: str,
    port: int,
    *,
    block: bool = True,
    auth: LoginGuard | None = None,
    api: Callable[[Any], None] | None = None,
    max_upload_bytes: int,
) -> None:
    """Serve ``demo`` on ``host:port`` (never shared publicly); with ``auth``, behind a login;
    ``api`` adds routes to the server's FastAPI app before the first request is awaited."""
    demo.queue(default_concurrency_limit=4).launch(
        auth=auth.check if auth is not None else None,
        auth_message="docqa: sign in with the name and password your admin gave you.",
        server_name=host,
        server_port=port,
        share=False,
        prevent_thread_lock=True,
        css=CSS,
        theme=gr.themes.Soft(),
        footer_links=["api"],
        # Gradio's own cap refuses a file without saying why; set above docqa's limit so that
        # a file just over it gets docqa's message, which names the limit and its setting.
        max_file_size=2 * max_upload_bytes,
        quiet=not block,
        app_kwargs={"openapi_url": "/api/openapi.json", "docs_url": "/api/docs"},
    )
    if auth is not None:
        throttle_logins(demo.app)
    refuse_framing(demo.app)
    if api is not None:
        api(demo.app)
    if block:
        demo.block_thread()


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: ``python app.py [--host H] [--port P] [--corpus DIR] [--index DIR]``.

    Without flags the address comes from ``DOCQA_UI_HOST``/``DOCQA_UI_PORT``, then Gradio's
    ``GRADIO_SERVER_NAME``/``GRADIO_SERVER_PORT``, then 127.0.0.1:7860.
    """
    parser = argparse.ArgumentParser(description="docqa web UI")
    parser.add_argument("--host", help="address to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", help="port to listen on (default: 7860)")
    parser.add_argument("--corpus", help="corpus folder (default: DOCQA_CORPUS_DIR or corpus)")
    parser.add_argument("--index", help="index folder (default: DOCQA_INDEX_DIR or .docqa)")
    parser.add_argument(
        "--no-auth",
        action="store_true",
        help="no sign-in, even on a network address (the page then shows a warning)",
    )
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.corpus:
        overrides["corpus_dir"] = args.corpus
    if args.index:
        overrides["index_dir"] = args.index
    try:
        host, port = resolve_address(args.host, args.port, os.environ)
        qa = DocQA(**overrides)
        state = State.open(qa.settings)
        users = state.users
        problem = exposure_problem(host, users, args.no_auth)
        protected = users.exists() and not args.no_auth
        if protected:
            users.users()  # an unreadable users file stops the start, saying how to fix it
    except (DocQAError, ValueError) as exc:
        raise SystemExit(f"docqa: {exc}") from None
    if problem:
        raise SystemExit(f"docqa: {problem}")
    warning = None
    if not protected and not is_loopback(host):
        warning = (
            f"This server has no sign-in and listens on {host}: anyone who can reach it can "
            "read, upload and delete documents. Add users ('docqa user add') and restart "
            "without --no-auth."
        )
    service = LibraryService(qa, state, protected=protected)
    demo = build_app(service, warning=warning)
    launch(
        demo,
        host,
        port,
        auth=LoginGuard(users) if protected else None,
        api=lambda app: register(app, service),
        max_upload_bytes=qa.settings.max_file_bytes,
    )


if __name__ == "__main__":
    main()
