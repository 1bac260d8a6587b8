"""Evidence features: numbers that describe how well the retrieved text covers a question.

The abstention model (``abstention.py``) reads them to estimate whether the documents answer the
question at all. No feature names a question, phrase or document; each was chosen for how well it
transfers between corpora (README, "What was tuned on which data").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet

from docqa.answer_types import answer_type_match
from docqa.lexical import content_terms, names, numbers
from docqa.models import RetrievedChunk
from docqa.scoring import ScoredSentence, term_coverage

IdfFunction = Callable[[str], float]
"""Inverse document frequency of a stemmed term in the indexed chunks."""

FEATURES = (
    "best_sentence_similarity",
    "second_sentence_similarity",
    "top_dense_score",
    "best_sentence_coverage",
    "best_chunk_coverage",
    "dense_keyword_agree",
    "name_overlap",
    "number_overlap",
    "answer_type_match",
    "similarity_margin",
    "idf_coverage_chunk",
    "idf_coverage_sentence",
    "idf_coverage_evidence",
    "best_context_similarity",
    "focus_coverage_sentence",
    "focus_coverage_evidence",
    "ask_coverage_sentence",
    "ask_coverage_evidence",
    "similarity_above_mean",
)


def _overlap(needles: AbstractSet[str], haystack: AbstractSet[str]) -> float:
    return 1.0 if not needles else len(needles & haystack) / len(needles)


def idf_coverage(terms: set[str], text: str, idf: IdfFunction) -> float:
    """Share of the question's information (IDF mass of ``terms``) that ``text`` contains."""
    total = sum(idf(t) for t in terms)
    if total <= 0:
        return 1.0
    present = set(content_terms(text))
    return sum(idf(t) for t in terms if t in present) / total


def extract_features(
    question: str,
    retrieved: Sequence[RetrievedChunk],
    scored: Sequence[ScoredSentence],
    idf: IdfFunction,
) -> dict[str, float]:
    """Evidence features of one question against its retrieved chunks and scored sentences.

    Every feature is 0.0 when there is no evidence at all.
    """
    if not retrieved or not scored:
        return dict.fromkeys(FEATURES, 0.0)
    best = scored[0]
    by_similarity = sorted((s.similarity for s in scored), reverse=True)
    top_chunk = retrieved[0].chunk
    evidence = " ".join(s.text for s in scored[:3])
    dense_top = min(retrieved, key=lambda r: r.dense_rank if r.dense_rank is not None else 1e9)
    keyword_top = min(
        retrieved, key=lambda r: r.keyword_rank if r.keyword_rank is not None else 1e9
    )
    q_terms = set(content_terms(question))
    # The first content words usually name what is asked for ("the annual budget of ...",
    # "how many troops ..."); the rest often only sets the topic.
    focus = set(content_terms(question)[:2])
    # Terms beyond the document's title are what the question asks *about* its topic.
    ask = q_terms - set(content_terms(best.chunk.title))
    second = by_similarity[1] if len(by_similarity) > 1 else 0.0
    return {
        "best_sentence_similarity": best.similarity,
        "second_sentence_similarity": second,
        "top_dense_score": max((r.dense_score or 0.0) for r in retrieved),
        "best_sentence_coverage": best.coverage,
        "best_chunk_coverage": term_coverage(q_terms, top_chunk.text),
        "dense_keyword_agree": float(
            dense_top.chunk.chunk_id == keyword_top.chunk.chunk_id
            and dense_top.dense_rank == 0
            and keyword_top.keyword_rank == 0
        ),
        "name_overlap": _overlap(names(question), names(top_chunk.text) | names(evidence)),
        "number_overlap": _overlap(numbers(question), numbers(top_chunk.text)),
        "answer_type_match": answer_type_match(question, evidence),
        "similarity_margin": by_similarity[0] - second,
        "idf_coverage_chunk": idf_coverage(q_terms, top_chunk.text, idf),
        "idf_coverage_sentence": idf_coverage(q_terms, best.text, idf),
        "idf_coverage_evidence": idf_coverage(q_terms, evidence, idf),
        "best_context_similarity": max(s.context_similarity for s in scored),
        "focus_coverage_sentence": term_coverage(focus, best.text),
        "focus_coverage_evidence": term_coverage(focus, evidence),
        "ask_coverage_sentence": term_coverage(ask, best.text),
        "ask_coverage_evidence": term_coverage(ask, evidence),
        # Relative, not absolute: how far the best sentence stands out from the rest of the
        # evidence, which carries over between corpora better than a raw cosine does.
        "similarity_above_mean": best.similarity - sum(s.similarity for s in scored) / len(scored),
    }
