"""Scoring the sentences of the retrieved chunks against the question (evidence gathering).

Every sentence vector was computed at ingest, so scoring costs a few dot products: only the
question was embedded. Answerers and the abstention model both read these scores.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

import numpy as np

from docqa.answer_types import TaggedText
from docqa.lexical import content_terms
from docqa.models import Chunk, RetrievedChunk, Span
from docqa.store import PartVectors

# Weights of term coverage and chunk rank next to the cosine, tuned on ClapNQ (see README).
_COVERAGE_WEIGHT = 0.25
_CHUNK_WEIGHT = 0.15

PART_WEIGHT = 0.5
"""How much a long sentence's best part (``chunking.sentence_parts``) lifts its similarity:
``similarity = cosine + PART_WEIGHT * max(0, best part's cosine - cosine)``.

Tuned on ClapNQ (0, 0.5 and 1 with parts of 10 and 16 words): with 16-word parts and 0.5, the
answerability AUC of the best sentence's similarity rose from 0.840 to 0.850 and the first
sentence was as often an evidence sentence (0.667); at 1.0 the AUC was 0.856 but the first
sentence fell to 0.607. On the held-out SQuAD articles the same setting moved the AUC from 0.737
to 0.752 and the first sentence holding the answer from 0.813 to 0.830.
"""


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence with the evidence that ranks it."""

    chunk: Chunk
    span: Span
    chunk_rank: int
    similarity: float
    coverage: float
    score: float
    context_similarity: float = 0.0
    neighbour: Span | None = None

    @property
    def text(self) -> str:
        return self.chunk.sentence_text(self.span)

    @property
    def tagged(self) -> TaggedText:
        """The sentence with the entities found in it at ingest (offsets inside it)."""
        found = self.chunk.entities_in(self.span)
        if found is None:
            return TaggedText(self.text)
        return TaggedText(self.text, tuple(e.shifted(-self.span[0]) for e in found))


Item = TypeVar("Item")


def reading_order(
    items: Sequence[Item], sentence_of: Callable[[Item], ScoredSentence]
) -> list[Item]:
    """``items`` in reading order: documents in order of their first item, sentences in text
    order; a sentence chosen twice (by two parts of a compound question) kept once."""
    unique = list({(sentence_of(i).chunk.doc_id, sentence_of(i).span): i for i in items}.values())
    doc_order: dict[str, int] = {}
    for item in unique:
        doc_order.setdefault(sentence_of(item).chunk.doc_id, len(doc_order))
    return sorted(
        unique,
        key=lambda i: (doc_order[sentence_of(i).chunk.doc_id], sentence_of(i).span[0]),
    )


def term_coverage(question_terms: set[str], text: str) -> float:
    """Share of the question's content terms that occur in ``text`` (1.0 if it has none)."""
    if not question_terms:
        return 1.0
    return len(question_terms & set(content_terms(text))) / len(question_terms)


def _pair_similarities(vectors: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each sentence, the best cosine between the question and it joined with a neighbour,
    and which neighbour (index offset -1 or +1; 0 when there is none).

    An answer often spans two sentences ("The representative ... . The aim is ... the Sahel");
    the sum of two unit sentence vectors stands in for the pair without embedding anything.
    """
    n = len(vectors)
    best = np.full(n, -1.0, dtype=np.float32)
    side = np.zeros(n, dtype=np.int64)
    if n < 2:
        return best, side
    pairs = vectors[:-1] + vectors[1:]
    norms = np.linalg.norm(pairs, axis=1)
    norms[norms == 0] = 1.0
    pair_sims = (pairs @ q) / norms
    for i, sim in enumerate(pair_sims):  # pair (i, i + 1)
        if sim > best[i]:
            best[i], side[i] = sim, 1
        if sim > best[i + 1]:
            best[i + 1], side[i + 1] = sim, -1
    return best, side


def best_part_similarities(
    n_sentences: int, parts: PartVectors | None, q: np.ndarray
) -> np.ndarray:
    """For each sentence, the best cosine between the question and one of its parts (-1 for a
    sentence without parts)."""
    best = np.full(n_sentences, -1.0, dtype=np.float32)
    if parts is not None and len(parts.owners):
        np.maximum.at(best, parts.owners, parts.vectors @ q)
    return best


def score_sentences(
    question: str,
    question_vector: Sequence[float] | np.ndarray,
    retrieved: Sequence[RetrievedChunk],
    sentence_vectors: Mapping[str, np.ndarray],
    part_vectors: Mapping[str, PartVectors] | None = None,
) -> list[ScoredSentence]:
    """Score every sentence of the retrieved chunks, best first.

    The score mixes the sentence's similarity to the question (its cosine, lifted by its best
    part: ``PART_WEIGHT``), how many question terms it contains, and how well its chunk ranked;
    weights were tuned on ClapNQ (see README).
    """
    q = np.asarray(question_vector, dtype=np.float32)
    q_terms = set(content_terms(question))
    seen: dict[tuple[str, Span], int] = {}
    scored: list[ScoredSentence] = []
    top = retrieved[0].score if retrieved else 1.0
    for rank, hit in enumerate(retrieved):
        chunk = hit.chunk
        vectors = sentence_vectors.get(chunk.chunk_id)
        if vectors is None or len(vectors) != len(chunk.sentences):
            continue
        cosines = vectors @ q
        parts = best_part_similarities(len(cosines), (part_vectors or {}).get(chunk.chunk_id), q)
        sims = cosines + np.float32(PART_WEIGHT) * np.maximum(np.float32(0.0), parts - cosines)
        context, sides = _pair_similarities(vectors, q)
        relative = hit.score / top if top > 0 else 0.0
        for i, (span, sim, pair) in enumerate(zip(chunk.sentences, sims, context, strict=True)):
            neighbour = chunk.sentences[i + sides[i]] if sides[i] else None
            key = (chunk.doc_id, span)
            if key in seen:
                # Overlapping chunks share sentences; keep the first, but take the better
                # neighbour: at a chunk's edge the sentence's other neighbour lives next door.
                i = seen[key]
                if pair > scored[i].context_similarity and neighbour is not None:
                    scored[i] = replace(
                        scored[i], context_similarity=float(pair), neighbour=neighbour
                    )
                continue
            seen[key] = len(scored)
            coverage = term_coverage(q_terms, chunk.sentence_text(span))
            score = float(sim) + _COVERAGE_WEIGHT * coverage + _CHUNK_WEIGHT * relative
            scored.append(
                ScoredSentence(
                    chunk, span, rank, float(sim), coverage, score, float(pair), neighbour
                )
            )
    scored.sort(key=lambda s: (-s.score, s.chunk_rank, s.span))
    return scored
