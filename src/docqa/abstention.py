"""Deciding whether the documents answer a question at all.

A small logistic model over evidence features, fitted on the ClapNQ benchmark questions
(``eval/calibrate.py`` writes ``abstention.json`` beside this module and records the data it was
fitted on and the operating point it reaches). No feature names a question, phrase or document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from docqa.answering import ScoredSentence, term_coverage
from docqa.lexical import (
    STOPWORDS,
    capitalised_phrases,
    content_terms,
    named_phrases,
    named_phrases_with_text,
    names,
    numbers,
    words,
)
from docqa.models import RetrievedChunk

MODEL_PATH = Path(__file__).with_name("abstention.json")

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

_YEAR_OR_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b|\b(century|decade|ago|since|until|during)\b",
    re.IGNORECASE,
)
# A year is a date, not an amount: "How many troops?" is not answered by "in 2018".
_QUANTITY = re.compile(
    r"\b(?!(?:1[89]|20)\d\d\b)\d[\d,.]*|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
    r"thousand|million|billion|dozen|several|many|few)\b",
    re.IGNORECASE,
)
_PLACE_CUE = re.compile(r"\b(in|at|near|from|across|region|city|country|state)\b", re.IGNORECASE)


def _answer_type_match(question: str, text: str) -> float:
    """1.0 when the text holds the kind of thing the question asks for (or no type is implied)."""
    q = question.casefold()
    if re.search(r"\bhow (many|much|long|old|far|tall|big)\b", q):
        return 1.0 if _QUANTITY.search(text) else 0.0
    if re.search(r"\b(when|what year|what date|which year)\b", q):
        return 1.0 if _YEAR_OR_DATE.search(text) else 0.0
    if re.search(r"\b(who|whom|whose)\b", q):
        return 1.0 if names(text) else 0.0
    if re.search(r"\bwhere\b", q):
        return 1.0 if names(text) or _PLACE_CUE.search(text) else 0.0
    return 1.0


def _new_names(question: str, answer: str) -> list[tuple[str, ...]]:
    """Capitalised phrases of the answer that the question does not already name."""
    asked = set(words(question))
    return [p for p in named_phrases(answer) if not set(p) <= asked]


def missing_answer_type(question: str, answer: str) -> str | None:
    """What the answer lacks when the question demands an amount or a date, else None.

    A rule, checked on ClapNQ (see README): "How many troops ...?" is not answered by sentences
    without any number, "On what date ...?" by sentences without any date, nor "Who ...?" by
    sentences that name no one the question has not already named.
    """
    q = question.casefold()
    if re.search(r"\bhow (many|much)\b", q) and not _QUANTITY.search(answer):
        return "an amount"
    if re.match(r"\s*(who|whom|whose)\b", q) and not _new_names(question, answer):
        return "a name"
    # Plain "when" is left out: on ClapNQ its answers are as often events ("when a customer
    # orders") as dates.
    if re.search(r"\b(what|which) (year|date|day|month)\b", q) and not _YEAR_OR_DATE.search(answer):
        return "a date"
    return None


def _overlap(needles: set[str], haystack: set[str]) -> float:
    return 1.0 if not needles else len(needles & haystack) / len(needles)


def _idf_coverage(terms: set[str], text: str, idf: Callable[[str], float]) -> float:
    """Share of the question's information (IDF mass) that ``text`` contains."""
    total = sum(idf(t) for t in terms)
    if total <= 0:
        return 1.0
    present = set(content_terms(text))
    return sum(idf(t) for t in terms if t in present) / total


def extract_features(
    question: str,
    retrieved: Sequence[RetrievedChunk],
    scored: Sequence[ScoredSentence],
    idf: Callable[[str], float],
) -> dict[str, float]:
    """Evidence features of one question against its retrieved chunks and scored sentences."""
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
    return {
        "best_sentence_similarity": best.similarity,
        "second_sentence_similarity": by_similarity[1] if len(by_similarity) > 1 else 0.0,
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
        "answer_type_match": _answer_type_match(question, evidence),
        "similarity_margin": by_similarity[0] - (by_similarity[1] if len(by_similarity) > 1 else 0),
        "idf_coverage_chunk": _idf_coverage(q_terms, top_chunk.text, idf),
        "idf_coverage_sentence": _idf_coverage(q_terms, best.text, idf),
        "idf_coverage_evidence": _idf_coverage(q_terms, evidence, idf),
        "best_context_similarity": max(s.context_similarity for s in scored),
        "focus_coverage_sentence": term_coverage(focus, best.text),
        "focus_coverage_evidence": term_coverage(focus, evidence),
        "ask_coverage_sentence": term_coverage(ask, best.text),
        "ask_coverage_evidence": term_coverage(ask, evidence),
        # Relative, not absolute: how far the best sentence stands out from the rest of the
        # evidence, which carries over between corpora better than a raw cosine does.
        "similarity_above_mean": best.similarity - sum(s.similarity for s in scored) / len(scored),
    }


def _contains_run(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


_LINKING = frozenset({"of", "the", "in", "for"})


def _possessive_supported(phrase: str, evidence_phrases: list[str]) -> bool:
    """ "NATO's Southern Neighbourhood" is named by "NATO ... for the Southern Neighbourhood":
    the head must start a name (or follow a linking word) in a phrase that also names the owner.
    """
    owner_text, _, head_text = re.split(r"(['’]s)\b", phrase, maxsplit=1)[0::1][:3]
    owner = {w for w in words(owner_text) if w not in STOPWORDS}
    head = tuple(w for w in words(head_text) if w not in STOPWORDS)
    if not owner or not head:
        return False
    for evidence in evidence_phrases:
        tokens = tuple(words(evidence))
        for i in range(len(tokens) - len(head) + 1):
            starts_name = i == 0 or tokens[i - 1] in _LINKING
            if tokens[i : i + len(head)] == head and starts_name and owner <= set(tokens):
                return True
    return False


def unsupported_names(question: str, evidence: str) -> list[str]:
    """Named things the question asks about that the evidence never names.

    A rule, not a fitted feature: "Who is NATO's Secretary General?" cannot be answered from a
    text that only names an *Assistant* Secretary General, so each capitalised phrase of the
    question must occur as a contiguous run inside one capitalised phrase of the evidence (for
    "X's Y", Y may instead start a name of the evidence that also mentions X). Lower-case
    questions (as in ClapNQ) have no such phrases, so this rule was not fitted on data.
    """
    asked = named_phrases_with_text(question, skip_first_word=True)
    if not asked:  # most questions: no need to read the evidence at all
        return []
    raw_evidence = capitalised_phrases(evidence)
    evidence_phrases = named_phrases(evidence)
    evidence_words = set(words(evidence))
    # Hyphenated words also count by their parts ("al-Araji" names "Araji").
    evidence_words |= {part for word in evidence_words for part in word.split("-") if part}
    missing = []
    for raw, phrase in asked:
        if len(phrase) == 1:
            found = phrase[0] in evidence_words
        else:
            found = any(_contains_run(e, phrase) for e in evidence_phrases) or (
                bool(re.search(r"\w['’]s\b", raw)) and _possessive_supported(raw, raw_evidence)
            )
        if not found:
            missing.append(" ".join(phrase))
    return missing


@dataclass(frozen=True)
class AbstentionModel:
    """Standardised logistic regression: ``p = sigmoid(w . (x - mean) / scale + b)``."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float
    threshold: float

    def probability(self, features: dict[str, float]) -> float:
        """Estimated probability that the documents answer the question."""
        z = self.bias + sum(
            w * (features.get(name, 0.0) - m) / s
            for name, m, s, w in zip(
                self.features, self.mean, self.scale, self.weights, strict=True
            )
        )
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def from_json(cls, data: dict[str, object]) -> AbstentionModel:
        def floats(key: str) -> tuple[float, ...]:
            return tuple(float(v) for v in data[key])  # type: ignore[attr-defined]

        return cls(
            features=tuple(str(f) for f in data["features"]),  # type: ignore[attr-defined]
            mean=floats("mean"),
            scale=floats("scale"),
            weights=floats("weights"),
            bias=float(data["bias"]),  # type: ignore[arg-type]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
        )


@lru_cache(maxsize=1)
def default_model() -> AbstentionModel:
    """The calibrated model shipped with docqa."""
    return AbstentionModel.from_json(json.loads(MODEL_PATH.read_text(encoding="utf-8")))


def fit_logistic(
    x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Fit standardised L2-regularised logistic regression by Newton's method.

    Returns ``(mean, scale, weights, bias)``.
    """
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    z = np.hstack([(x - mean) / scale, np.ones((len(x), 1))])
    beta = np.zeros(z.shape[1])
    penalty = np.eye(z.shape[1]) * l2
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ beta, -30, 30)))
        gradient = z.T @ (p - y) + penalty @ beta
        hessian = (z * (p * (1 - p))[:, None]).T @ z + penalty
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return mean, scale, beta[:-1], float(beta[-1])
