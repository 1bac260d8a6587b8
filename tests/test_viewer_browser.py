"""The document viewer in a real headless Chromium: a citation's link opens the whole document
scrolled to the quote, marked; a PDF citation shows its page with the quote's characters boxed.

One server over a NATO copy and a three-page PDF (``varnholm-survey.pdf``) whose page 2 holds
the sentence that answers the lighthouse question.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF
from PIL import Image, ImageChops
from playwright.sync_api import Browser, Locator, Page, expect

from test_ui_api import copy_nato, running_app
from test_ui_browser import ARTIFACTS, TIMEOUT, ask, browser, open_page, shot

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared

pytestmark = pytest.mark.slow

PDF_NAME = "varnholm-survey.pdf"
PDF_PAGES = (
    ("The Varnholm survey began in the spring with a census of the coastal villages. " * 4,),
    (
        "Ferries to the island leave the mainland harbour twice a day in summer.",
        "The lighthouse on Varnholm island is kept by Petra Lindqvist.",
        "She has tended its lamp since 1994, and visitors may climb the tower on Sundays when "
        "the weather allows.",
    ),
    ("The survey's last chapter lists the seabird colonies on the western cliffs. " * 4,),
)
PDF_QUOTE = "The lighthouse on Varnholm island is kept by Petra Lindqvist."
PDF_QUESTION = "Who keeps the lighthouse on Varnholm island?"
# Its answer is in the NATO report's last paragraph, so the viewer must scroll down to it.
NATO_QUESTION = "What is the special emphasis of the commitment by both parties?"
NATO_QUOTE_START = "This dialogue represents a commitment by both parties"

# The colour of the outline that pdf_pages.render_page_png draws around each quoted line.
OUTLINE = (220, 20, 60)


def write_pdf(path: Path) -> Path:
    """Several pages of paragraphs written with a core font, one paragraph per multi_cell."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for paragraphs in PDF_PAGES:
        pdf.add_page()
        for paragraph in paragraphs:
            pdf.multi_cell(0, 8, paragraph)
            pdf.ln(4)
    pdf.output(str(path))
    return path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    corpus, index = copy_nato(tmp_path_factory.mktemp("ui-viewer"))
    pdf = write_pdf(corpus / PDF_NAME)
    with running_app(corpus, index) as url:
        yield {"url": url, "pdf": pdf}


@pytest.fixture
def page(browser: Browser, served: dict[str, Any]) -> Iterator[Page]:
    with open_page(browser, served["url"]) as opened:
        yield opened


def answered(page: Page, question: str) -> Locator:
    """Ask ``question``, wait until its answer is final (its ``[1]`` a link to the viewer);
    return the answer's chat message."""
    ask(page, question)
    bot = page.locator("#docqa-chat .message.bot").last
    expect(bot.locator("a[href*='/view/']").first).to_be_visible()
    expect(page.locator(".generating, .pending")).to_have_count(0)
    expect(page.locator("#docqa-sources a.docqa-view").first).to_be_visible()
    return bot


def first_card(page: Page) -> Locator:
    """The source card of citation [1]."""
    cards = page.locator("#docqa-sources .docqa-source")
    return cards.filter(has=page.locator("a.docqa-view", has_text="[1]"))


def card_quote(page: Page) -> tuple[str, str]:
    """Citation [1]'s quote exactly as the sources panel shows it (the text inside its mark),
    and where the card says it is ("file · chars a–b" or "file · page n")."""
    card = first_card(page)
    quote = card.locator("mark").text_content()
    assert quote, "the sources panel shows no quote for [1]"
    return quote, card.locator(".docqa-loc").inner_text()


def open_in_new_tab(page: Page, link: Locator) -> Page:
    """Click ``link`` and return the tab it opens, loaded."""
    with page.context.expect_page() as opened:
        link.click()
    viewer = opened.value
    viewer.set_default_timeout(TIMEOUT)
    viewer.wait_for_load_state("load")
    return viewer


def check_marked(viewer: Page, quote: str, where: str) -> None:
    """The viewer says where the quote is as the card did, marks exactly ``quote`` (once) and
    shows it whole in the window."""
    expect(viewer).to_have_url(re.compile(r"/view/default/[^?]+\?.*#cited$"))
    expect(viewer.locator("header .where")).to_have_text(where)
    mark = viewer.locator("mark#cited")
    expect(mark).to_have_count(1)
    assert mark.text_content() == quote
    expect(mark).to_be_in_viewport(ratio=1)


def check_marked_further_down(viewer: Page, quote: str, where: str) -> dict[str, float]:
    """``check_marked``, for a quote far from the top of the document, which the #cited
    fragment scrolled to (nothing else scrolls the page); returns where the mark lies."""
    check_marked(viewer, quote, where)
    placed: dict[str, float] = viewer.evaluate(
        "() => { const m = document.getElementById('cited');"
        " return {scroll: window.scrollY, height: window.innerHeight,"
        " top: m.getBoundingClientRect().top + window.scrollY}; }"
    )
    assert placed["top"] > placed["height"] * 0.6, placed
    assert placed["scroll"] > 0, placed
    return placed


def test_chat_marker_opens_the_document_at_the_quote(page: Page) -> None:
    bot = answered(page, NATO_QUESTION)
    quote, where = card_quote(page)
    assert quote.startswith(NATO_QUOTE_START)
    assert where.startswith("nato-iraq-political-dialogue.txt · chars ")
    marker = bot.locator("a", has_text="[1]").first
    expect(marker).to_have_attribute("target", "_blank")  # Gradio's markdown opens a new tab
    viewer = open_in_new_tab(page, marker)
    check_marked_further_down(viewer, quote, where)
    # A full-page picture with the sticky header at the top, where a reader first sees it.
    viewer.evaluate("window.scrollTo(0, 0)")
    shot(viewer, "v-1-viewer")


def test_source_number_opens_the_document_at_the_quote(page: Page) -> None:
    answered(page, NATO_QUESTION)
    quote, where = card_quote(page)
    number = first_card(page).locator("a.docqa-view")
    expect(number).to_have_attribute("target", "_blank")
    viewer = open_in_new_tab(page, number)
    check_marked_further_down(viewer, quote, where)
    # In a smaller window the quote starts below the first screen, and is still shown on load.
    small = page.context.new_page()
    small.set_viewport_size({"width": 1024, "height": 600})
    small.goto(viewer.url)
    placed = check_marked_further_down(small, quote, where)
    assert placed["top"] > placed["height"], placed


def outline_pixels(png: bytes) -> tuple[int, tuple[int, int, int, int] | None, Image.Image]:
    """How many pixels have the outline's colour, and their bounding box (None when none)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    bands = [
        band.point(lambda v, want=want: 255 if v == want else 0)
        for band, want in zip(image.split(), OUTLINE, strict=True)
    ]
    mask = ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])
    return mask.histogram()[255], mask.getbbox(), image


Pixels = tuple[float, float, float, float]


def phrase_rect(pdf: Path, page_number: int, phrase: str, size: tuple[int, int]) -> Pixels:
    """Where ``phrase`` lies on the page, in pixels of an image of ``size``, found by pdfium's
    own text search (independent of docqa's alignment)."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[page_number - 1]
        width, height = page.get_size()
        textpage = page.get_textpage()
        searcher = textpage.search(phrase)
        found = searcher.get_next()
        assert found is not None, f"{phrase!r} is not on page {page_number}"
        first, count = found
        boxes = [textpage.get_charbox(i) for i in range(first, first + count)]
    finally:
        document.close()
    sx, sy = size[0] / width, size[1] / height
    left = min(b[0] for b in boxes) * sx
    right = max(b[2] for b in boxes) * sx
    top = (height - max(b[3] for b in boxes)) * sy
    bottom = (height - min(b[1] for b in boxes)) * sy
    return left, top, right, bottom


def with_span_shifted(url: str) -> str:
    """``url`` with its span moved one character on: it no longer holds the quote's hash."""
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["start"] = str(int(query["start"]) + 1)
    return urlunsplit(parts._replace(query=urlencode(query)))


def test_pdf_citation_shows_its_page_with_the_quote_boxed(
    page: Page, served: dict[str, Any]
) -> None:
    answered(page, PDF_QUESTION)
    quote, where = card_quote(page)
    assert quote == PDF_QUOTE
    assert where == f"{PDF_NAME} · page 2"
    phrase = first_card(page).locator("mark strong.docqa-phrase").text_content()
    viewer = open_in_new_tab(page, first_card(page).locator("a.docqa-view"))
    check_marked(viewer, quote, where)
    expect(viewer.locator("main h2")).to_have_text(["Page 2"])  # only the cited page
    # The answer phrase is marked inside the quote, as in the sources panel.
    assert phrase and viewer.locator("mark#cited strong.docqa-phrase").text_content() == phrase
    image = viewer.locator("main .page img")
    expect(image).to_have_count(1)
    expect(image).to_be_visible()
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    source = image.get_attribute("src")
    assert source and source.startswith("/view-page/default/2/")

    server = served["url"].rstrip("/")
    cited = viewer.request.get(server + source)
    assert cited.ok and cited.headers["content-type"] == "image/png"
    count, bbox, png = outline_pixels(cited.body())
    assert png.size[0] == image.evaluate("img => img.naturalWidth")
    # One line of text outlined 3 px wide: a rectangle of some hundreds of pixels by ~20.
    assert count > 500, count
    assert bbox is not None
    # The outline surrounds the quote where pdfium itself finds it on page 2.
    left, top, right, bottom = phrase_rect(served["pdf"], 2, PDF_QUOTE, png.size)
    assert bbox[0] <= left and bbox[1] <= top and bbox[2] >= right and bbox[3] >= bottom, (
        bbox,
        (left, top, right, bottom),
    )
    assert bbox[3] - bbox[1] < 3 * (bottom - top) + 20, "more than one line is boxed"

    unboxed = viewer.request.get(server + with_span_shifted(source))
    assert unboxed.ok and unboxed.headers["content-type"] == "image/png"
    none, _, plain = outline_pixels(unboxed.body())
    assert none == 0
    assert plain.size == png.size
    shot(viewer, "v-2-pdf-page")

    # The picture of the viewer for README.md (test-artifacts/ui/viewer-readme.png), at a
    # laptop's window size.
    viewer.set_viewport_size({"width": 1280, "height": 800})
    viewer.reload()
    expect(viewer.locator("mark#cited")).to_be_in_viewport()
    expect(image).to_have_js_property("complete", True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / "viewer-readme.png"
    viewer.screenshot(path=str(target), full_page=False)
    assert target.stat().st_size > 20_000
