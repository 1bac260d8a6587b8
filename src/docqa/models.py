"""Typed results that travel between docqa's stages and out to its users.

Every entry point (Python API, CLI, evaluation) returns these objects; the faces only render them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from docqa.citations import strip_markers
from docqa.entities import Entity

ABSTENTION_TEXT = "The documents do not contain an answer to this question."
"""The one fixed sentence every abstention says (documented in README)."""

Span = tuple[int, int]
"""A half-open character span ``(start, end)`` into a document's text."""


@dataclass(frozen=True)
class Document:
    """One document as extracted from a file of the corpus.

    Attributes:
        doc_id: Stable identifier: the file's path relative to the corpus folder, or for a
            ``.jsonl`` corpus the record's own ``doc_id``.
        title: Human-readable title (file stem, HTML ``<title>``, PDF/DOCX metadata, record title).
        source: Path of the file the document came from, relative to the corpus folder (POSIX).
        text: The extracted text. For ``.txt``/``.md`` it is the file's decoded content exactly,
            so a citation's ``[start:end]`` can be checked against the file itself.
        pages: For paginated formats (PDF), ``(page_number, start, end)`` of each page in ``text``,
            page numbers starting at 1. Empty for other formats.
    """

    doc_id: str
    title: str
    source: str
    text: str
    pages: tuple[tuple[int, int, int], ...] = ()

    def page_at(self, offset: int) -> int | None:
        """Return the 1-based page holding character ``offset``, or None when not paginated."""
        for number, start, end in self.pages:
            if start <= offset < end:
                return number
        return None


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: a run of whole sentences of one document.

    Invariant: ``document.text[start:end] == text``; every span in ``sentences`` lies inside
    ``[start, end)`` and is expressed in document coordinates. ``entities`` (document
    coordinates too) are the named things found at ingest (``entities.py``); None for a chunk of
    an index built before they were stored.
    """

    chunk_id: str
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    text: str
    sentences: tuple[Span, ...]
    page: int | None = None
    entities: tuple[Entity, ...] | None = None

    def sentence_text(self, span: Span) -> str:
        """Text of a sentence given by its document span (must lie inside this chunk)."""
        return self.text[span[0] - self.start : span[1] - self.start]

    def entities_in(self, span: Span) -> tuple[Entity, ...] | None:
        """The entities lying wholly inside ``span`` (None when the chunk was never tagged)."""
        if self.entities is None:
            return None
        return tuple(e for e in self.entities if span[0] <= e.start and e.end <= span[1])


@dataclass(frozen=True)
class Citation:
    """Evidence for one sentence of an answer: an exact quote of a document.

    ``quote == document.text[start:end]`` always holds; for ``.txt`` and ``.md`` files this is
    also ``file_content[start:end]`` once the file is decoded. When the reader found the answer
    phrase, ``answer_start``/``answer_end`` are its document offsets, inside ``[start, end)``:
    ``document.text[answer_start:answer_end]`` is the phrase (``answer_phrase``).
    """

    number: int
    doc_id: str
    source: str
    title: str
    start: int
    end: int
    quote: str
    score: float
    page: int | None = None
    answer_start: int | None = None
    answer_end: int | None = None

    @property
    def answer_phrase(self) -> str | None:
        """The answer phrase inside the quote, or None when none was found."""
        if self.answer_start is None or self.answer_end is None:
            return None
        return self.quote[self.answer_start - self.start : self.answer_end - self.start]

    @classmethod
    def of_sentence(
        cls, number: int, chunk: Chunk, span: Span, score: float, phrase: Span | None = None
    ) -> Citation:
        """The citation of the sentence at document ``span`` inside ``chunk``; every citation
        is built here. The quote is cut from the chunk, so ``quote == document.text[start:end]``
        holds by construction (the chunk invariant). ``phrase``, the answer phrase's document
        span, is trimmed of surrounding spaces and must lie inside ``span`` (else ValueError).
        """
        answer_start = answer_end = None
        if phrase is not None:
            if not span[0] <= phrase[0] <= phrase[1] <= span[1]:
                raise ValueError(f"answer phrase {phrase} lies outside the sentence {span}")
            text = chunk.sentence_text(span)
            inner = text[phrase[0] - span[0] : phrase[1] - span[0]]
            lead = len(inner) - len(inner.lstrip())
            trimmed = inner.strip()
            if trimmed:
                answer_start = phrase[0] + lead
                answer_end = answer_start + len(trimmed)
        return cls(
            number=number,
            doc_id=chunk.doc_id,
            source=chunk.source,
            title=chunk.title,
            start=span[0],
            end=span[1],
            quote=chunk.sentence_text(span),
            score=round(score, 4),
            page=chunk.page,
            answer_start=answer_start,
            answer_end=answer_end,
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (the UI's ``/ask`` endpoint, evaluation reports)."""
        return {**asdict(self), "answer_phrase": self.answer_phrase}


@dataclass(frozen=True)
class RetrievedChunk:
    """A chunk with the scores that retrieval gave it."""

    chunk: Chunk
    score: float
    dense_score: float | None = None
    keyword_score: float | None = None
    dense_rank: int | None = None
    keyword_rank: int | None = None


@dataclass(frozen=True)
class DroppedSentence:
    """A generated sentence the grounding guard removed because no document supports it."""

    text: str
    reason: str


class AbstentionCode(StrEnum):
    """Why docqa abstained, as a stable code a program can branch on."""

    NO_EVIDENCE = "no_evidence"
    """Retrieval found nothing to answer from (an empty index, or no passage at all)."""
    NAME_NOT_FOUND = "name_not_found"
    """A name the question asks about occurs in none of the retrieved passages."""
    LOW_CONFIDENCE = "low_confidence"
    """The abstention model's confidence is below the threshold."""
    UNSUPPORTED_ANSWER = "unsupported_answer"
    """The answerer produced no sentence the documents support (e.g. the guard dropped all)."""
    ANSWER_TYPE_MISSING = "answer_type_missing"
    """The question asks for an amount, a date or a name, and the answer holds none."""


@dataclass(frozen=True)
class AbstentionReason:
    """Why an answer abstained: a ``code`` for programs and a ``message`` for people."""

    code: AbstentionCode
    message: str

    def __str__(self) -> str:
        return self.message

    def to_dict(self) -> dict[str, str]:
        """JSON-ready data."""
        return {"code": self.code.value, "message": self.message}


@dataclass(frozen=True)
class Answer:
    """What ``DocQA.ask`` returns.

    Attributes:
        question: The question as asked.
        text: The answer, each sentence followed by its ``[n]`` marker; or the fixed abstention
            sentence when ``abstained`` is true.
        citations: ``citations[i].number == i + 1``; empty when abstained.
        abstained: True when the documents do not support an answer.
        confidence: Estimated probability that the documents answer the question (0..1).
        standalone_question: The question after resolving references to earlier turns.
        timings: Seconds spent per stage: ``embed`` (the question), ``retrieve`` (chunks and
            their sentence vectors), ``score`` (sentences and evidence features), ``answer``
            (the decision and the answerer), ``total``.
        retrieved: The chunks retrieval returned, best first (for inspection and evaluation).
        abstention_reason: Why it abstained (an ``AbstentionCode`` and a message); None when
            it answered.
        dropped: Generated sentences the grounding guard removed (``llm`` answerer only).
        answerer: ``"extractive"``, ``"reader"`` or ``"llm"``.
        closest: When abstained, the document sentences closest to the question, best first:
            **not an answer**, listed so that a user can check for themselves. Empty when
            answered.
    """

    question: str
    text: str
    citations: tuple[Citation, ...]
    abstained: bool
    confidence: float
    standalone_question: str
    timings: dict[str, float] = field(default_factory=dict)
    retrieved: tuple[RetrievedChunk, ...] = ()
    abstention_reason: AbstentionReason | None = None
    dropped: tuple[DroppedSentence, ...] = ()
    answerer: str = "extractive"
    closest: tuple[Citation, ...] = ()

    @property
    def plain_text(self) -> str:
        """The answer without its ``[n]`` markers."""
        return strip_markers(self.text)

    @property
    def phrases(self) -> tuple[tuple[int, str], ...]:
        """``(citation number, answer phrase)`` for each citation that marks one: what the
        page and the CLI show first, above the cited sentences (each phrase lies inside its
        citation's quote, so it is as exact as the quote)."""
        return tuple(
            (c.number, " ".join(c.answer_phrase.split())) for c in self.citations if c.answer_phrase
        )

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data (what the UI's ``/ask`` endpoint returns)."""
        reason = self.abstention_reason
        return {
            "text": self.text,
            "abstained": self.abstained,
            "abstention_reason": reason.to_dict() if reason else None,
            "confidence": self.confidence,
            "standalone_question": self.standalone_question,
            "citations": [c.to_dict() for c in self.citations],
            "answerer": self.answerer,
            "dropped": [{"text": d.text, "reason": d.reason} for d in self.dropped],
            "closest": [c.to_dict() for c in self.closest],
            "timings": dict(self.timings),
        }


@dataclass(frozen=True)
class SkippedFile:
    """A corpus file that could not be indexed, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    """What an ``ingest`` run changed. Counts are of files (documents for ``.jsonl``)."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[SkippedFile, ...] = ()
    chunks: int = 0
    chunks_embedded: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for humans."""
        return (
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)} file(s); "
            f"{self.chunks} chunks indexed ({self.chunks_embedded} embedded) in {self.seconds:.1f}s"
        )
