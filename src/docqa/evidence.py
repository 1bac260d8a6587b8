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

import numpy as np

from docqa.conversation import History, Turn, recent_turns, standalone_question
from docqa.errors import QuestionError
from docqa.features import IdfFunction, extract_features
from docqa.models import Chunk, RetrievedChunk
from docqa.scoring import ScoredSentence, score_sentences

Vector = np.ndarray


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
        sentences: Every sentence of those chunks, scored, best first.
        features: Evidence features (``features.FEATURES``) for the abstention model.
        timings: Seconds spent on ``embed``, ``retrieve`` and ``score``.
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


@dataclass
class EvidenceGatherer:
    """Gathers the ``Evidence`` of a question from the index (each dependency is injected).

    Args:
        embed_query: The unit vector of a question.
        retrieve: ``(vector, text, k)`` -> the ``k`` best chunks (``HybridRetriever.retrieve``).
        sentence_vectors: The stored sentence vectors of chunks, by chunk id.
        keyword_idf: The IDF function of the current keyword index (asked once per question).
        top_k: Chunks kept for the answer.
        history_turns: Earlier turns used to resolve follow-ups.
    """

    embed_query: Callable[[str], Sequence[float]]
    retrieve: Callable[[Vector, str, int], Sequence[RetrievedChunk]]
    sentence_vectors: Callable[[Sequence[Chunk]], Mapping[str, Vector]]
    keyword_idf: Callable[[], IdfFunction]
    top_k: int = 5
    history_turns: int = 3

    def rewrite(self, question: str, history: History = ()) -> tuple[str, tuple[Turn, ...]]:
        """The standalone form of ``question`` and the earlier turns it was resolved against."""
        turns = recent_turns(history, self.history_turns)
        return standalone_question(question, turns), turns

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
        vectors = self.sentence_vectors([r.chunk for r in found.retrieved])
        t1 = time.perf_counter()
        sentences = score_sentences(query, found.vector, found.retrieved, vectors)
        features = extract_features(query, found.retrieved, sentences, self.keyword_idf())
        t2 = time.perf_counter()
        timings = dict(found.timings)
        # Reading the sentence vectors is part of retrieval: they come from the store.
        timings["retrieve"] += t1 - t0
        timings["score"] = t2 - t1
        return Evidence(
            question=question,
            query=query,
            turns=turns,
            vector=found.vector,
            retrieved=found.retrieved,
            sentence_vectors=vectors,
            sentences=tuple(sentences),
            features=features,
            timings=timings,
        )
