"""The extractive answerer (the default): the answer is made of document sentences.

No language model is involved, so no sentence can say more than its source: every sentence of
the answer *is* its citation's quote. When the question asks for an amount, a date or a name,
the entity that answers it is marked as the answer phrase inside the quote.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from docqa.abstention import unsupported_names
from docqa.answer_types import answer_phrase, asked_kind, holds_kind
from docqa.answerers.base import Draft
from docqa.boilerplate import is_boilerplate_for
from docqa.citations import show_sentence
from docqa.lexical import normalize
from docqa.models import Citation, Span
from docqa.scoring import ScoredSentence, reading_order

if TYPE_CHECKING:
    from docqa.evidence import Evidence


TYPE_MARGIN = 0.2
"""How far below the best score a sentence holding what the question asks for (an amount, a
date, a name: ``answer_types.asked_kind``) may score and still be preferred to the best.

With ``TYPE_CANDIDATES``, tuned on ClapNQ (``docqa eval`` on its 300 questions): a margin of 0.1
among 3 sentences answered 0.700 of the answerable questions, 0.2 among 5 answered 0.740, both
abstaining on 0.827 of the unanswerable ones (the answer-type rule abstains when no candidate
holds the kind, so a wider search keeps answers whose name sits in the runner-up sentence)."""

TYPE_CANDIDATES = 5
"""How many of the best sentences are searched for one holding what the question asks for."""


def answer_candidates(scored: Sequence[ScoredSentence], question: str) -> list[ScoredSentence]:
    """The scored sentences that may answer ``question``: boilerplate left out
    (``boilerplate.py``), and, when the question asks for an amount, a date or a name, a sentence
    holding one moved first if it scores within ``TYPE_MARGIN`` of the best and names everything
    the question names ("Who commands the NATO Mission in Iraq?" is not answered by a sentence
    naming someone else's delegation, however close it scores)."""
    candidates = [s for s in scored if not is_boilerplate_for(s.text, question)]
    kind = asked_kind(question)
    if kind is None or not candidates:
        return candidates
    best = candidates[0].score
    for i, candidate in enumerate(candidates[:TYPE_CANDIDATES]):
        if candidate.score < best - TYPE_MARGIN:
            break
        if holds_kind(kind, candidate.tagged, question) and (
            i == 0 or not unsupported_names(question, candidate.text)
        ):
            return [candidate, *candidates[:i], *candidates[i + 1 :]]
    return candidates


def select_sentences(
    scored: Sequence[ScoredSentence],
    max_sentences: int,
    keep_ratio: float,
    pair_margin: float | None = 0.0,
    question: str = "",
) -> list[ScoredSentence]:
    """The best sentence, plus close runners-up, in reading order.

    Candidates come from ``answer_candidates`` (no boilerplate; a sentence holding what the
    question asks for first). When the best sentence read together with a neighbour matches the
    question better than it does alone (by more than ``pair_margin``; None disables this), the
    neighbour joins the answer: it often holds the rest of the answer. Runners-up must score at
    least ``keep_ratio`` of the best; exact repeats of a kept sentence's text (the same passage
    twice) are dropped.
    """
    scored = answer_candidates(scored, question)
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
    return reading_order(chosen, _itself)


def _itself(sentence: ScoredSentence) -> ScoredSentence:
    return sentence


def compose_answer(
    sentences: Sequence[ScoredSentence], phrases: Mapping[tuple[str, Span], Span] | None = None
) -> Draft:
    """Answer text with a ``[n]`` after each sentence, and the matching citations (with the
    answer phrase's document span, from ``phrases``, where one was found)."""
    found = phrases or {}
    citations = tuple(
        Citation.of_sentence(
            number, s.chunk, s.span, s.score, phrase=found.get((s.chunk.doc_id, s.span))
        )
        for number, s in enumerate(sentences, start=1)
    )
    text = " ".join(show_sentence(c.quote, c.number) for c in citations)
    return Draft(text, citations)


def typed_phrases(
    sentences: Sequence[ScoredSentence], question: str
) -> dict[tuple[str, Span], Span]:
    """For a question that asks for an amount, a date or a name, the document span of one in
    each sentence that holds it (``answer_types.answer_phrase``)."""
    kind = asked_kind(question)
    phrases: dict[tuple[str, Span], Span] = {}
    if kind is None:
        return phrases
    for sentence in sentences:
        inside = answer_phrase(kind, sentence.tagged, question)
        if inside is not None:
            start = sentence.span[0]
            phrases[(sentence.chunk.doc_id, sentence.span)] = (start + inside[0], start + inside[1])
    return phrases


@dataclass(frozen=True)
class ExtractiveAnswerer:
    """Answers with the best-scored sentences (see ``select_sentences``), each cited exactly.

    Args:
        max_sentences: Sentences per answer.
        keep_ratio: Runners-up are kept when they score this share of the best.
        pair_margin: The best sentence's neighbour joins when the pair matches the question
            better than the sentence alone by more than this; None never adds it.
    """

    max_sentences: int
    keep_ratio: float
    pair_margin: float | None
    name: str = "extractive"

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        """The whole answer at once: one ``Draft`` (each part of a compound question answered
        by its own sentences)."""
        chosen: list[ScoredSentence] = []
        phrases: dict[tuple[str, Span], Span] = {}
        for part in evidence.questions():
            picked = select_sentences(
                part.sentences, self.max_sentences, self.keep_ratio, self.pair_margin, part.question
            )
            chosen.extend(picked)
            phrases = {**typed_phrases(picked, part.question), **phrases}
        yield compose_answer(reading_order(chosen, _itself), phrases)
