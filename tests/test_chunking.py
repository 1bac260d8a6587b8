"""Tests of sentence splitting and chunking (fast, no model)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from docqa.chunking import (
    MAX_SENTENCE_CHARS,
    chunk_document,
    chunk_id_for,
    split_sentences,
)
from docqa.errors import ConfigurationError
from docqa.models import Chunk, Document, Span

CLAPNQ_DOCS = Path(__file__).resolve().parents[1] / "eval/data/clapnq/docs.jsonl"
NATO_REPORT = Path(__file__).resolve().parents[1] / "corpus" / "nato-iraq-political-dialogue.txt"


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def make_doc(text: str, pages: tuple[tuple[int, int, int], ...] = ()) -> Document:
    return Document(doc_id="doc.txt", title="Doc", source="doc.txt", text=text, pages=pages)


# --- sentence splitting -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mr. al-Araji reaffirmed the partnership. It was welcomed.",
            ["Mr. al-Araji reaffirmed the partnership.", "It was welcomed."],
        ),
        (
            "He met the U.S. Army. Then Dr. Smith arrived.",
            ["He met the U.S. Army.", "Then Dr. Smith arrived."],
        ),
        (
            "Mrs. Jones and Prof. Lee met Gen. Patton on Jan. 5. They talked.",
            ["Mrs. Jones and Prof. Lee met Gen. Patton on Jan. 5.", "They talked."],
        ),
        (
            "Acme Inc. Sales rose, e.g. Mostly. It grew.",
            ["Acme Inc. Sales rose, e.g. Mostly.", "It grew."],
        ),
        (
            "J. R. R. Tolkien wrote it. X. 509 is a standard.",
            ["J. R. R. Tolkien wrote it.", "X. 509 is a standard."],
        ),
        (
            "It costs 3.5 dollars. Version 2.0 is out.",
            ["It costs 3.5 dollars.", "Version 2.0 is out."],
        ),
        ("He said “yes.” Then he left.", ["He said “yes.”", "Then he left."]),
        (
            'She said "no." Then (quietly.) She left.',
            ['She said "no."', "Then (quietly.)", "She left."],
        ),
        ("Really? Yes! Wait... Why?! Fine.", ["Really?", "Yes!", "Wait...", "Why?!", "Fine."]),
        ("It ended in 1990. 25 people came.", ["It ended in 1990.", "25 people came."]),
        ("Is it? maybe not. Ok.", ["Is it? maybe not.", "Ok."]),
        ("See no. 5 please. Then go.", ["See no.", "5 please.", "Then go."]),
    ],
)
def test_split_sentences_rules(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_split_sentences_breaks_at_every_line_break_including_crlf() -> None:
    text = "Title\r\nFirst line. Second\r\n\r\n  Paragraph two.  \r\n- item one\n- item two\r"
    assert sentences(text) == [
        "Title",
        "First line.",
        "Second",
        "Paragraph two.",
        "- item one",
        "- item two",
    ]


def test_split_sentences_tokenized_text() -> None:
    text = (
        "the end of the war . The next Smith 's book ( 1990 ) . It was `` good . '' "
        "Then ( However , it failed ) . Where Art Thou ? . It ran . The Act ( 1776 . ) . "
        "Jose has a Ph. D now ."
    )
    assert sentences(text) == [
        "the end of the war .",
        "The next Smith 's book ( 1990 ) .",
        "It was `` good . ''",
        "Then ( However , it failed ) .",
        "Where Art Thou ? .",
        "It ran .",
        "The Act ( 1776 . ) .",
        "Jose has a Ph. D now .",
    ]


def test_split_sentences_respects_start_and_end() -> None:
    text = "Skip me. Keep this. And this. Not this."
    start, end = text.index("Keep"), text.index("Not") - 1
    spans = split_sentences(text, start, end)
    assert [text[a:b] for a, b in spans] == ["Keep this.", "And this."]
    assert split_sentences(text, 3, 3) == []
    with pytest.raises(ValueError):
        split_sentences(text, 5, 2)
    with pytest.raises(ValueError):
        split_sentences(text, 0, len(text) + 1)


def test_long_sentence_is_cut_at_whitespace() -> None:
    words = " ".join(f"word{i}" for i in range(400))
    text = words + ". Short one."
    spans = split_sentences(text)
    assert len(spans) > 2
    assert all(end - start <= MAX_SENTENCE_CHARS for start, end in spans)
    pieces = [text[a:b] for a, b in spans[:-1]]
    assert all(not piece.startswith(" ") and not piece.endswith(" ") for piece in pieces)
    # Cuts fall between words: rejoining the pieces gives the sentence back.
    assert " ".join(pieces) == words + "."


def test_long_run_without_whitespace_is_cut_hard() -> None:
    text = "x" * (2 * MAX_SENTENCE_CHARS + 7)
    assert split_sentences(text) == [
        (0, MAX_SENTENCE_CHARS),
        (MAX_SENTENCE_CHARS, 2 * MAX_SENTENCE_CHARS),
        (2 * MAX_SENTENCE_CHARS, len(text)),
    ]


@pytest.mark.parametrize(
    "text",
    [
        ". " * 50_000,
        "a" + " ." * 50_000 + "x",
        ".'" * 50_000,
        "Mr. " * 50_000,
        "a." + " " * 100_000,
    ],
)
def test_split_sentences_is_linear_on_punctuation_runs(text: str) -> None:
    started = time.perf_counter()
    assert_covers(text, split_sentences(text))
    assert time.perf_counter() - started < 5  # a quadratic regex takes minutes here


def test_clapnq_tokenized_documents() -> None:
    lines = CLAPNQ_DOCS.read_text(encoding="utf-8").splitlines()[:3]
    for line in lines:
        text = json.loads(line)["text"]
        found = sentences(text)
        assert len(found) >= 5
        # Every sentence but a truncated tail ends with a spaced terminal mark.
        assert all(sentence.endswith((" .", " ?", " !", " ''")) for sentence in found[:-1])
        assert not any(sentence[0].islower() for sentence in found)
    first = sentences(json.loads(lines[0])["text"])
    assert first[1] == (
        "Any predictable change or pattern in a time series that recurs or repeats over a "
        "one - year period can be said to be seasonal ."
    )


def test_nato_report() -> None:
    text = NATO_REPORT.read_text(encoding="utf-8")
    found = sentences(text)
    assert 4 <= len([line for line in text.splitlines() if line.strip()]) <= 5
    assert (
        "The NATO Mission in Iraq, established at Iraq’s request in 2018, focuses on non-combat "
        "advisory roles and capacity building within Iraqi security institutions."
    ) in found
    assert any(
        sentence.startswith("During the meetings, Mr. al-Araji reaffirmed") for sentence in found
    )
    assert not any(sentence.endswith("Mr.") for sentence in found)
    assert found[-1] == "Original Source: jfcnaples.nato.int"


# --- chunking -----------------------------------------------------------------------------------


def test_chunk_offsets_and_fields() -> None:
    text = "  Alpha one. Beta two.\n\nGamma three. Delta four.  "
    document = make_doc(text)
    chunks = chunk_document(document, max_chars=1000, overlap_sentences=0)
    assert len(chunks) == 1
    (chunk,) = chunks
    assert (chunk.start, chunk.end) == (2, len(text) - 2)
    assert chunk.text == "Alpha one. Beta two.\n\nGamma three. Delta four."
    assert [chunk.sentence_text(span) for span in chunk.sentences] == [
        "Alpha one.",
        "Beta two.",
        "Gamma three.",
        "Delta four.",
    ]
    assert (chunk.doc_id, chunk.title, chunk.source, chunk.page) == (
        "doc.txt",
        "Doc",
        "doc.txt",
        None,
    )
    assert chunk.chunk_id == chunk_id_for("doc.txt", 2, chunk.text)


def test_chunk_ids_are_stable_and_content_derived() -> None:
    chunk_id = chunk_id_for("a.txt", 10, "Hello there.")
    assert chunk_id == chunk_id_for("a.txt", 10, "Hello there.")
    assert len(chunk_id) == 32
    assert int(chunk_id, 16) >= 0
    assert chunk_id != chunk_id_for("a.txt", 10, "Hello there!")
    assert chunk_id != chunk_id_for("a.txt", 11, "Hello there.")
    assert chunk_id != chunk_id_for("b.txt", 10, "Hello there.")
    # Fixed value: ids must not change between runs or versions (the index relies on them).
    assert chunk_id == "ca4b9ce799748ad14f7d9afc09ea8ad9"

    text = "One sentence here. Two sentence here. Three sentence here."
    first = [c.chunk_id for c in chunk_document(make_doc(text), max_chars=40)]
    again = [c.chunk_id for c in chunk_document(make_doc(text), max_chars=40)]
    edited = [
        c.chunk_id for c in chunk_document(make_doc(text.replace("Three", "3")), max_chars=40)
    ]
    assert first == again
    assert first[0] == edited[0]
    assert first[-1] != edited[-1]


def test_overlap_shares_last_sentences() -> None:
    text = " ".join(f"Sentence number {i:02d}." for i in range(10))  # 20 chars each, 1 space apart
    chunks = chunk_document(make_doc(text), max_chars=62, overlap_sentences=1)
    assert [len(c.sentences) for c in chunks] == [3, 3, 3, 3, 2]
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert following.sentences[0] == previous.sentences[-1]
    assert chunks[-1].sentences[-1] == split_sentences(text)[-1]

    no_overlap = chunk_document(make_doc(text), max_chars=62, overlap_sentences=0)
    assert [len(c.sentences) for c in no_overlap] == [3, 3, 3, 1]
    assert [s for c in no_overlap for s in c.sentences] == split_sentences(text)

    wide = chunk_document(make_doc(text), max_chars=62, overlap_sentences=2)
    for previous, following in zip(wide, wide[1:], strict=False):
        assert following.sentences[:2] == previous.sentences[-2:]
        assert following.end > previous.end


def test_overlap_never_stalls_or_repeats() -> None:
    text = " ".join(f"Sentence number {i:02d}." for i in range(6))
    # Each chunk holds one sentence only, so overlapping would repeat it: it is dropped.
    chunks = chunk_document(make_doc(text), max_chars=25, overlap_sentences=3)
    assert [c.sentences for c in chunks] == [(span,) for span in split_sentences(text)]
    # The final chunk is not emitted twice even when it is entirely overlap.
    chunks = chunk_document(make_doc(text), max_chars=1000, overlap_sentences=3)
    assert len(chunks) == 1


def test_max_chars_respected_except_single_sentences() -> None:
    long_sentence = "word " * 150 + "end."  # 754 chars: cut into pieces of at most 600
    text = "Short one. " + long_sentence + " Short two."
    chunks = chunk_document(make_doc(text), max_chars=100, overlap_sentences=1)
    for chunk in chunks:
        assert chunk.end - chunk.start <= 100 or len(chunk.sentences) == 1
        assert chunk.end - chunk.start <= max(100, MAX_SENTENCE_CHARS)


def test_chunks_prefer_paragraph_breaks() -> None:
    paragraph = "This is a sentence of the paragraph. " * 4  # 148 chars trimmed
    text = paragraph.strip() + "\n\n" + paragraph.strip() + "\n\n" + paragraph.strip()
    chunks = chunk_document(make_doc(text), max_chars=250, overlap_sentences=0)
    assert [c.text for c in chunks] == [paragraph.strip()] * 3
    # Below max_chars / 2 a chunk carries on over a paragraph break.
    short = "One. Two.\n\nThree. Four."
    assert len(chunk_document(make_doc(short), max_chars=100)) == 1


def test_overlap_does_not_cross_paragraph_breaks() -> None:
    paragraph = " ".join(f"Sentence number {i:02d}." for i in range(3))  # 62 chars
    text = paragraph + "\n\n" + paragraph + "\n\n" + paragraph
    chunks = chunk_document(make_doc(text), max_chars=100, overlap_sentences=1)
    assert [c.text for c in chunks] == [paragraph] * 3


def test_single_newline_paragraphs_without_blank_lines() -> None:
    text = NATO_REPORT.read_text(encoding="utf-8")
    chunks = chunk_document(make_doc(text), max_chars=1000, overlap_sentences=1)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert all(c.end - c.start <= 1000 for c in chunks)
    # Lines are the report's paragraphs: once half full, a chunk ends at a line end, and the next
    # one starts a fresh paragraph rather than overlapping into the previous one.
    paragraphs = [line for line in text.splitlines() if line.strip()]
    assert chunks[-2].text.endswith(paragraphs[2])
    assert chunks[-1].text == "\n".join(paragraphs[3:])


def test_page_numbers() -> None:
    text = "Page one text. More on one.\fPage two starts. It ends."
    split = text.index("\f") + 1
    document = make_doc(text, pages=((1, 0, split), (2, split, len(text))))
    chunks = chunk_document(document, max_chars=30, overlap_sentences=0)
    assert [(c.text, c.page) for c in chunks] == [
        ("Page one text. More on one.", 1),
        ("Page two starts. It ends.", 2),
    ]


@pytest.mark.parametrize("text", ["", "   ", "\n\n\r\n\t "])
def test_blank_document_has_no_chunks(text: str) -> None:
    assert chunk_document(make_doc(text)) == []


def test_invalid_arguments() -> None:
    with pytest.raises(ConfigurationError):
        chunk_document(make_doc("Text."), max_chars=0)
    with pytest.raises(ConfigurationError):
        chunk_document(make_doc("Text."), overlap_sentences=-1)


# --- properties ---------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    [
        "the",
        "NATO",
        "Mr.",
        "U.S.",
        "3.5",
        "J.",
        "“yes.”",
        "(",
        ")",
        "''",
        "war",
        "Éclair",
        "é",
        "x" * 90,
    ]
)
_SEPARATORS = st.sampled_from([" ", " ", ". ", "? ", "! ", " . ", "\n", "\n\n", "\r\n\r\n", "  "])
_STRUCTURED = st.lists(st.tuples(_WORDS, _SEPARATORS), max_size=80).map(
    lambda pairs: "".join(word + separator for word, separator in pairs)
)
_TEXTS = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.text(alphabet=" .!?\n\r\t\"'”’)(Aa1é\u2028", max_size=300),
    _STRUCTURED,
)


def assert_covers(text: str, spans: list[Span], start: int = 0, end: int | None = None) -> None:
    stop = len(text) if end is None else end
    covered = [0] * len(text)
    previous_end = start
    for span_start, span_end in spans:
        assert previous_end <= span_start < span_end <= stop
        assert not text[span_start].isspace() and not text[span_end - 1].isspace()
        for offset in range(span_start, span_end):
            covered[offset] += 1
        previous_end = span_end
    for offset in range(start, stop):
        if not text[offset].isspace():
            assert covered[offset] == 1, offset


@settings(max_examples=200, deadline=None)
@given(_TEXTS)
def test_sentences_cover_text(text: str) -> None:
    spans = split_sentences(text)
    assert_covers(text, spans)
    assert all(end - start <= MAX_SENTENCE_CHARS for start, end in spans)
    assert split_sentences(text) == spans  # deterministic


@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.data())
def test_sentences_cover_a_range(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert_covers(text, split_sentences(text, start, end), start, end)


@settings(max_examples=200, deadline=None)
@given(_TEXTS, st.integers(1, 400), st.integers(0, 3))
def test_chunk_invariants(text: str, max_chars: int, overlap: int) -> None:
    document = make_doc(text)
    chunks: list[Chunk] = chunk_document(document, max_chars=max_chars, overlap_sentences=overlap)
    assert_covers(text, sorted({span for chunk in chunks for span in chunk.sentences}))
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.sentences
        assert chunk.sentences[0][0] == chunk.start and chunk.sentences[-1][1] == chunk.end
        assert all(chunk.start <= a < b <= chunk.end for a, b in chunk.sentences)
        assert chunk.end - chunk.start <= max_chars or len(chunk.sentences) == 1
    for previous, following in zip(chunks, chunks[1:], strict=False):
        assert previous.start < following.start and previous.end < following.end
    assert len({chunk.chunk_id for chunk in chunks}) == len(chunks)


def test_chunks_never_cross_a_page_even_when_they_would_fit() -> None:
    text = "Short one. Short two.\n\nOn page two. Also two."
    split = text.index("On page")
    document = make_doc(text, pages=((1, 0, split - 2), (2, split, len(text))))
    chunks = chunk_document(document, max_chars=1000, overlap_sentences=1)
    assert [c.page for c in chunks] == [1, 2]
    assert all(document.page_at(s) == c.page for c in chunks for s, _ in c.sentences)
