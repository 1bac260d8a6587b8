"""The extractive answerer: the answer is made of document sentences, each one cited exactly.

No language model is involved, so no sentence can say more than its source: every sentence of
the answer *is* its citation's quote.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from docqa.lexical import content_terms, normalize
from docqa.models import Chunk, Citation, RetrievedChunk, Span

ABSTENTION_TEXT = "The documents do not contain an answer to this question."
"""The one fixed sentence every abstention says (documented in README)."""

_COVERAGE_WEIGHT = 0.25
_CHUNK_WEIGHT = 0.15


@dataclass(frozen=True)
class ScoredSentence:
    """A candidate answer sentence with the evidence that ranks it."""

    chunk: Chunk
    span: Span
    chunk_rank: int
    similarity: float
    coverage: float
    score: float

    @property
    def text(self) -> str:
        return self.chunk.sentence_text(self.span)


def term_coverage(question_terms: set[str], text: str) -> float:
    """Share of the question's content terms that occur in ``text`` (1.0 if it has none)."""
    if not question_terms:
        return 1.0
    return len(question_terms & set(content_terms(text))) / len(question_terms)


def score_sentences(
    question: str,
    question_vector: Sequence[float],
    retrieved: Sequence[RetrievedChunk],
    sentence_vectors: Mapping[str, np.ndarray],
) -> list[ScoredSentence]:
    """Score every sentence of the retrieved chunks, best first.

    The score mixes the sentence's cosine similarity to the question, how many question terms it
    contains, and how well its chunk ranked; weights were tuned on ClapNQ (see README).
    """
    q = np.asarray(question_vector, dtype=np.float32)
    q_terms = set(content_terms(question))
    seen: set[tuple[str, Span]] = set()
    scored: list[ScoredSentence] = []
    top = retrieved[0].score if retrieved else 1.0
    for rank, hit in enumerate(retrieved):
        chunk = hit.chunk
        vectors = sentence_vectors.get(chunk.chunk_id)
        if vectors is None or len(vectors) != len(chunk.sentences):
            continue
        sims = vectors @ q
        relative = hit.score / top if top > 0 else 0.0
        for span, sim in zip(chunk.sentences, sims, strict=True):
            key = (chunk.doc_id, span)
            if key in seen:  # overlapping chunks share sentences
                continue
            seen.add(key)
            coverage = term_coverage(q_terms, chunk.sentence_text(span))
            score = float(sim) + _COVERAGE_WEIGHT * coverage + _CHUNK_WEIGHT * relative
            scored.append(ScoredSentence(chunk, span, rank, float(sim), coverage, score))
    scored.sort(key=lambda s: (-s.score, s.chunk_rank, s.span))
    return scored


def select_sentences(
    scored: Sequence[ScoredSentence], max_sentences: int, keep_ratio: float
) -> list[ScoredSentence]:
    """The best sentence, plus close runners-up, in reading order.

    Runners-up must score at least ``keep_ratio`` of the best; exact repeats of a kept
    sentence's text (the same passage in two documents) are dropped.
    """
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    texts = {normalize(best.text)}
    for candidate in scored[1:]:
        if len(chosen) >= max_sentences:
            break
        if candidate.score < keep_ratio * best.score:
            break
        key = normalize(candidate.text)
        if key in texts:
            continue
        texts.add(key)
        chosen.append(candidate)
    # Reading order: documents in order of their best sentence, sentences in text order.
    doc_order: dict[str, int] = {}
    for sentence in chosen:
        doc_order.setdefault(sentence.chunk.doc_id, len(doc_order))
    chosen.sort(key=lambda s: (doc_order[s.chunk.doc_id], s.span[0]))
    return chosen


def compose_answer(sentences: Sequence[ScoredSentence]) -> tuple[str, tuple[Citation, ...]]:
    """Answer text with a ``[n]`` after each sentence, and the matching citations."""
    parts: list[str] = []
    citations: list[Citation] = []
    for number, sentence in enumerate(sentences, start=1):
        chunk = sentence.chunk
        start, end = sentence.span
        quote = sentence.text
        citations.append(
            Citation(
                number=number,
                doc_id=chunk.doc_id,
                source=chunk.source,
                title=chunk.title,
                start=start,
                end=end,
                quote=quote,
                score=round(sentence.score, 4),
                page=chunk.page,
            )
        )
        # Newlines inside a quoted sentence would break the answer's layout; the quote itself
        # keeps them so it stays an exact copy of the document.
        parts.append(f"{' '.join(quote.split())} [{number}]")
    return " ".join(parts), tuple(citations)
