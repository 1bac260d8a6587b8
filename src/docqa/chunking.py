"""Split documents into sentences and group the sentences into retrievable chunks.

Splitting is rule-based and deterministic because it runs on every document at ingest and its
spans become citation offsets: the same text must always give the same spans. Every span is in
document coordinates, so ``document.text[start:end]`` is always the exact quoted text.
"""

from __future__ import annotations

import hashlib
import re

from docqa.errors import ConfigurationError
from docqa.models import Chunk, Document, Span

MAX_SENTENCE_CHARS = 600
"""Longest sentence span; longer run-on sentences are cut at whitespace so no chunk balloons."""

# The characters ``str.splitlines`` breaks on. A sentence never spans one of them: extracted text
# uses line breaks for headings, list items and paragraphs far more often than inside sentences.
_LINE_BREAKS = "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029"

# One line's content, already trimmed: from its first to its last non-whitespace character.
_LINE = re.compile(rf"\S(?:[^{_LINE_BREAKS}]*\S)?")

# A candidate sentence end: terminal punctuation, then closing quotes/brackets, then same-line
# whitespace and the next sentence's first character (captured in ``next``, checked in Python).
# - The lookbehind makes "..." match once, from its first dot; without it a failed match would
#   be retried from every dot, which is quadratic on long punctuation runs. The terminal run is
#   not atomic for the same reason: a long ". . . ." run at a line end then still matches (one
#   token shorter, skipped in Python) instead of failing and being retried from every dot.
# - ``[ ]+[.!?]+`` continues the run over tokenized text such as "Thou ? . It" (ClapNQ style).
# - Closers may be separated by spaces only when unambiguous (`''`, curly/closing brackets);
#   a spaced straight quote is taken only before `''` ("audition ? ' '' Brooks").
# - The atomic group stops backtracking through long closer runs (exponential otherwise).
_END = re.compile(
    rf"(?<![.!?])(?P<term>[.!?]+(?:[^\S{_LINE_BREAKS}]+[.!?]+(?=\s|$))*)"
    rf"(?>(?:[\"'”’)\]}}»]+|[^\S{_LINE_BREAKS}]*(?:''|[”’)\]}}»]|'(?=[^\S{_LINE_BREAKS}]*'')))*)"
    rf"(?=[^\S{_LINE_BREAKS}]+(?P<next>\S))"
)

# Characters that cannot begin a sentence even though they are not lowercase letters; a terminal
# mark here means the punctuation run continues ("( 1776 . ) . The").
_NON_STARTERS = frozenset(",;:)]}”’»%.!?")

# Opening characters stripped from a token before looking it up as an abbreviation: "(Dr."
_OPENERS = "([{\"'“‘«`"

# Abbreviations after which a period does not end the sentence. Case matters: "No." is an
# abbreviation ("No. 5"), "no." usually ends a sentence.
_ABBREVIATIONS = frozenset(
    {
        "Mr", "Mrs", "Ms", "Messrs", "Dr", "Prof", "St", "Jr", "Sr", "Rev", "Hon",
        "Gen", "Col", "Lt", "Capt", "Sgt", "Maj", "Gov", "Sen", "Rep", "Mt", "Ft",
        "Ph", "Inc", "Ltd", "Co", "Corp", "Bros", "Dept", "No", "Nos", "Vol", "vol", "Fig", "fig",
        "vs", "Vs", "v", "etc", "al", "cf", "ca", "c", "approx", "pp",
        "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
    }
)  # fmt: skip

# Dotted letter abbreviations: "U.S", "U.K", "e.g", "i.e", "D.C" (the final dot is the match's).
_DOTTED = re.compile(r"(?:[^\W\d_]\.)+[^\W\d_]")

# The longest token worth checking against the abbreviation rules; longer ones never match.
_MAX_TOKEN = 16

_LINE_BREAK = re.compile(rf"\r\n|[{_LINE_BREAKS}]")


def _is_abbreviation(text: str, dot: int, floor: int) -> bool:
    """Whether the period at ``text[dot]`` ends an abbreviation or an initial, not a sentence."""
    begin = dot
    while begin > floor and dot - begin <= _MAX_TOKEN and not text[begin - 1].isspace():
        begin -= 1
    token = text[begin:dot].lstrip(_OPENERS)
    if not token or dot - begin > _MAX_TOKEN:
        return False
    if len(token) == 1:
        # Initials ("J. R. R. Tolkien", "X. 509") and "c." / "v."; a lone lowercase letter
        # other than those is more likely a list marker or a word that ends a sentence.
        return token.isupper() or token in _ABBREVIATIONS
    return token in _ABBREVIATIONS or _DOTTED.fullmatch(token) is not None


def _cut_long(text: str, start: int, end: int) -> list[Span]:
    """Cut the trimmed span ``[start, end)`` into pieces of at most MAX_SENTENCE_CHARS."""
    pieces: list[Span] = []
    while end - start > MAX_SENTENCE_CHARS:
        cut = start + MAX_SENTENCE_CHARS
        # Prefer the last whitespace inside the limit; a piece without any is cut hard.
        while cut > start and not text[cut].isspace():
            cut -= 1
        if cut == start:
            pieces.append((start, start + MAX_SENTENCE_CHARS))
            start += MAX_SENTENCE_CHARS
            continue
        piece_end = cut
        while text[piece_end - 1].isspace():
            piece_end -= 1
        pieces.append((start, piece_end))
        start = cut
        while text[start].isspace():
            start += 1
    pieces.append((start, end))
    return pieces


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[Span]:
    """Sentence spans (document coordinates) covering text[start:end].

    Spans are trimmed, in order, non-overlapping and non-empty, and every non-whitespace
    character of ``text[start:end]`` lies in exactly one of them. A sentence never spans a line
    break and is never longer than ``MAX_SENTENCE_CHARS``.

    Args:
        text: The whole document text.
        start: First offset to split (inclusive).
        end: Offset to stop at (exclusive); ``None`` means ``len(text)``.

    Returns:
        The ``(start, end)`` spans of the sentences, as offsets into ``text``.

    Raises:
        ValueError: If ``start``/``end`` do not satisfy ``0 <= start <= end <= len(text)``.
    """
    stop = len(text) if end is None else end
    if not 0 <= start <= stop <= len(text):
        raise ValueError(f"invalid range [{start}:{end}] for a text of length {len(text)}")
    spans: list[Span] = []
    for line in _LINE.finditer(text, start, stop):
        sentence_start, line_end = line.span()
        for match in _END.finditer(text, sentence_start, line_end):
            following = match.group("next")
            if following.islower() or following in _NON_STARTERS:
                continue
            # Only a lone period can belong to an abbreviation; "!", "?" and "..." end sentences.
            if match.group("term") == "." and _is_abbreviation(text, match.start(), sentence_start):
                continue
            spans.extend(_cut_long(text, sentence_start, match.end()))
            sentence_start = match.start("next")
        spans.extend(_cut_long(text, sentence_start, line_end))
    return spans


PART_WORDS = 16
"""Words per part of a long sentence (``sentence_parts``)."""
PART_STRIDE = 8
"""Words between the starts of consecutive parts: each part overlaps the next by half."""

_TOKEN = re.compile(r"\S+")


def sentence_parts(text: str) -> list[Span]:
    """Overlapping windows of ``PART_WORDS`` words over a long sentence, as spans inside it.

    A sentence that reports four facts is one vector that matches a question about any one of
    them only weakly; a part holds one or two facts. Ingest embeds each part beside its sentence
    and scoring credits a sentence with its best part (``scoring.py``). Sentences of up to
    ``PART_WORDS + PART_STRIDE`` words have no parts: they are short enough already.
    Deterministic, like sentence splitting: the parts of a stored sentence are found again from
    its text alone.
    """
    tokens = [m.span() for m in _TOKEN.finditer(text)]
    if len(tokens) <= PART_WORDS + PART_STRIDE:
        return []
    starts = list(range(0, len(tokens) - PART_WORDS + 1, PART_STRIDE))
    if starts[-1] + PART_WORDS < len(tokens):
        starts.append(len(tokens) - PART_WORDS)
    return [(tokens[i][0], tokens[i + PART_WORDS - 1][1]) for i in starts]


def chunk_id_for(doc_id: str, start: int, text: str) -> str:
    """Content-derived id: sha256 of doc_id, start and text; hex, first 32 chars.

    The id changes whenever the chunk's text or position changes, so an index can tell which
    chunks it must re-embed after a document is edited.
    """
    digest = hashlib.sha256()
    # NUL separators keep ("a", 1, "2b") and ("a1", 2, "b") apart; surrogatepass keeps lone
    # surrogates (possible in JSON-decoded text) from raising.
    digest.update(f"{doc_id}\x00{start}\x00{text}".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _paragraph_breaks(text: str, sentences: list[Span]) -> list[bool]:
    """For each sentence, whether a paragraph break separates it from the previous one.

    A paragraph break is a blank line. Documents that never use blank lines (one paragraph per
    line, as in many plain-text reports) get every line break counted instead, so their chunks
    still prefer paragraph boundaries.
    """
    breaks_before = [0] + [
        len(_LINE_BREAK.findall(text, previous[1], current[0]))
        for previous, current in zip(sentences, sentences[1:], strict=False)
    ]
    threshold = 2 if any(count >= 2 for count in breaks_before) else 1
    return [count >= threshold for count in breaks_before]


def chunk_document(
    document: Document, max_chars: int = 1000, overlap_sentences: int = 1
) -> list[Chunk]:
    """Group consecutive sentences into chunks of at most max_chars characters.

    A chunk grows sentence by sentence while its span stays within ``max_chars``; it always holds
    at least one sentence, so a chunk longer than ``max_chars`` is a single sentence (at most
    ``MAX_SENTENCE_CHARS`` long). A chunk that is already ``max_chars / 2`` long stops at a
    paragraph break. The next chunk starts with the last ``overlap_sentences`` sentences of the
    previous one, fewer when that would make it a subset of the previous chunk, and none from
    before a paragraph break.

    Args:
        document: The document to chunk.
        max_chars: Longest chunk span, in characters (at least 1).
        overlap_sentences: Sentences shared by consecutive chunks (at least 0).

    Returns:
        The chunks in document order; empty when the text is empty or only whitespace.

    Raises:
        ConfigurationError: If ``max_chars < 1`` or ``overlap_sentences < 0``.
    """
    if max_chars < 1:
        raise ConfigurationError(f"max_chars must be at least 1, got {max_chars}")
    if overlap_sentences < 0:
        raise ConfigurationError(f"overlap_sentences must be at least 0, got {overlap_sentences}")
    text = document.text
    sentences = split_sentences(text)
    paragraph_before = _paragraph_breaks(text, sentences)
    count = len(sentences)
    # A chunk never crosses a page, so a citation's page number is exact.
    pages = [document.page_at(s) for s, _ in sentences] if document.pages else [None] * count

    def grow(first: int) -> int:
        """Index one past the last sentence of the chunk that starts at sentence ``first``."""
        chunk_start = sentences[first][0]
        stop = first + 1
        while stop < count and sentences[stop][1] - chunk_start <= max_chars:
            if paragraph_before[stop] and 2 * (sentences[stop - 1][1] - chunk_start) >= max_chars:
                break
            if pages[stop] != pages[first]:
                break
            stop += 1
        return stop

    chunks: list[Chunk] = []
    first = 0
    while first < count:
        stop = grow(first)
        start, end = sentences[first][0], sentences[stop - 1][1]
        chunk_text = text[start:end]
        chunks.append(
            Chunk(
                chunk_id=chunk_id_for(document.doc_id, start, chunk_text),
                doc_id=document.doc_id,
                source=document.source,
                title=document.title,
                start=start,
                end=end,
                text=chunk_text,
                sentences=tuple(sentences[first:stop]),
                page=document.page_at(start),
            )
        )
        if stop == count:
            break
        # Overlap carries context across a cut inside a paragraph; across a paragraph break it
        # would only misalign the next chunk with its paragraph, so it stops there.
        overlap_max = min(overlap_sentences, stop - first - 1)
        while overlap_max and any(paragraph_before[stop - overlap_max + 1 : stop + 1]):
            overlap_max -= 1
        # Shrink the overlap until the next chunk reaches past this one; with no overlap it
        # starts at ``stop`` and always does, so the loop terminates.
        for overlap in range(overlap_max, -1, -1):
            if grow(stop - overlap) > stop:
                first = stop - overlap
                break
    return chunks
