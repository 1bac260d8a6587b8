"""The extractive answerer (the default): the answer is made of document sentences.

No language model is involved, so no sentence can say more than its source: every sentence of
the answer *is* its citation's quote.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docqa.answerers.base import Draft
from docqa.citations import show_sentence
from docqa.lexical import normalize
from docqa.models import Citation
from docqa.scoring import ScoredSentence

if TYPE_CHECKING:
    from docqa.evidence import Evidence


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


def compose_answer(sentences: Sequence[ScoredSentence]) -> Draft:
    """Answer text with a ``[n]`` after each sentence, and the matching citations."""
    citations = tuple(
        Citation.of_sentence(number, s.chunk, s.span, s.score)
        for number, s in enumerate(sentences, start=1)
    )
    text = " ".join(show_sentence(c.quote, c.number) for c in citations)
    return Draft(text, citations)


@dataclass(frozen=True)
class ExtractiveAnswerer:
    """Answers with the best-scored sentences (see ``select_sentences``), each cited exactly.

    Args:
        max_sentences: Sentences per answer.
        keep_ratio: Runners-up are kept when they score this share of the best.
        pair_margin: The best sentence's neighbour joins when the pair matches the question
            better than the sentence alone by more than this; None never adds it.
    """

    max_sentences: int = 3
    keep_ratio: float = 0.6
    pair_margin: float | None = -0.05
    name: str = "extractive"

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        """The whole answer at once: one ``Draft``."""
        chosen = select_sentences(
            evidence.sentences, self.max_sentences, self.keep_ratio, self.pair_margin
        )
        yield compose_answer(chosen)
