"""The document viewer: a whole document with one citation's span marked, and where to find it.

Every citation and closest passage links to ``view_url``: the document as docqa extracted it,
escaped, with the cited span in ``<mark id="cited">`` (the answer phrase, when there is one,
in ``<strong>`` inside it) and the URL's ``#cited`` fragment scrolling it into view, with no
script. A PDF is shown page by page: each page the span touches as an image with the quote's
characters boxed (``page_image_url``, ``pdf_pages.py``) beside that page's text, marked.

The document is extracted again from the corpus file, and the span is checked against the
quote's hash carried in the URL: a file changed since the answer is said to have changed,
rather than marked at the wrong place.

Example:
    >>> url = view_url("default", citation)
    >>> page = render_view(load_document(corpus, citation.source, citation.doc_id), span)
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from docqa.documents import CorpusFile, load_file
from docqa.errors import DocQAError
from docqa.models import Citation, Document

VIEW_PREFIX = "/view"
PAGE_IMAGE_PREFIX = "/view-page"
QUOTE_HASH_CHARS = 16

CSS = """
body {font: 16px/1.6 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f7f9;}
header {position: sticky; top: 0; background: #fff; border-bottom: 1px solid #d0d7de;
        padding: 0.6rem 1.2rem; z-index: 1;}
header .where {color: #57606a; font-size: 0.9rem;}
.notice {background: #fff8c5; border: 1px solid #d4a72c; padding: 0.5rem 1rem; margin: 1rem;}
main {padding: 0 1.2rem 40vh;}
.text {white-space: pre-wrap; background: #fff; border: 1px solid #d0d7de; padding: 1rem;
       max-width: 60rem;}
mark {background: #ffe082; padding: 0.1rem 0; scroll-margin-top: 40vh;}
mark strong {background: #ffb300;}
.page {display: flex; gap: 1rem; align-items: flex-start; margin: 1rem 0; flex-wrap: wrap;}
.page img {max-width: 48rem; width: 100%; border: 1px solid #d0d7de; background: #fff;}
.page .text {flex: 1 1 24rem;}
h2 {font-size: 1rem; margin: 1.2rem 0 0.4rem;}
"""


class ViewError(DocQAError, ValueError):
    """A view request that names no document or span of the corpus; the message says why."""


@dataclass(frozen=True)
class Span:
    """What a view marks: ``[start, end)`` in the document's text, the answer phrase's span
    inside it (or None), and the hash of the quote it should hold (or None: not checked)."""

    start: int
    end: int
    phrase: tuple[int, int] | None = None
    quote_hash: str | None = None


def quote_hash(quote_text: str) -> str:
    """A short hash of a quote: the view checks that the span still holds it."""
    return hashlib.sha256(quote_text.encode("utf-8")).hexdigest()[:QUOTE_HASH_CHARS]


def _query(citation: Citation) -> dict[str, str | int]:
    query: dict[str, str | int] = {
        "doc": citation.doc_id,
        "start": citation.start,
        "end": citation.end,
        "q": quote_hash(citation.quote),
    }
    if citation.answer_start is not None and citation.answer_end is not None:
        query |= {"as": citation.answer_start, "ae": citation.answer_end}
    return query


def view_url(workspace: str, citation: Citation) -> str:
    """The path of the view of ``citation`` (on the same server), scrolled to the mark."""
    path = f"{VIEW_PREFIX}/{quote(workspace, safe='')}/{quote(citation.source)}"
    return f"{path}?{urlencode(_query(citation))}#cited"


def page_image_url(workspace: str, citation: Citation, page: int) -> str:
    """The path of a PNG of PDF page ``page`` with ``citation``'s characters boxed."""
    span = Span(citation.start, citation.end, None, quote_hash(citation.quote))
    return page_image_path(workspace, citation.source, citation.doc_id, span, page)


def page_image_path(workspace: str, source: str, doc_id: str, span: Span, page: int) -> str:
    """The path of a PNG of PDF page ``page`` of ``source`` with ``span`` boxed."""
    query: dict[str, str | int] = {"doc": doc_id, "start": span.start, "end": span.end}
    if span.quote_hash is not None:
        query["q"] = span.quote_hash
    path = f"{PAGE_IMAGE_PREFIX}/{quote(workspace, safe='')}/{page}/{quote(source)}"
    return f"{path}?{urlencode(query)}"


def cited_pages(document: Document, span: Span) -> list[int]:
    """The PDF pages ``span`` touches (empty for documents without pages)."""
    return [n for n, a, b in document.pages if a < span.end and span.start < b]


def with_links(workspace: str, citation: Citation, data: dict[str, Any]) -> dict[str, Any]:
    """``data`` (a citation's JSON) with its ``view_url`` and, for a PDF, ``page_image_url``
    (the page where the quote starts)."""
    linked: dict[str, Any] = {**data, "view_url": view_url(workspace, citation)}
    if citation.page is not None:
        linked["page_image_url"] = page_image_url(workspace, citation, citation.page)
    return linked


def linked_record(workspace: str, record: dict[str, Any]) -> dict[str, Any]:
    """A kept answer's record (``ShownAnswer.record``) with ``with_links`` on each citation and
    closest passage."""
    from docqa.transcript import citation_of

    linked = dict(record)
    for key in ("citations", "closest"):
        linked[key] = [with_links(workspace, citation_of(c), c) for c in record.get(key, ())]
    return linked


def load_document(path: Path, source: str, doc_id: str | None, max_file_bytes: int) -> Document:
    """The document ``doc_id`` of corpus file ``path`` (``source``), extracted as ingest does.

    Raises:
        ViewError: the file no longer holds that document, or cannot be read.
    """
    try:
        found = load_file(
            CorpusFile(path=path, source=source, sha256="", size=0), max_file_bytes=max_file_bytes
        )
    except DocQAError as exc:
        raise ViewError(f"{source} cannot be shown ({exc}).") from None
    for document in found:
        if doc_id is None or document.doc_id == doc_id:
            return document
    raise ViewError(f"{source} no longer holds the document {doc_id!r}; ask again.")


def check_span(document: Document, span: Span) -> str | None:
    """Why ``span`` cannot be marked in ``document`` (None when it can).

    Raises:
        ViewError: the span is not a span of any text (negative, empty or reversed).
    """
    if not 0 <= span.start < span.end:
        raise ViewError("start and end must satisfy 0 <= start < end.")
    if span.phrase is not None and not span.start <= span.phrase[0] <= span.phrase[1] <= span.end:
        raise ViewError("The answer phrase (as, ae) must lie inside [start, end).")
    if span.end > len(document.text) or (
        span.quote_hash is not None
        and quote_hash(document.text[span.start : span.end]) != span.quote_hash
    ):
        return (
            "This document has changed since the answer was given: the quote is no longer at "
            "this place, so nothing is marked. Ask the question again for a fresh citation."
        )
    return None


def _marked(text: str, offset: int, span: Span, *, first: bool) -> str:
    """``text`` (starting at document offset ``offset``) escaped, with ``span`` marked."""
    e = html.escape
    a = min(max(span.start - offset, 0), len(text))
    b = min(max(span.end - offset, 0), len(text))
    if a >= b:
        return e(text)
    inner = e(text[a:b])
    if span.phrase is not None:
        pa = min(max(span.phrase[0] - offset, a), b)
        pb = min(max(span.phrase[1] - offset, a), b)
        if pa < pb:
            inner = (
                f"{e(text[a:pa])}<strong class='docqa-phrase'>{e(text[pa:pb])}</strong>"
                f"{e(text[pb:b])}"
            )
    anchor = ' id="cited"' if first else ""
    return f"{e(text[:a])}<mark{anchor}>{inner}</mark>{e(text[b:])}"


def render_view(document: Document, span: Span, *, image_urls: dict[int, str] | None = None) -> str:
    """The viewer page: ``document`` escaped, ``span`` marked; for a PDF, each page the span
    touches as its image (``image_urls[page]``) beside its text."""
    e = html.escape
    problem = check_span(document, span)
    pages = cited_pages(document, span) if problem is None else []
    where = f"page {', '.join(map(str, pages))}" if pages else f"chars {span.start}–{span.end}"
    head = (
        f"<header><b>{e(document.title)}</b> <span class='where'>{e(document.source)} · "
        f"{e(where)}</span></header>"
    )
    notice = f"<div class='notice'>{e(problem)}</div>" if problem else ""
    if problem is not None:
        body = f"<div class='text'>{e(document.text)}</div>"
    elif pages:
        parts = []
        for i, (number, start, end) in enumerate(p for p in document.pages if p[0] in pages):
            image = (image_urls or {}).get(number)
            img = f"<img src='{e(image)}' alt='page {number}, the quote boxed'>" if image else ""
            text = _marked(document.text[start:end], start, span, first=i == 0)
            parts.append(
                f"<h2>Page {number}</h2><div class='page'>{img}<div class='text'>{text}</div></div>"
            )
        body = "".join(parts)
    else:
        body = f"<div class='text'>{_marked(document.text, 0, span, first=True)}</div>"
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(document.title)} — docqa</title><style>{CSS}</style></head>"
        f"<body>{head}{notice}<main>{body}</main></body></html>"
    )
