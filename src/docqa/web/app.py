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
import os
from collections.abc import Callable, Sequence
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

try:
    import gradio as gr
except ImportError:  # the web UI is an extra: say how to get it
    raise SystemExit(
        "docqa: the web UI needs Gradio: `make run` installs it, or `pip install -e '.[web]'`."
    ) from None

from docqa.api import DocQA  # noqa: E402
from docqa.documents import SUPPORTED_SUFFIXES  # noqa: E402
from docqa.errors import DocQAError  # noqa: E402
from docqa.service import LibraryService  # noqa: E402
from docqa.state import State  # noqa: E402
from docqa.web.address import resolve_address  # noqa: E402
from docqa.web.asking import Asking  # noqa: E402
from docqa.web.auth import (  # noqa: E402
    LoginGuard,
    exposure_problem,
    is_loopback,
    refuse_framing,
    throttle_logins,
)
from docqa.web.conversations_panel import ConversationsPanel  # noqa: E402
from docqa.web.documents_tab import DocumentsTab  # noqa: E402
from docqa.web.json_api import register  # noqa: E402
from docqa.web.render import CSS, EXAMPLES, SOURCES_EMPTY, render_status  # noqa: E402
from docqa.web.workspace_views import WorkspaceViews  # noqa: E402
from docqa.workspaces import DEFAULT_WORKSPACE  # noqa: E402


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
    unprotected server). This lays out the page and wires its events; the handlers live by
    concern in ``documents_tab``, ``conversations_panel``, ``asking`` and ``workspace_views``.
    """
    settings = service.qa.settings
    suffixes = " ".join(sorted(SUPPORTED_SUFFIXES))
    if index_on_start:
        service.start_indexing()
    else:
        service.mark_ready()
    # The handlers, by concern; ``panel`` serves the conversation list beside the chat.
    documents_tab = DocumentsTab(service)
    panel = ConversationsPanel(service)
    questions = Asking(service, panel)
    workspace_views = WorkspaceViews(service, documents_tab, panel)

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
        box.submit(questions.respond, asking, answered, **private)
        send.click(questions.respond, asking, answered, **private)
        new_chat = [*chat_views, conversations]
        new.click(panel.new_conversation, [picker], new_chat, **private)
        chat.clear(panel.new_conversation, [picker], new_chat, **private)
        conversations.input(panel.resume, [conversations], chat_views, **private)
        renaming = [conversation, rename_box, picker]
        rename_button.click(panel.rename, renaming, [conversations, rename_box], **private)
        rename_box.submit(panel.rename, renaming, [conversations, rename_box], **private)
        forget.click(panel.delete_conversation, [conversation, picker], new_chat, **private)
        chat.like(panel.like, [turn_ids], [feedback_note], **private)
        passage_button.click(
            panel.passage_answers, [passage_pick, turn_ids], [feedback_note], **private
        )
        switched = [*library, conversations, *chat_views]
        picker.input(workspace_views.switch, [picker], switched, **private)
        document_views = [upload_status, docs, pick]
        audit_view = documents_tab.audit_view
        add.click(documents_tab.upload, [files, picker], document_views, api_name="upload").then(
            lambda: None, None, [files], **private
        ).then(audit_view, [picker], [audit_log], **private)
        remove.click(documents_tab.delete, [pick, picker], document_views, api_name="delete").then(
            audit_view, [picker], [audit_log], **private
        )
        timer.tick(workspace_views.tick, [picker], [status, docs, pick, timer], **private)
        demo.load(workspace_views.open_page, None, [picker, *library, conversations], **private)
        gr.api(questions.ask_api, api_name="ask")
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
