"""The docqa web UI: a thin Gradio layer over ``DocQA`` (chat with sources, document library).

Run ``python app.py`` (or ``python -m docqa.web``) and open http://127.0.0.1:7860. The server
starts at once and indexes the corpus in a background thread; the page shows the progress.
Everything taken from documents or questions is HTML-escaped before it is shown.
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
from docqa.documents import SUPPORTED_SUFFIXES  # noqa: E402
from docqa.errors import DocQAError  # noqa: E402
from docqa.models import Answer  # noqa: E402
from docqa.service import LibraryService, NotFound, ServiceError  # noqa: E402
from docqa.users import UserStore  # noqa: E402
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
    render_dropped,
    render_phrases,
    render_sources,
    render_status,
    stream_pieces,
)


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


def build_app(
    service: LibraryService,
    *,
    index_on_start: bool = True,
    warning: str | None = None,
) -> gr.Blocks:
    """Build the Gradio page over ``service``; with ``index_on_start`` it indexes in the background.

    Every handler is a thin caller of the service, which checks the signed-in user's role
    (readers ask; editors also upload and delete), waits for indexing, locks and audits;
    ``warning`` is shown at the top of the page (an unprotected server).
    """
    settings = service.qa.settings
    suffixes = " ".join(sorted(SUPPORTED_SUFFIXES))
    if index_on_start:
        service.start_indexing()
    else:
        service.mark_ready()

    def status_html() -> str:
        return render_status(service.status, service.status_kind)

    def documents_view(request: gr.Request | None) -> tuple[str, Any]:
        """The document table and the choices of the delete dropdown."""
        try:
            docs = service.documents(_who(request))
        except ServiceError:
            docs = []
        sources = [d.source for d in docs]
        return render_documents(docs), gr.Dropdown(choices=sources, value=None)

    def audit_view(request: gr.Request) -> str:
        return render_audit(service.audit_entries(_who(request)))

    def respond(
        message: str, chat: list[Any], turns: list[tuple[str, str]], request: gr.Request
    ) -> Iterator[Any]:
        with _page_errors():
            service.authorize(_who(request), "reader")
        question = (message or "").strip()
        if not question:
            yield chat, gr.skip(), turns, ""
            return
        chat = [*chat, {"role": "user", "content": md_escape(question)}]
        if not service.ready.is_set():
            busy = f"⏳ {service.status} Ask again in a moment."
            yield [*chat, {"role": "assistant", "content": md_escape(busy)}], gr.skip(), turns, ""
            return
        answer: Answer | None = None
        draft = ""
        try:
            for item in service.ask_stream(_who(request), question, turns):
                if isinstance(item, Answer):
                    answer = item
                elif settings.answerer == "llm":
                    # The model's words as they arrive, marked as not yet verified.
                    draft += item
                    reply = {"role": "assistant", "content": md_escape(draft) + " …"}
                    yield [*chat, reply], SOURCES_WAIT, turns, ""
        except DocQAError as exc:
            note = f"⚠️ {exc}"
            yield [*chat, {"role": "assistant", "content": md_escape(note)}], gr.skip(), turns, ""
            return
        assert answer is not None
        prefix = "ℹ️ " if answer.abstained else ""
        lead = render_phrases(answer)  # the answer phrase first, in bold, above the sentences
        if answer.answerer != "llm":  # written all at once: shown a few words at a time
            for i, piece in enumerate(stream_pieces(answer.text)):
                reply = {"role": "assistant", "content": lead + md_escape(prefix + piece)}
                yield [*chat, reply], SOURCES_WAIT if i == 0 else gr.skip(), turns, ""
                time.sleep(0.03)
        final = lead + md_escape(prefix + answer.text) + render_dropped(answer)
        yield (
            [*chat, {"role": "assistant", "content": final}],
            render_sources(answer),
            [*turns, (question, answer.text)],
            "",
        )

    def ask_api(
        question: str, history_json: str = "[]", request: gr.Request | None = None
    ) -> dict[str, Any]:
        """Answer ``question``; ``history_json`` is a JSON list of [question, answer] pairs."""
        try:
            pairs = [(str(q), str(a)) for q, a in json.loads(history_json or "[]")]
        except (ValueError, TypeError):
            raise gr.Error("history_json must be a JSON list of [question, answer] pairs") from None
        with _page_errors():
            return service.ask(_who(request), question, pairs).to_dict()

    def upload(
        files: list[str] | None,
        request: gr.Request,
        progress: Any = gr.Progress(),  # noqa: B008
    ) -> tuple[Any, ...]:
        if not files:
            with _page_errors():
                service.authorize(_who(request), "editor", "upload")
            note = render_status("Choose one or more files first.", "error")
            return (note, *documents_view(request))

        def on_progress(done: int, total: int) -> None:
            progress((done, total), desc="Embedding passages", unit="passages")

        with _page_errors():
            result = service.add_files(
                _who(request), [Path(f) for f in files], on_progress=on_progress
            )
        lines = [f"Added {name}" for name in result.accepted]
        lines += [f"Rejected {name}: {reason}" for name, reason in result.rejected]
        kind = "error" if result.rejected else "ready"
        return (render_status("\n".join(lines), kind), *documents_view(request))

    def delete(source: str | None, request: gr.Request) -> tuple[Any, ...]:
        if not source:
            with _page_errors():
                service.authorize(_who(request), "editor", "delete")
            note = render_status("Pick a document to delete.", "error")
            return (note, *documents_view(request))
        try:
            service.remove_document(_who(request), source)
        except NotFound as exc:  # shown in the status line; other refusals as errors
            return (render_status(str(exc), "error"), *documents_view(request))
        except DocQAError as exc:
            raise gr.Error(str(exc)) from None
        return (render_status(f"Deleted {source}", "ready"), *documents_view(request))

    def role_view(request: gr.Request) -> tuple[Any, ...]:
        """Readers see no upload or delete controls (the service refuses them anyway)."""
        who = _who(request)
        if not service.may(who, "editor"):
            note = render_status(
                f"Signed in as {who or 'you'} (reader): you can ask; an editor adds and deletes "
                "documents.",
                "ready",
            )
            hidden = gr.update(visible=False)
            return (note, hidden, hidden, hidden, hidden, "")
        note = render_status(f"Signed in as {who}.", "ready") if who else ""
        shown = gr.update(visible=True)
        return (note, shown, shown, shown, shown, audit_view(request))

    def tick(request: gr.Request) -> tuple[Any, ...]:
        timer = gr.Timer(active=not service.ready.is_set())
        return (status_html(), *documents_view(request), timer)

    with gr.Blocks(title="docqa — ask your documents") as demo:
        gr.HTML(
            '<div class="docqa-header"><h1>docqa</h1><p>Answers from your documents, every '
            "sentence cited — or an honest “not in the documents”.</p></div>"
        )
        if warning:
            gr.HTML(render_status("⚠️ " + warning, "error"), elem_id="docqa-unprotected")
        status = gr.HTML(status_html(), elem_id="docqa-status")
        timer = gr.Timer(1.0, active=True)
        turns = gr.State([])
        with gr.Tabs():
            with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    chat = gr.Chatbot(
                        elem_id="docqa-chat",
                        label="Conversation",
                        height=440,
                        sanitize_html=True,
                        allow_tags=False,
                        feedback_options=None,
                        buttons=["copy"],
                        placeholder="Ask a question about your documents.",
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
                    clear = gr.Button("New conversation", size="sm")
                with gr.Column(scale=2):
                    sources = gr.HTML(SOURCES_EMPTY, label="Sources", elem_id="docqa-sources")
            with gr.Tab("Documents", id="documents"):
                role_note = gr.HTML(elem_id="docqa-role-note")
                files = gr.File(
                    label=f"Add documents ({suffixes}, ≤ {settings.max_file_mb:g} MB each)",
                    file_count="multiple",
                    type="filepath",
                    elem_id="docqa-upload",
                )
                add = gr.Button("Add to library", variant="primary", elem_id="docqa-add")
                upload_status = gr.HTML(elem_id="docqa-upload-status")
                docs = gr.HTML(elem_id="docqa-documents")
                with gr.Row():
                    pick = gr.Dropdown(label="Document", choices=[], scale=4, interactive=True)
                    remove = gr.Button("Delete document", variant="stop", scale=1)
                audit_log = gr.HTML(elem_id="docqa-audit")

        outs = [chat, sources, turns, box]
        box.submit(respond, [box, chat, turns], outs, api_visibility="private")
        send.click(respond, [box, chat, turns], outs, api_visibility="private")
        clear.click(
            lambda: ([], SOURCES_EMPTY, []), None, [chat, sources, turns], api_visibility="private"
        )
        add.click(upload, [files], [upload_status, docs, pick], api_name="upload").then(
            lambda: None, None, [files], api_visibility="private"
        ).then(audit_view, None, [audit_log], api_visibility="private")
        remove.click(delete, [pick], [upload_status, docs, pick], api_name="delete").then(
            audit_view, None, [audit_log], api_visibility="private"
        )
        timer.tick(tick, None, [status, docs, pick, timer], api_visibility="private")
        demo.load(tick, None, [status, docs, pick, timer], api_visibility="private")
        demo.load(
            role_view,
            None,
            [role_note, files, add, pick, remove, audit_log],
            api_visibility="private",
        )
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
        users = UserStore(qa.settings.users_path)
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
    service = LibraryService(qa, users if protected else None)
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
