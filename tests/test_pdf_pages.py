"""A PDF citation is shown as its page with exactly the quoted characters boxed.

Each PDF is written with fpdf2 and read with ``load_file``, as ingest reads it, so the document
text is pypdf's while the boxes come from pdfium. Exactness is checked from pdfium's side: the
characters whose box centre lies inside a returned box, in order, spell the quote (NFKC,
whitespace removed), with nothing missing and nothing extra.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import astuple, replace
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
from fpdf import FPDF
from fpdf.enums import XPos, YPos
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops
from pypdf import PdfReader, PdfWriter
from pypdf.generic import RectangleObject

from docqa.documents import CorpusFile, load_file
from docqa.errors import DocumentError
from docqa.models import Document
from docqa.pdf_pages import Box, PageError, page_count, quote_boxes, render_page_png
from docqa.text_alignment import align_texts

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

PAGES = (
    "The harbour authority inspects every vessel that enters the northern basin. "
    "Inspectors record the cargo, the crew and the route of each ship.",
    "Fishing boats are exempt from the cargo inspection during the summer season. "
    "Their catch is weighed at the market hall instead.",
    "Container ships must announce their arrival forty-eight hours in advance. "
    "Late announcements lead to a fine paid by the shipping company.",
)
LEFT_COLUMN = (
    "Apples grow in the valley orchards where the soil is deep and the winters are cold. "
    "Farmers prune the trees in late February before the buds open."
)
RIGHT_COLUMN = (
    "Pears ripen later than apples and keep well in cool cellars through the winter. "
    "Growers pick them while still firm and let them soften indoors."
)


def _new_pdf() -> FPDF:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    return pdf


def _ingest(pdf: FPDF, folder: Path, name: str = "doc.pdf") -> tuple[Path, Document]:
    """Write the PDF and load it the way ingest does."""
    path = folder / name
    pdf.output(str(path))
    file = CorpusFile(path=path, source=name, sha256="", size=path.stat().st_size)
    [document] = load_file(file)
    return path, document


def _span(document: Document, first: str, last: str | None = None) -> tuple[int, int]:
    """The span from the start of ``first`` to the end of ``last`` (or of ``first``)."""
    assert document.text.count(first) == 1, f"{first!r} must occur once in {document.text!r}"
    start = document.text.index(first)
    if last is None:
        return start, start + len(first)
    assert document.text.count(last) == 1, f"{last!r} must occur once in {document.text!r}"
    return start, document.text.index(last) + len(last)


def _comparable(text: str) -> str:
    text = text.replace("\x02", "-")  # pdfium's mark of a hyphen at a line end
    return "".join(c for c in unicodedata.normalize("NFKC", text) if not c.isspace())


def _chars_in_boxes(path: Path, boxes: dict[int, list[Box]]) -> str:
    """pdfium's characters whose box centre lies inside one of the boxes, page by page.

    Fractions are computed here from the page size alone, not with the module's transform:
    fpdf2's pages are upright with their media box at the origin.
    """
    found = []
    with pdfium.PdfDocument(path) as document:
        for number in sorted(boxes):
            page = document[number - 1]
            width, height = page.get_size()
            textpage = page.get_textpage()
            for index in range(textpage.count_chars()):
                left, bottom, right, top = textpage.get_charbox(index)
                if right - left <= 0 and top - bottom <= 0:
                    continue  # generated: no glyph
                x = (left + right) / 2 / width
                y = 1 - (bottom + top) / 2 / height
                if any(b.left <= x <= b.right and b.top <= y <= b.bottom for b in boxes[number]):
                    found.append(chr(pdfium_c.FPDFText_GetUnicode(textpage, index)))
    return "".join(found)


def _assert_exact(path: Path, document: Document, span: tuple[int, int]) -> dict[int, list[Box]]:
    boxes = quote_boxes(path, document, *span)
    quote = document.text[span[0] : span[1]]
    assert _comparable(_chars_in_boxes(path, boxes)) == _comparable(quote)
    for page_boxes in boxes.values():
        for box in page_boxes:
            assert 0 <= box.left < box.right <= 1 and 0 <= box.top < box.bottom <= 1, box
    return boxes


def test_a_quote_on_the_third_page_is_boxed_there_only(tmp_path: Path) -> None:
    pdf = _new_pdf()
    for text in PAGES:
        pdf.add_page()
        pdf.multi_cell(w=0, text=text)
    path, document = _ingest(pdf, tmp_path)
    span = _span(document, "Late announcements lead to a fine paid by the shipping company.")

    boxes = _assert_exact(path, document, span)

    assert list(boxes) == [3] == [document.page_at(span[0])]
    assert page_count(path) == 3


@pytest.fixture(scope="module")
def columns_then_prose(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Document]:
    """Two columns on page 1, justified prose with hyphenated words on page 2."""
    pdf = _new_pdf()
    pdf.add_page()
    _write_columns(pdf)
    pdf.add_page()
    prose = " ".join(PAGES) + " A well-known, state-of-the-art check (see Fig. 3) costs $4.50."
    pdf.multi_cell(w=120, text=prose, align="J")
    return _ingest(pdf, tmp_path_factory.mktemp("pdf"))


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_any_span_is_boxed_exactly(
    columns_then_prose: tuple[Path, Document], data: st.DataObject
) -> None:
    path, document = columns_then_prose
    start = data.draw(st.integers(0, len(document.text) - 1), label="start")
    end = data.draw(st.integers(start + 1, min(len(document.text), start + 300)), label="end")

    _assert_exact(path, document, (start, end))


def test_a_span_starting_and_ending_inside_words_boxes_only_its_letters(tmp_path: Path) -> None:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.multi_cell(w=0, text=PAGES[0])
    path, document = _ingest(pdf, tmp_path)

    _assert_exact(path, document, _span(document, "rbour authority insp"))


def _full_page() -> str:
    """About 3,000 characters of distinct sentences, enough to fill an A4 page at 10 pt."""
    places = ("the north quay", "the river mouth", "the old lighthouse", "the ferry landing")
    return " ".join(
        f"Station {n} measured a tide of {n * 7 % 97} centimetres near {places[n % 4]}."
        for n in range(1, 46)
    )


def test_a_full_page_whose_text_lost_every_space_is_still_boxed_exactly(tmp_path: Path) -> None:
    """Its words run together, and the page is far longer than the stretches aligned
    character by character: only runs of characters found once in each text can anchor it.
    """
    pdf = _new_pdf()
    pdf.set_font_size(10)
    pdf.add_page()
    pdf.multi_cell(w=0, text=_full_page())
    path, document = _ingest(pdf, tmp_path)
    squeezed = _as_other_extractor(document, re.sub(r"\s+", "", document.text))

    boxes = _assert_exact(path, squeezed, _span(squeezed, "Station31measured"))

    assert len(document.text) > 2500 and list(boxes) == [1]


def test_a_quote_crossing_a_line_break_gets_one_box_per_line(tmp_path: Path) -> None:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.multi_cell(w=70, text=PAGES[0])
    path, document = _ingest(pdf, tmp_path)
    span = _span(document, "Inspectors record the cargo, the crew and the route of each ship.")

    boxes = _assert_exact(path, document, span)

    assert len(boxes[1]) >= 2
    tops = [box.top for box in boxes[1]]
    assert tops == sorted(tops) and len(set(tops)) == len(tops)  # one per line, downwards


def test_a_word_hyphenated_across_lines_is_boxed_on_both(tmp_path: Path) -> None:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.multi_cell(
        w=0,
        text="The committee approved the extra-\nordinarily detailed budget for the year.\n"
        "Nothing else was decided.",
    )
    path, document = _ingest(pdf, tmp_path)
    span = _span(document, "approved the extra", "ordinarily detailed budget")

    boxes = _assert_exact(path, document, span)

    assert len(boxes[1]) == 2


def _write_columns(pdf: FPDF) -> None:
    top = pdf.get_y()
    for x, column in ((10, LEFT_COLUMN), (110, RIGHT_COLUMN)):
        pdf.set_xy(x, top)
        pdf.multi_cell(w=85, text=column)


def _two_columns(folder: Path) -> tuple[Path, Document]:
    pdf = _new_pdf()
    pdf.add_page()
    _write_columns(pdf)
    return _ingest(pdf, folder)


def test_a_quote_in_the_right_column_is_boxed_in_the_right_column(tmp_path: Path) -> None:
    path, document = _two_columns(tmp_path)
    span = _span(document, "Growers pick them while still firm and let them soften indoors.")

    boxes = _assert_exact(path, document, span)

    assert all(box.left > 0.5 for box in boxes[1])


def _as_other_extractor(document: Document, text: str) -> Document:
    """The one-page ``document`` as another PDF extractor might have given it."""
    return replace(document, text=text, pages=((1, 0, len(text)),))


def _columns_swapped(text: str) -> str:
    right = text.index("Pears ripen")
    return text[right:] + "\n" + text[:right].rstrip()


@pytest.mark.parametrize(
    ("transform", "quote"),
    [
        pytest.param(_columns_swapped, "Farmers prune the trees", id="columns in the other order"),
        pytest.param(lambda text: text.replace("\n", " "), "the soil is deep", id="no line breaks"),
        pytest.param(lambda text: re.sub(r"\s+", "", text), "Growerspickthem", id="no spaces"),
        pytest.param(lambda text: text.replace(" ", "  "), "well  in  cool", id="spaces doubled"),
        pytest.param(lambda text: text.replace("soil is", "soil"), "soil deep", id="word left out"),
    ],
)
def test_another_extractors_text_of_the_page_is_boxed_exactly(
    tmp_path: Path, transform: Callable[[str], str], quote: str
) -> None:
    path, document = _two_columns(tmp_path)
    other = _as_other_extractor(document, transform(document.text))

    _assert_exact(path, other, _span(other, quote))


@pytest.mark.parametrize(
    ("written", "old", "new", "quote", "lines"),
    [
        (
            "The committee approved the extra-\nordinarily detailed budget.",
            "extra- ordinarily",
            "extraordinarily",
            "approved the extraordinarily detailed",
            2,
        ),
        (PAGES[0], "the cargo, the crew", "the cargo the crew", "cargo the crew", 2),
    ],
    ids=["hyphen", "comma"],
)
def test_characters_the_text_left_out_are_not_boxed(
    tmp_path: Path, written: str, old: str, new: str, quote: str, lines: int
) -> None:
    """A hyphen or comma on the page that the document's text lacks stays outside the boxes."""
    pdf = _new_pdf()
    pdf.add_page()
    pdf.multi_cell(w=0, text=written)
    path, document = _ingest(pdf, tmp_path)
    other = _as_other_extractor(document, document.text.replace(old, new))

    boxes = _assert_exact(path, other, _span(other, quote))

    assert len(boxes[1]) == lines


ENTRIES = (
    ("int alpha_open (int flags)", "Opens the alpha channel and returns its handle."),
    ("int beta_close (int handle)", "Closes a channel that alpha_open returned."),
    ("void gamma_reset (void)", "Resets every channel to its initial state."),
)


def _reference_page(folder: Path) -> tuple[Path, Document]:
    """A manual's page: each signature with a "[Function]" label at the right margin."""
    pdf = _new_pdf()
    pdf.add_page()
    for signature, description in ENTRIES:
        pdf.cell(w=150, text=signature)
        pdf.cell(w=0, text="[Function]", align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.cell(w=0, text=description, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return _ingest(pdf, folder)


def test_a_line_with_a_label_at_the_margin_gets_a_box_for_each_part(tmp_path: Path) -> None:
    path, document = _reference_page(tmp_path)

    boxes = _assert_exact(path, document, _span(document, "int beta_close (int handle) [Function]"))

    assert len(boxes[1]) == 2  # "_" hangs below the line yet stays in the signature's box


def test_a_recurring_label_that_the_text_puts_first_is_boxed_on_its_own_line(
    tmp_path: Path,
) -> None:
    """The label recurs, so it anchors nothing; it is found where pdfium has it, near its line."""
    path, document = _reference_page(tmp_path)
    moved = document.text
    for signature, _ in ENTRIES:
        moved = moved.replace(f"{signature} [Function]", f"[Function] {signature}")
    other = _as_other_extractor(document, moved)
    span = _span(other, "[Function] int beta_close (int handle)")

    boxes = quote_boxes(path, other, *span)[1]

    in_boxes = _chars_in_boxes(path, {1: boxes})
    assert sorted(_comparable(in_boxes)) == sorted(_comparable(other.text[span[0] : span[1]]))
    assert len(boxes) == 2 and boxes[0].top == pytest.approx(boxes[1].top, abs=0.005)


def test_columns_written_line_by_line_across_the_page(tmp_path: Path) -> None:
    """Each row holds a line of both columns, so the content order interleaves them."""
    left = LEFT_COLUMN.split(". ")
    right = RIGHT_COLUMN.split(". ")
    pdf = _new_pdf()
    pdf.add_page()
    for row, (one, two) in enumerate(zip(left, right, strict=True)):
        pdf.set_xy(10, 20 + row * 30)
        pdf.multi_cell(w=85, text=one)
        pdf.set_xy(110, 20 + row * 30)
        pdf.multi_cell(w=85, text=two)
    path, document = _ingest(pdf, tmp_path)
    span = _span(document, "Growers pick them while still firm")

    boxes = _assert_exact(path, document, span)

    assert all(box.left > 0.5 for box in boxes[1])


@pytest.mark.skipif(not DEJAVU.is_file(), reason=f"needs the font {DEJAVU} for its ligatures")
def test_ligatures_are_boxed_as_the_letters_they_stand_for(tmp_path: Path) -> None:
    pdf = FPDF()
    pdf.add_font("DejaVu", fname=str(DEJAVU))
    pdf.set_font("DejaVu", size=12)
    pdf.add_page()
    pdf.multi_cell(
        w=0, text="The \ufb01rst of\ufb02ine copy is e\ufb03cient. A second sentence follows."
    )
    path, document = _ingest(pdf, tmp_path)
    start = document.text.index("The")
    end = document.text.index("cient.") + len("cient.")

    boxes = _assert_exact(path, document, (start, end))

    assert list(boxes) == [1] and len(boxes[1]) == 1


def test_a_quote_crossing_a_page_break_is_boxed_on_both_pages(tmp_path: Path) -> None:
    pdf = _new_pdf()
    for text in PAGES[:2]:
        pdf.add_page()
        pdf.multi_cell(w=0, text=text)
    path, document = _ingest(pdf, tmp_path)
    span = _span(document, "the route of each ship.", "Fishing boats are exempt")

    boxes = _assert_exact(path, document, span)

    assert sorted(boxes) == [1, 2]


def test_whitespace_and_the_break_between_pages_have_no_boxes(tmp_path: Path) -> None:
    pdf = _new_pdf()
    for text in PAGES[:2]:
        pdf.add_page()
        pdf.multi_cell(w=0, text=text)
    path, document = _ingest(pdf, tmp_path)
    space = document.text.index(" ")
    end_of_first = document.pages[0][2]

    assert quote_boxes(path.read_bytes(), document, space, space + 1) == {}
    assert quote_boxes(path, document, end_of_first, end_of_first + 2) == {}


def test_boxes_follow_the_rotation_and_crop_box_of_the_page(tmp_path: Path) -> None:
    """Boxes are fractions of the page as displayed: after its /Rotate and inside its crop box.

    pdfium also reads the turned page's lines bottom to top, against the document's order.
    """
    pdf = _new_pdf()
    pdf.add_page()
    pdf.multi_cell(w=70, text=PAGES[0])
    plain_path, document = _ingest(pdf, tmp_path, "plain.pdf")
    crop = (20.0, 400.0, 400.0, 830.0)
    writer = PdfWriter(clone_from=PdfReader(plain_path))
    writer.pages[0].cropbox = RectangleObject(crop)
    writer.pages[0].rotate(90)
    turned_path = tmp_path / "turned.pdf"
    writer.write(turned_path)
    span = _span(document, "every vessel that enters the northern basin")

    plain = _assert_exact(plain_path, document, span)[1]
    turned = quote_boxes(turned_path, document, *span)[1]

    width, height = pdfium.PdfDocument(plain_path)[0].get_size()
    expected = [_turned(box, width, height, crop) for box in plain]
    assert len(turned) == len(expected) >= 2
    for got, want in zip(turned, expected, strict=True):
        assert astuple(got) == pytest.approx(astuple(want), abs=1e-4)


def _turned(box: Box, width: float, height: float, crop: tuple[float, ...]) -> Box:
    """``box`` of the uncropped upright page, on the page cropped to ``crop`` and turned 90
    degrees clockwise, where a point at (u, v) of the cropped page goes to (1 - v, u).
    """
    left, bottom, right, top = crop

    def u(fraction: float) -> float:
        return (fraction * width - left) / (right - left)

    def v(fraction: float) -> float:
        return (top - (1 - fraction) * height) / (top - bottom)

    return Box(left=1 - v(box.bottom), top=u(box.left), right=1 - v(box.top), bottom=u(box.right))


def test_the_rendered_page_changes_inside_the_boxes_only(tmp_path: Path) -> None:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.multi_cell(w=0, text=PAGES[0])
    path, document = _ingest(pdf, tmp_path)
    [box] = quote_boxes(path, document, *_span(document, "every vessel"))[1]

    plain = Image.open(io.BytesIO(render_page_png(path, 1, [], scale=2)))
    marked = Image.open(io.BytesIO(render_page_png(path.read_bytes(), 1, [box], scale=2)))

    assert plain.format == marked.format == "PNG" and plain.size == marked.size
    left, top, right, bottom = box.to_pixels(*plain.size)
    margin = 4  # the 3 px outline ends 1 px outside the box
    changed = _channel_max(ImageChops.difference(plain.convert("RGB"), marked.convert("RGB")))
    low = changed.crop((left, top, right, bottom)).getextrema()[0]
    assert isinstance(low, int) and low > 0  # every pixel inside the box changed
    changed.paste(0, (left - margin, top - margin, right + margin, bottom + margin))
    assert changed.getbbox() is None  # and none outside the box and its outline


def _channel_max(image: Image.Image) -> Image.Image:
    """The largest of the red, green and blue values of each pixel, as a grey image."""
    red, green, blue = image.split()
    return ImageChops.lighter(ImageChops.lighter(red, green), blue)


def test_a_page_the_pdf_lacks_is_refused_with_its_range(tmp_path: Path) -> None:
    pdf = _new_pdf()
    pdf.add_page()
    pdf.multi_cell(w=0, text=PAGES[0])
    path, document = _ingest(pdf, tmp_path)

    for number in (0, 2):
        with pytest.raises(PageError, match="pages 1 to 1"):
            render_page_png(path, number, [])
    with pytest.raises(PageError, match="not inside"):
        quote_boxes(path, document, 0, len(document.text) + 1)
    text_only = Document("a.txt", "a", "a.txt", "plain text")
    with pytest.raises(PageError, match="no pages"):
        quote_boxes(path, text_only, 0, 5)
    with pytest.raises(DocumentError, match="cannot open the PDF"):
        page_count(b"not a pdf")


def test_alignment_survives_hyphens_spaces_ligatures_and_swapped_columns() -> None:
    ours = "hyphen- ated of\ufb01ce. Left side words here. Right side words there."
    theirs = "hyphen\x02ated office.\r\nRight side words there.\r\nLeft side words here."

    carriers = align_texts(ours, theirs)

    def carried(word: str) -> str:
        start = ours.index(word)
        return "".join(theirs[i] for found in carriers[start : start + len(word)] for i in found)

    assert carried("hyphen- ated") == "hyphen\x02ated"
    assert carried("of\ufb01ce") == "office"
    assert carried("Left side words here.") == "Leftsidewordshere."
    assert carried("Right side words there.") == "Rightsidewordsthere."
    assert carriers[ours.index(" ")] == ()


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        pytest.param("Then the mouse slept", "A dog ran to the barn", id="different words"),
        pytest.param("t", "[Function]", id="a letter against a label"),
    ],
)
def test_alignment_leaves_text_the_other_lacks_unpaired(ours: str, theirs: str) -> None:
    """Between the same two anchors, different text shares only chance letters, which are
    left unpaired rather than boxed in the wrong place.
    """
    opening, closing = "The opening sentence stays. ", " The closing sentence stays."

    carriers = align_texts(opening + ours + closing, opening + theirs + closing)

    assert carriers[len(opening) : len(opening) + len(ours)] == [()] * len(ours)
    assert carriers[opening.index("opening")] == (opening.index("opening"),)
