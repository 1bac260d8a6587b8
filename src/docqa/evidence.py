"""Stage 1 of every question: gathering the evidence.

``rewrite`` (a follow-up made standalone) -> ``search`` (the question embedded, hybrid retrieval,
the stored sentence vectors of the chunks kept) -> ``score`` (every sentence of those chunks
scored, evidence features computed). The result, an ``Evidence``, is all that the decision
(``abstention.decide``) and the answerers read. Only the question is embedded here: everything
else was computed at ingest.

Example:
    >>> evidence = qa.gather("Who led the Iraqi delegation?")
    >>> evidence.sentences[0].text, evidence.features["best_sentence_similarity"]
"""

from __future__ import annotations

import time
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from docqa.boilerplate import is_boilerplate_for
from docqa.conversation import (
    History,
    Turn,
    compound_parts,
    recent_turns,
    standalone_question,
)
from docqa.errors import QuestionError
from docqa.features import IdfFunction, extract_features
from docqa.models import Chunk, Citation, RetrievedChunk
from docqa.scoring import ScoredSentence, score_sentences
from docqa.store import PartVectors

if TYPE_CHECKING:
    from docqa.reader.reading import SentenceReading

Vector = np.ndarray
ReadFunction = Callable[[str, Sequence[str]], Sequence["SentenceReading"]]
"""``(question, sentences)`` -> the reader's judgement of each sentence (``Reader.read``)."""

READER_WEIGHT = 0.05
"""How much the reader's logit counts next to the scorer's score when ranking what it read.

Tuned on ClapNQ's 150 answerable questions (ROUGE-L of the top sentence: scorer alone 0.428,
reader alone 0.388, score + 0.05 x logit 0.437; ``eval/clapnq_tune.py answers --answerer reader``).
The reader was trained on SQuAD only, whose questions share more words with their answers than
ClapNQ's; alone, it ranks ClapNQ's sentences worse than the scorer does.
"""

READER_FEATURES = ("reader_best_logit", "reader_second_logit", "reader_phrase_score")
"""Evidence features added when the reader read the best sentences (``read_evidence``)."""


def clean_question(question: object, max_chars: int) -> str:
    """The question without control characters, or a ``QuestionError`` saying what to fix."""
    if not isinstance(question, str):
        raise QuestionError("The question must be text (a str).")
    # Control characters carry no meaning here and upset tokenisers and terminals alike.
    cleaned = "".join(
        ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in question
    ).strip()
    if not cleaned:
        raise QuestionError("The question is empty: type a question about your documents.")
    if len(cleaned) > max_chars:
        raise QuestionError(
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,}. "
            "Shorten it, or raise DOCQA_MAX_QUESTION_CHARS."
        )
    return cleaned


def check_history(history: History, max_turns: int) -> History:
    """``history`` when it is a list of at most ``max_turns`` turns, else a ``QuestionError``.

    Only the last few turns are read (``history_turns``), but a client may send any number: a
    cap keeps one request from holding a whole archive in memory for nothing.
    """
    if len(history) > max_turns:
        raise QuestionError(
            f"The conversation sent has {len(history):,} earlier turns; the limit is "
            f"{max_turns:,}. Send only the recent turns, or raise DOCQA_MAX_HISTORY_TURNS."
        )
    return history


@dataclass(frozen=True)
class ReadSentence:
    """A candidate sentence and what the reader made of it."""

    sentence: ScoredSentence
    reading: SentenceReading


def read_evidence(
    read: ReadFunction, query: str, sentences: Sequence[ScoredSentence], limit: int
) -> tuple[ReadSentence, ...]:
    """The reader's judgement of the ``limit`` best-scored sentences, best first: by the score
    plus ``READER_WEIGHT`` times the reader's logit."""
    candidates = list(sentences[:limit])
    readings = read(query, [c.text for c in candidates]) if candidates else []
    pairs = [ReadSentence(c, r) for c, r in zip(candidates, readings, strict=True)]
    # Ties keep the scorer's order (sorted is stable).
    return tuple(sorted(pairs, key=lambda p: -(p.sentence.score + READER_WEIGHT * p.reading.logit)))


def reader_features(read: Sequence[ReadSentence]) -> dict[str, float]:
    """``READER_FEATURES`` of a reading (-10 logits when nothing was read)."""
    logits = sorted((r.reading.logit for r in read), reverse=True) + [-10.0, -10.0]
    phrase = read[0].reading.phrase if read else None
    return {
        "reader_best_logit": logits[0],
        "reader_second_logit": logits[1],
        "reader_phrase_score": phrase.score if phrase is not None else -10.0,
    }


@dataclass(frozen=True)
class QuestionPart:
    """One of the questions a compound question joins (``conversation.compound_parts``), with
    the sentences of the retrieved chunks scored against it alone, best first."""

    question: str
    sentences: tuple[ScoredSentence, ...]


@dataclass(frozen=True, eq=False)
class Search:
    """What retrieval found for a standalone question."""

    query: str
    vector: Vector  # unit vector of ``query``
    retrieved: tuple[RetrievedChunk, ...]  # best first
    timings: Mapping[str, float] = field(default_factory=dict)  # ``embed``, ``retrieve``


@dataclass(frozen=True, eq=False)
class Evidence:
    """Everything known about a question before deciding whether and how to answer it.

    Attributes:
        question: The question as asked (control characters removed).
        query: The standalone question that was searched for.
        turns: The earlier ``(question, answer)`` turns the rewrite used, oldest first.
        vector: The unit vector of ``query``.
        retrieved: The chunks retrieval kept, best first.
        sentence_vectors: The stored sentence vectors of those chunks, by chunk id.
        part_vectors: The stored vectors of the parts of their long sentences, by chunk id.
        sentences: Every sentence of those chunks, scored, best first.
        features: Evidence features (``features.FEATURES``, and ``READER_FEATURES`` when the
            reader read) for the abstention model.
        timings: Seconds spent on ``embed``, ``retrieve``, ``score`` (and ``read``).
        read: The best sentences as the reader judged them, most probable first (empty when no
            reader is configured).
        parts: For a compound question ("When was it set up, and what was it designed to
            do?"), each part with its own scored sentences; empty for a simple question.
    """

    question: str
    query: str
    turns: tuple[Turn, ...]
    vector: Vector
    retrieved: tuple[RetrievedChunk, ...]
    sentence_vectors: Mapping[str, Vector]
    sentences: tuple[ScoredSentence, ...]
    features: Mapping[str, float]
    timings: Mapping[str, float] = field(default_factory=dict)
    read: tuple[ReadSentence, ...] = ()
    part_vectors: Mapping[str, PartVectors] = field(default_factory=dict)
    parts: tuple[QuestionPart, ...] = ()

    def questions(self) -> tuple[QuestionPart, ...]:
        """What an answerer answers: each part of a compound question, or the question with
        all its scored sentences."""
        return self.parts or (QuestionPart(self.query, self.sentences),)


@dataclass
class EvidenceGatherer:
    """Gathers the ``Evidence`` of a question from the index (each dependency is injected).

    Args:
        embed_query: The unit vector of a question.
        retrieve: ``(vector, text, k)`` -> the ``k`` best chunks (``HybridRetriever.retrieve``).
        read_vectors: The stored sentence vectors of chunks and the vectors of their long
            sentences' parts, by chunk id (``ChunkStore.read_vectors``).
        keyword_idf: The IDF function of the current keyword index (asked once per question).
        top_k: Chunks kept for the answer.
        history_turns: Earlier turns used to resolve follow-ups.
        read: The reader (``Reader.read``), or None to gather without reading.
        read_sentences: How many of the best-scored sentences the reader reads.
        expand: Spells out acronyms the documents never use (``KeywordIndex.expand_acronyms``).
    """

    embed_query: Callable[[str], Sequence[float]]
    retrieve: Callable[[Vector, str, int], Sequence[RetrievedChunk]]
    read_vectors: Callable[
        [Sequence[Chunk]], tuple[Mapping[str, Vector], Mapping[str, PartVectors]]
    ]
    keyword_idf: Callable[[], IdfFunction]
    top_k: int
    history_turns: int
    read_sentences: int
    read: ReadFunction | None = None
    expand: Callable[[str], str] = str

    def rewrite(self, question: str, history: History = ()) -> tuple[str, tuple[Turn, ...]]:
        """The standalone form of ``question`` (acronyms spelled out) and the earlier turns it
        was resolved against."""
        turns = recent_turns(history, self.history_turns)
        return self.expand(standalone_question(question, turns)), turns

    def search(self, query: str) -> Search:
        """Embed ``query`` and retrieve the ``top_k`` best chunks."""
        t0 = time.perf_counter()
        vector = np.asarray(self.embed_query(query), dtype=np.float32)
        t1 = time.perf_counter()
        retrieved = tuple(self.retrieve(vector, query, self.top_k))
        t2 = time.perf_counter()
        return Search(query, vector, retrieved, {"embed": t1 - t0, "retrieve": t2 - t1})

    def gather(self, question: str, history: History = ()) -> Evidence:
        """All three steps: rewrite, search, score."""
        query, turns = self.rewrite(question, history)
        found = self.search(query)
        t0 = time.perf_counter()
        vectors, part_vectors = self.read_vectors([r.chunk for r in found.retrieved])
        t1 = time.perf_counter()
        sentences = score_sentences(query, found.vector, found.retrieved, vectors, part_vectors)
        features = extract_features(query, found.retrieved, sentences, self.keyword_idf())
        parts: tuple[QuestionPart, ...] = ()
        if len(split := compound_parts(query)) > 1:
            parts = tuple(
                QuestionPart(
                    part,
                    tuple(
                        score_sentences(
                            part, self.embed_query(part), found.retrieved, vectors, part_vectors
                        )
                    ),
                )
                for part in split
            )
        t2 = time.perf_counter()
        timings = dict(found.timings)
        # Reading the sentence vectors is part of retrieval: they come from the store.
        timings["retrieve"] += t1 - t0
        timings["score"] = t2 - t1
        read: tuple[ReadSentence, ...] = ()
        if self.read is not None:
            read = read_evidence(self.read, query, sentences, self.read_sentences)
            features = {**features, **reader_features(read)}
            timings["read"] = time.perf_counter() - t2
        return Evidence(
            question=question,
            query=query,
            turns=turns,
            vector=found.vector,
            retrieved=found.retrieved,
            sentence_vectors=vectors,
            part_vectors=part_vectors,
            parts=parts,
            sentences=tuple(sentences),
            features=features,
            timings=timings,
            read=read,
        )


def closest_citations(evidence: Evidence, limit: int) -> tuple[Citation, ...]:
    """The ``limit`` sentences closest to the question, best first, cited exactly: what an
    abstention lists as *not an answer* (the reader's order when it read, else the scorer's).
    Boilerplate (``boilerplate.py``) is never listed, unless the question asks about it."""
    if evidence.read:
        ranked = [(r.sentence, r.reading.probability) for r in evidence.read]
        seen = {(r.sentence.chunk.doc_id, r.sentence.span) for r in evidence.read}
        ranked += [(s, s.score) for s in evidence.sentences if (s.chunk.doc_id, s.span) not in seen]
    else:
        ranked = [(s, s.score) for s in evidence.sentences]
    ranked = [(s, score) for s, score in ranked if not is_boilerplate_for(s.text, evidence.query)]
    return tuple(
        Citation.of_sentence(n, s.chunk, s.span, score)
        for n, (s, score) in enumerate(ranked[:limit], start=1)
    )
