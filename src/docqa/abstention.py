"""Deciding whether the documents answer a question at all.

A small logistic model over evidence features, fitted on the ClapNQ benchmark questions
(``eval/calibrate.py`` writes ``abstention.json`` beside this module and records the data it was
fitted on and the operating point it reaches). No feature names a question, phrase or document.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from docqa.answering import ScoredSentence, term_coverage
from docqa.lexical import content_terms, names, numbers
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
)

_YEAR_OR_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2})\b|\b(January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b|\b(century|decade|ago|since|until|during)\b",
    re.IGNORECASE,
)
_QUANTITY = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
                       r"thousand|million|billion|dozen|several|many|few)\b", re.IGNORECASE)
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


def _overlap(needles: set[str], haystack: set[str]) -> float:
    return 1.0 if not needles else len(needles & haystack) / len(needles)


def extract_features(
    question: str, retrieved: Sequence[RetrievedChunk], scored: Sequence[ScoredSentence]
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
    }


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
            for name, m, s, w in zip(self.features, self.mean, self.scale, self.weights, strict=True)
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
