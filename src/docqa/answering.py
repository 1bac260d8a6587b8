"""The extractive answerer: the answer is made of document sentences, each one cited exactly.

No language model is involved, so no sentence can say more than its source: every sentence of
the answer *is* its citation's quote.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from docqa.lexical import content_terms, normalize
from docqa.models import Chunk, Citation, RetrievedChunk, Span

ABSTENTION_TEXT = "The documents do not contain an answer to this question."
"""The one fixed sentence every abstention says (documented in README)."""

_COVERAGE_WEIGHT = 0.25
_FOOTNOTE = re.compile(r"\[(\d+)\]")
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
    context_similarity: float = 0.0
    neighbour: Span | None = None

    @property
    def text(self) -> str:
        return self.chunk.sentence_text(self.span)


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
    seen: dict[tuple[str, Span], int] = {}
    scored: list[ScoredSentence] = []
    top = retrieved[0].score if retrieved else 1.0
    for rank, hit in enumerate(retrieved):
        chunk = hit.chunk
        vectors = sentence_vectors.get(chunk.chunk_id)
        if vectors is None or len(vectors) != len(chunk.sentences):
            continue
        sims = vectors @ q
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


def select_sentences(
    scored: Sequence[ScoredSentence],
    max_sentences: int,
    keep_ratio: float,
    pair_margin: float | None = 0.0,
) -> list[ScoredSentence]:
    """The best sentence, plus close runners-up, in reading order.

    When the best sentence read together with a neighbour matches the question better than it
    does alone (by more than ``pair_margin``; None disables this), the neighbour joins the answer:
    it often holds the rest of the answer. Runners-up must score at least ``keep_ratio`` of the
    best; exact repeats of a kept sentence's text (the same passage twice) are dropped.
    """
    if not scored:
        return []
    best = scored[0]
    chosen = [best]
    texts = {normalize(best.text)}
    if (
        pair_margin is not None
        and best.neighbour is not None
        and max_sentences > 1
        and best.context_similarity > best.similarity + pair_margin
    ):
        partner = next(
            (c for c in scored if c.chunk.doc_id == best.chunk.doc_id and c.span == best.neighbour),
            None,
        )
        if partner is not None and normalize(partner.text) not in texts:
            chosen.append(partner)
            texts.add(normalize(partner.text))
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
        # A document's own footnote "[3]" must not pass for a citation marker in the answer:
        # it is shown as "(3)" there, while the citation's quote stays an exact copy.
        shown = _FOOTNOTE.sub(r"(\1)", " ".join(quote.split()))
        parts.append(f"{shown} [{number}]")
    return " ".join(parts), tuple(citations)
