"""The document viewer's routes: a document with a citation marked, and a PDF page's image.

    GET /view/{ws}/{source}?doc=&start=&end=&as=&ae=&q=      -> HTML, the span in <mark id="cited">
    GET /view-page/{ws}/{page}/{source}?doc=&start=&end=&q=  -> PNG, the quote's characters boxed

Every citation's JSON carries these paths (``view_url``, ``page_image_url``). Reading a document
is what asking needs: the reader role in the workspace, else 404 exactly as for an unknown
workspace; nothing outside the workspace's corpus folder can be named. A browser signed in to
the page is signed in here too (these routes only read).
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Query, Response
from fastapi.responses import HTMLResponse

from docqa.document_view import (
    PAGE_IMAGE_PREFIX,
    VIEW_PREFIX,
    Span,
    check_span,
    cited_pages,
    page_image_path,
    render_view,
)
from docqa.service import LibraryService
from docqa.web.api_auth import answering, page_or_api_caller

# A view is built from a file that may change: never served from a cache.
_NO_STORE = {"Cache-Control": "no-store"}


def register(app: FastAPI, service: LibraryService) -> None:
    """Add the viewer's routes to ``app``."""
    signed_in = Depends(page_or_api_caller(service, app))

    @app.get(
        VIEW_PREFIX + "/{workspace}/{source:path}", tags=["docqa"], response_class=HTMLResponse
    )
    def view_document(
        workspace: str,
        source: str,
        start: int,
        end: int,
        doc: str | None = None,
        q: str | None = Query(None, max_length=64, description="The quote's hash."),  # noqa: B008
        answer_start: int | None = Query(None, alias="as"),  # noqa: B008
        answer_end: int | None = Query(None, alias="ae"),  # noqa: B008
        who: str | None = signed_in,
    ) -> HTMLResponse:
        """The whole document, escaped, with the cited span marked (and the answer phrase in
        it); a PDF page by page, each cited page's image beside its text."""
        phrase = None
        if answer_start is not None and answer_end is not None:
            phrase = (answer_start, answer_end)
        span = Span(start, end, phrase, q)
        with answering():
            document, _ = service.document_view(who, workspace, source, doc, span)
            images: dict[int, str] = {}
            if check_span(document, span) is None:
                for page in cited_pages(document, span):
                    images[page] = page_image_path(workspace, source, document.doc_id, span, page)
        return HTMLResponse(render_view(document, span, image_urls=images), headers=_NO_STORE)

    @app.get(PAGE_IMAGE_PREFIX + "/{workspace}/{page}/{source:path}", tags=["docqa"])
    def view_pdf_page(
        workspace: str,
        page: int,
        source: str,
        start: int,
        end: int,
        doc: str | None = None,
        q: str | None = Query(None, max_length=64),  # noqa: B008
        who: str | None = signed_in,
    ) -> Response:
        """PDF page ``page`` as a PNG, the span's characters boxed (none when the file has
        changed since the citation)."""
        from docqa.pdf_pages import quote_boxes, render_page_png

        span = Span(start, end, None, q)
        with answering():
            document, path = service.document_view(who, workspace, source, doc, span)
            boxes: list[Any] = []
            if check_span(document, span) is None:
                boxes = quote_boxes(path, document, span.start, span.end).get(page, [])
            png = render_page_png(path, page, boxes)
        return Response(png, media_type="image/png", headers=_NO_STORE)
