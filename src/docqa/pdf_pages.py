"""Show a PDF citation as the page it came from, with the quoted characters boxed.

A citation is a span of ``Document.text``, which pypdf extracted; the position of each character
on the page comes from pdfium, which extracts the same page differently: other line breaks and
spaces, a hyphen at a line end marked as ``\\x02``, ligatures split or kept, sometimes another
order of columns. So the page's docqa text is aligned with pdfium's characters (``align_texts``
in ``text_alignment.py``) and the quote's characters are found through that alignment, never by
searching the quote, which may occur more than once on a page.

Boxes are fractions of the page from its top-left corner, so that any rendering scale can use
them (``render_page_png`` draws them). This module needs the ``web`` extra (pypdfium2, pillow).
"""

from __future__ import annotations

import ctypes
import io
import math
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from docqa.errors import DocQAError, DocumentError
from docqa.models import Document
from docqa.text_alignment import carried, fold_char

try:
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c
    from PIL import Image, ImageDraw
except ImportError as exc:  # pragma: no cover - only without the extra
    raise ImportError(
        "showing PDF pages needs pypdfium2 and pillow; install them with `pip install 'docqa[web]'`"
    ) from exc

PdfSource = bytes | Path
"""A PDF as its bytes or the path of its file."""

# pdfium is not thread-safe and pypdfium2 adds no lock; the web UI serves several people at once.
_PDFIUM_LOCK = threading.Lock()

# A box's coordinates go through pdfium's own page-to-device transform (the one rendering uses),
# which honours the crop box and /Rotate; this virtual device size gives fractions to 1e-6.
_DEVICE = 1 << 20

_OUTLINE = (220, 20, 60, 255)
_FILL = (255, 214, 0, 90)
_OUTLINE_PX = 3


class PageError(DocQAError, ValueError):
    """A page or span that the PDF or document does not have (also a ``ValueError``)."""


@dataclass(frozen=True)
class Box:
    """A rectangle on a page, in fractions (0 to 1) of its width and height from the top-left.

    Fractions rather than points, so that the page can be drawn at any scale: multiply by the
    image's width and height (``to_pixels``).
    """

    left: float
    top: float
    right: float
    bottom: float

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` in pixels of an image of the whole page."""
        # Outward rounding: the pixels drawn cover the whole of every glyph in the box.
        return (
            math.floor(self.left * width),
            math.floor(self.top * height),
            math.ceil(self.right * width),
            math.ceil(self.bottom * height),
        )


@contextmanager
def _open_pdf(pdf: PdfSource) -> Iterator[pdfium.PdfDocument]:
    """Open a PDF under the pdfium lock; an unreadable file is a ``DocumentError``."""
    with _PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(pdf)
        except (pdfium.PdfiumError, OSError) as exc:
            raise DocumentError(
                f"cannot open the PDF ({exc}); check that the file exists and is the one that "
                "was ingested"
            ) from exc
        try:
            yield document
        finally:
            document.close()


def _page(document: pdfium.PdfDocument, number: int, fix: str) -> pdfium.PdfPage:
    count = len(document)
    if not 1 <= number <= count:
        raise PageError(f"page {number} does not exist: the PDF has pages 1 to {count}; {fix}")
    return document[number - 1]


def page_count(pdf: PdfSource) -> int:
    """How many pages the PDF has (page numbers run from 1 to this)."""
    with _open_pdf(pdf) as document:
        return len(document)


def quote_boxes(pdf: PdfSource, document: Document, start: int, end: int) -> dict[int, list[Box]]:
    """The boxes around the characters of ``document.text[start:end]``, by page number.

    ``pdf`` is the file ``document`` was extracted from; page numbers are those of
    ``document.pages``. Each box covers the characters of the quote on one line, so a quote
    over three lines has three boxes, and one crossing a page break has boxes on two pages. A
    page appears only when at least one of the quote's characters was found on it (whitespace
    has no box); show ``document.page_at(start)`` unboxed if the result is empty.

    Raises:
        PageError: If the span is not inside the text, or the document has no pages (not a PDF),
            or names a page the PDF lacks (the file changed since ingest: ingest it again).
        DocumentError: If the PDF cannot be opened.
    """
    if not 0 <= start <= end <= len(document.text):
        raise PageError(
            f"span ({start}, {end}) is not inside the document's text of {len(document.text)} "
            "characters; pass a citation's start and end for this document"
        )
    if not document.pages:
        raise PageError(
            f"document {document.doc_id!r} has no pages; only a PDF's citations can be boxed"
        )
    result: dict[int, list[Box]] = {}
    with _open_pdf(pdf) as opened:
        for number, page_start, page_end in document.pages:
            low, high = max(start, page_start), min(end, page_end)
            if low >= high:
                continue
            page = _page(opened, number, "the file changed since ingest: ingest it again")
            page_text = document.text[page_start:page_end]
            boxes = _boxes_on_page(page, page_text, low - page_start, high - page_start)
            if boxes:
                result[number] = boxes
    return result


def _boxes_on_page(page: pdfium.PdfPage, page_text: str, start: int, end: int) -> list[Box]:
    textpage = page.get_textpage()
    theirs = _pdfium_chars(textpage)
    indices: list[int] = []
    for _, index in carried(page_text, theirs, start, end):
        if not indices or index != indices[-1]:  # a ligature carries two of our characters
            indices.append(index)
    lines = _line_rects(textpage, theirs, indices)
    return [_to_box(page, rect) for rect in lines]


def _pdfium_chars(textpage: pdfium.PdfTextPage) -> str:
    """The page's characters, one per pdfium character index, so that index ``i`` of the
    string is the character whose box is ``get_charbox(i)``.

    Not ``get_text_range()``: its text index may differ from the character index where pdfium
    leaves characters out or adds some, and it rewrites the line-end hyphen. A character without
    a Unicode value becomes a space, which aligns with nothing.
    """
    chars = []
    for index in range(textpage.count_chars()):
        code = pdfium_c.FPDFText_GetUnicode(textpage, index)
        valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
        chars.append(chr(code) if valid else " ")
    return "".join(chars)


Rect = tuple[float, float, float, float]
"""``(left, bottom, right, top)`` in PDF page coordinates (points, y upwards)."""


def _line_rects(textpage: pdfium.PdfTextPage, chars: str, indices: list[int]) -> list[Rect]:
    """Merge the glyph boxes of the characters ``indices`` (in quote order) into one per line.

    A new rectangle starts where the next character is not the next visible one in pdfium's
    order (so no rectangle covers a character outside the quote), or is not on the same line.
    """
    rects: list[Rect] = []
    previous: tuple[int, Rect] | None = None
    for index in indices:
        glyph = _char_rect(textpage, index, loose=False)
        if glyph is None:
            continue
        # The font's box, not the glyph's, decides the line: "_" and "x" share a line but
        # not a glyph height.
        font_box = _char_rect(textpage, index, loose=True) or glyph
        if (
            previous is not None
            and index in (previous[0], _next_visible(chars, previous[0]))
            and _same_line(previous[1], font_box)
        ):
            left, bottom, right, top = rects[-1]
            rects[-1] = (
                min(left, glyph[0]),
                min(bottom, glyph[1]),
                max(right, glyph[2]),
                max(top, glyph[3]),
            )
        else:
            rects.append(glyph)
        previous = (index, font_box)
    return rects


def _next_visible(chars: str, index: int) -> int:
    following = index + 1
    while following < len(chars) and not fold_char(chars[following]):
        following += 1
    return following


def _char_rect(textpage: pdfium.PdfTextPage, index: int, *, loose: bool) -> Rect | None:
    """The glyph's box, or with ``loose`` the font's; None for one with no area (a generated
    character) or none at all.
    """
    try:
        left, bottom, right, top = textpage.get_charbox(index, loose=loose)
    except pdfium.PdfiumError:
        return None
    if right - left <= 0 and top - bottom <= 0:
        return None
    return (left, bottom, right, top)


def _same_line(previous: Rect, rect: Rect) -> bool:
    """Whether the font box ``rect`` follows ``previous`` on its line: it shares most of the
    height, does not go back to the left (a ligature's parts share one box, hence the
    tolerance), and is not a column gap away.
    """
    heights = (previous[3] - previous[1], rect[3] - rect[1])
    overlap = min(previous[3], rect[3]) - max(previous[1], rect[1])
    shares_height = overlap >= 0.5 * max(min(heights), 1e-6)
    goes_right = rect[0] >= previous[0] - 0.5 * max(heights)
    near = rect[0] - previous[2] <= 2 * max(heights)
    return shares_height and goes_right and near


def _to_box(page: pdfium.PdfPage, rect: Rect) -> Box:
    """Page coordinates to fractions of the displayed page, through pdfium's own transform."""
    corners = [_to_device(page, x, y) for x in (rect[0], rect[2]) for y in (rect[1], rect[3])]
    xs = [x for x, _ in corners]
    ys = [y for _, y in corners]
    return Box(
        left=_clamp(min(xs)), top=_clamp(min(ys)), right=_clamp(max(xs)), bottom=_clamp(max(ys))
    )


def _to_device(page: pdfium.PdfPage, x: float, y: float) -> tuple[float, float]:
    device_x, device_y = ctypes.c_int(), ctypes.c_int()
    pdfium_c.FPDF_PageToDevice(
        page, 0, 0, _DEVICE, _DEVICE, 0, x, y, ctypes.byref(device_x), ctypes.byref(device_y)
    )
    return device_x.value / _DEVICE, device_y.value / _DEVICE


def _clamp(fraction: float) -> float:
    return min(max(fraction, 0.0), 1.0)


def render_page_png(
    pdf: PdfSource, page_number: int, boxes: Sequence[Box], *, scale: float = 1.5
) -> bytes:
    """The page drawn as a PNG, each box outlined and lightly filled so the quote stands out.

    ``scale`` is pixels per point (1.5 gives 108 dpi). The outline lies just outside each box,
    so it never covers the quoted glyphs; the translucent fill keeps them readable.

    Raises:
        PageError: If the PDF has no page ``page_number`` or ``scale`` is not positive.
        DocumentError: If the PDF cannot be opened.
    """
    if not scale > 0:
        raise PageError(f"scale must be positive (got {scale}); 1.5 suits a screen")
    with _open_pdf(pdf) as document:
        page = _page(document, page_number, "pass a page number in that range")
        image = page.render(scale=scale).to_pil().convert("RGBA")
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box in boxes:
        left, top, right, bottom = box.to_pixels(*image.size)
        draw.rectangle((left, top, right, bottom), fill=_FILL)
        margin = _OUTLINE_PX  # the outline lies just outside the box
        draw.rectangle(
            (left - margin, top - margin, right + margin, bottom + margin),
            outline=_OUTLINE,
            width=_OUTLINE_PX,
        )
    composed = Image.alpha_composite(image, overlay).convert("RGB")
    buffer = io.BytesIO()
    composed.save(buffer, format="PNG")
    return buffer.getvalue()
