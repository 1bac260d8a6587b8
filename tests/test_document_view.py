"""The document viewer: every format shown whole and escaped, the cited span marked with the
answer phrase inside, a changed file said to have changed, and nothing outside the workspace's
corpus readable (fast lane: real files, the fake embeddings, a real SQLite database)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import MakeQA, write_corpus
from docqa.document_view import (
    Span,
    ViewError,
    cited_pages,
    load_document,
    page_image_url,
    quote_hash,
    render_view,
    view_url,
)
from docqa.models import Citation, Document
from docqa.service import LibraryService, NotFound, SignInRequired
from docqa.state import State
from fixtures_documents import make_docx, make_pdf

LIMIT = 20 * 1024 * 1024
HOSTILE = "Intro <script>alert(1)</script> & <b>bold</b>. The keeper is Ines Duarte. End.\n"


def _span(text: str, quote: str, phrase: str | None = None) -> Span:
    start = text.index(quote)
    inner = None
    if phrase is not None:
        a = text.index(phrase, start)
        inner = (a, a + len(phrase))
    return Span(start, start + len(quote), inner, quote_hash(quote))


def _mark(page: str) -> str:
    found = re.search(r'<mark id="cited">(.*?)</mark>', page, re.S)
    assert found, page[:2000]
    return found.group(1)


def test_a_text_file_is_shown_escaped_with_the_quote_and_phrase_marked(tmp_path: Path) -> None:
    path = tmp_path / "memo.md"
    path.write_text(HOSTILE, encoding="utf-8")
    document = load_document(path, "memo.md", "memo.md", LIMIT)
    page = render_view(document, _span(document.text, "The keeper is Ines Duarte.", "Ines Duarte"))
    assert "<script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert _mark(page) == "The keeper is <strong class='docqa-phrase'>Ines Duarte</strong>."
    assert page.count("<mark") == 1


@pytest.mark.parametrize("kind", ["html", "docx", "jsonl"])
def test_every_format_shows_its_extracted_text_with_the_span_marked(
    tmp_path: Path, kind: str
) -> None:
    quote = "The keeper is Ines Duarte."
    if kind == "html":
        path = tmp_path / "page.html"
        path.write_text(f"<html><body><p>Intro.</p><p>{quote}</p></body></html>", "utf-8")
        doc_id = "page.html"
    elif kind == "docx":
        path = make_docx(tmp_path / "notes.docx", ["Intro.", quote], [["cell", "cell"]])
        doc_id = "notes.docx"
    else:
        path = tmp_path / "records.jsonl"
        records = [{"doc_id": "r1", "text": "Other record."}, {"doc_id": "r2", "text": quote}]
        path.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
        doc_id = "r2"
    document = load_document(path, path.name, doc_id, LIMIT)
    assert document.doc_id == doc_id
    page = render_view(document, _span(document.text, quote))
    assert _mark(page) == quote


def test_a_pdf_is_shown_page_by_page_and_a_span_across_pages_is_marked_on_both(
    tmp_path: Path,
) -> None:
    path = make_pdf(
        tmp_path / "report.pdf",
        ("First page text. It ends here.", "Second page starts. More text follows."),
    )
    document = load_document(path, "report.pdf", "report.pdf", LIMIT)
    first_end = document.pages[0][2]
    span = Span(first_end - 9, document.pages[1][1] + 6)  # "ends here." … "Second"
    assert cited_pages(document, span) == [1, 2]
    page = render_view(document, span, image_urls={1: "/img/1", 2: "/img/2"})
    assert page.count("<mark") == 2 and page.count('id="cited"') == 1
    assert "<img src='/img/1'" in page and "<img src='/img/2'" in page
    header = page.split("<header>")[1].split("</header>")[0]
    assert "page 1, 2" in header and "chars" not in header


def test_a_changed_document_is_said_to_have_changed_and_nothing_is_marked(
    tmp_path: Path,
) -> None:
    document = Document("a.txt", "A", "a.txt", "The keeper is Maren Holt now.\n")
    stale = Span(0, 26, None, quote_hash("The keeper is Ines Duarte."))
    page = render_view(document, stale)
    assert "has changed since the answer" in page and "<mark" not in page
    beyond = render_view(document, Span(0, 500))
    assert "has changed" in beyond
    for bad in (Span(5, 5), Span(-1, 4), Span(4, 2), Span(0, 9, (5, 20))):
        with pytest.raises(ViewError):
            render_view(document, bad)


def test_urls_carry_the_span_the_phrase_and_the_quote_hash() -> None:
    citation = Citation(
        1, "reports/a b.pdf", "reports/a b.pdf", "A", 10, 40, "q" * 30, 0.9, page=2,
        answer_start=12, answer_end=15,
    )  # fmt: skip
    url = view_url("legal", citation)
    assert url.startswith("/view/legal/reports/a%20b.pdf?") and url.endswith("#cited")
    assert "start=10" in url and "end=40" in url and "as=12" in url and "ae=15" in url
    assert f"q={quote_hash('q' * 30)}" in url
    assert page_image_url("legal", citation, 2).startswith("/view-page/legal/2/reports/a%20b.pdf?")


FALCONS = {"falcons.txt": "The falcon aviary of Brussels is kept by Ines Duarte since 2011.\n"}


def test_viewing_follows_the_access_rules_of_asking(make_fake_qa: MakeQA, tmp_path: Path) -> None:
    qa = make_fake_qa({"otters.txt": "The river otters of Lake Vell were counted in 1998.\n"})
    state = State.open(qa.settings, rounds=4)
    state.users.add("rita", "reader password", "reader")
    state.workspaces.create("secret", write_corpus(tmp_path / "secret", FALCONS))
    (tmp_path / "outside.txt").write_text("Not a document of any workspace.\n", "utf-8")
    service = LibraryService(qa, state, protected=True)
    service.start_indexing().join()
    span = Span(4, 10)
    document, path = service.document_view("rita", "default", "otters.txt", None, span)
    assert document.source == "otters.txt" and path.name == "otters.txt"
    with pytest.raises(NotFound):  # an invisible workspace: not found, as an unknown one
        service.document_view("rita", "secret", "falcons.txt", None, span)
    for escape in ("../outside.txt", "/etc/passwd", "..\\outside.txt", "missing.txt"):
        with pytest.raises(NotFound):
            service.document_view("rita", "default", escape, None, span)
    with pytest.raises(SignInRequired):
        service.document_view(None, "default", "otters.txt", None, span)


def test_the_json_carries_view_urls_that_answer_the_marked_document(
    make_fake_qa: MakeQA, tmp_path: Path
) -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from docqa.web.json_api import register

    qa = make_fake_qa(FALCONS)
    (qa.settings.corpus_dir / "report.pdf").write_bytes(
        make_pdf(
            tmp_path / "r.pdf", ("The aviary report, page one.", "Falcons eat at dawn.")
        ).read_bytes()
    )
    state = State.open(qa.settings, rounds=4)
    state.users.add("rita", "reader password", "reader")
    state.workspaces.create("secret", write_corpus(tmp_path / "secret", FALCONS))
    service = LibraryService(qa, state, protected=True)
    service.start_indexing().join()
    app = FastAPI()
    register(app, service)
    client = TestClient(app)
    rita = ("rita", "reader password")
    asked = client.post(
        "/api/ask", json={"question": "Who keeps the falcon aviary of Brussels?"}, auth=rita
    ).json()
    citation = asked["citations"][0]
    page = client.get(citation["view_url"], auth=rita)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    marked = _mark(page.text)
    assert re.sub(r"<[^>]+>", "", marked) == citation["quote"]
    assert f"<strong class='docqa-phrase'>{citation['answer_phrase']}</strong>" in marked
    assert client.get(citation["view_url"]).status_code == 401  # signed in, as for asking
    hidden = citation["view_url"].replace("/view/default/", "/view/secret/")
    unknown = citation["view_url"].replace("/view/default/", "/view/nowhere/")
    assert client.get(hidden, auth=rita).status_code == 404
    assert client.get(hidden, auth=rita).json() == {
        "detail": client.get(unknown, auth=rita).json()["detail"].replace("nowhere", "secret")
    }
    escape = citation["view_url"].replace("falcons.txt", "..%2F..%2Fetc%2Fpasswd")
    assert client.get(escape, auth=rita).status_code == 404

    pdf = Citation(
        1, "report.pdf", "report.pdf", "r", 0, 28, "The aviary report, page one.", 1.0, page=1
    )
    from docqa.document_view import view_url as url_of

    shown = client.get(url_of("default", pdf), auth=rita)
    assert shown.status_code == 200 and "<img src='/view-page/default/1/report.pdf?" in shown.text
    image_url = re.search(r"<img src='([^']+)'", shown.text)
    assert image_url is not None
    image = client.get(image_url.group(1).replace("&amp;", "&"), auth=rita)
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
