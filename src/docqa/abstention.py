"""Stage 2 of every question: deciding whether the documents answer it at all.

``decide`` runs before any answer is written: a small logistic model over the evidence features
(``features.py``), fitted on the ClapNQ benchmark questions (``eval/clapnq_tune.py calibrate``
writes ``abstention.json`` beside this module, recording the data it was fitted on and the
operating point it reaches), plus one rule: every name the question asks about must be named in
the evidence. ``review`` runs after the answerer: an answer without a supported sentence, or
without the amount, date or name its question asks for, becomes an abstention. No feature or
rule names a question, phrase or document.

Example:
    >>> decision = decide(evidence, default_model())
    >>> decision.code, decision.message, decision.confidence
    ('answer', 'confidence 0.91 reaches the threshold 0.53', 0.91)
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from docqa.answer_types import TaggedText, missing_answer_type
from docqa.lexical import (
    STOPWORDS,
    capitalised_phrases,
    initials,
    named_phrases,
    named_phrases_with_text,
    words,
)
from docqa.models import AbstentionCode, AbstentionReason, Citation

if TYPE_CHECKING:
    from docqa.evidence import Evidence

MODEL_PATH = Path(__file__).with_name("abstention.json")
READER_MODEL_PATH = Path(__file__).with_name("abstention-reader.json")

ANSWER = "answer"
"""The ``Decision.code`` of a decision to answer."""


def _contains_run(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


_LINKING = frozenset({"of", "the", "in", "for"})


def _possessive_supported(phrase: str, evidence_phrases: Sequence[str]) -> bool:
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


@dataclass(frozen=True)
class _EvidenceNames:
    """What ``unsupported_names`` reads from the evidence: its capitalised phrases as written
    and normalised, its words (hyphenated ones also by their parts) and their acronyms."""

    raw: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]
    words: frozenset[str]
    abbreviated: frozenset[str]


# The same evidence comes back question after question (the same top chunks of a corpus, the same
# candidate sentences): reading its names was ~0.7 ms of a NATO question, now read once.
@lru_cache(maxsize=1024)
def _evidence_names(evidence: str) -> _EvidenceNames:
    raw = tuple(capitalised_phrases(evidence))
    found = set(words(evidence))
    # Hyphenated words also count by their parts ("al-Araji" names "Araji").
    found |= {part for word in found for part in word.split("-") if part}
    return _EvidenceNames(
        raw=raw,
        phrases=tuple(named_phrases(evidence)),
        words=frozenset(found),
        abbreviated=frozenset(a for p in raw for a in initials(p)),
    )


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
    named = _evidence_names(evidence)
    missing = []
    for raw, phrase in asked:
        if len(phrase) == 1:
            # "NMI" names "NATO Mission in Iraq" when the evidence spells it out.
            found = phrase[0] in named.words or raw.strip() in named.abbreviated
        else:
            found = any(_contains_run(e, phrase) for e in named.phrases) or (
                bool(re.search(r"\w['’]s\b", raw)) and _possessive_supported(raw, named.raw)
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

    def probability(self, features: Mapping[str, float]) -> float:
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


@lru_cache(maxsize=1)
def reader_model() -> AbstentionModel:
    """The calibrated model for the ``reader`` answerer: it also reads the reader's judgement
    (``evidence.READER_FEATURES``)."""
    return AbstentionModel.from_json(json.loads(READER_MODEL_PATH.read_text(encoding="utf-8")))


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


@dataclass(frozen=True)
class Decision:
    """Whether to answer, how sure docqa is, and, when it abstains, why.

    Attributes:
        confidence: Estimated probability that the documents answer the question (0..1).
        threshold: The confidence needed to answer.
        reason: Why docqa abstains; None when it answers.
    """

    confidence: float
    threshold: float
    reason: AbstentionReason | None = None

    @property
    def answers(self) -> bool:
        """True when docqa answers."""
        return self.reason is None

    @property
    def code(self) -> str:
        """``"answer"``, or the ``AbstentionCode`` of the abstention."""
        return ANSWER if self.reason is None else self.reason.code.value

    @property
    def message(self) -> str:
        """Why, in words."""
        if self.reason is not None:
            return self.reason.message
        return f"confidence {self.confidence:.2f} reaches the threshold {self.threshold:.2f}"

    def abstain(self, code: AbstentionCode, message: str) -> Decision:
        """This decision turned into an abstention (the confidence stays as estimated)."""
        return Decision(self.confidence, self.threshold, AbstentionReason(code, message))


def decide(evidence: Evidence, model: AbstentionModel, threshold: float | None = None) -> Decision:
    """Answer or abstain, before any answer is written.

    In order: no evidence at all; a name of the question missing from the evidence; confidence
    below ``threshold`` (None: the model's calibrated threshold).
    """
    confidence = model.probability(evidence.features)
    decision = Decision(confidence, model.threshold if threshold is None else threshold)
    if not evidence.sentences:
        return decision.abstain(
            AbstentionCode.NO_EVIDENCE, "no passage of the documents matches the question"
        )
    missing = unsupported_names(evidence.query, " ".join(r.chunk.text for r in evidence.retrieved))
    if missing:
        return decision.abstain(
            AbstentionCode.NAME_NOT_FOUND, "not named in the documents: " + ", ".join(missing)
        )
    if confidence < decision.threshold:
        return decision.abstain(
            AbstentionCode.LOW_CONFIDENCE,
            f"confidence {confidence:.2f} is below the threshold {decision.threshold:.2f}",
        )
    return decision


def review(decision: Decision, evidence: Evidence, citations: tuple[Citation, ...]) -> Decision:
    """Check a written answer: it must cite something, and hold what its question asks for.

    Args:
        decision: The decision the answer was written under.
        evidence: What the answer was written from (its standalone question, and the entities of
            the sentences the answer cites).
        citations: The answer's citations (an answerer cites every sentence it keeps).
    """
    if not decision.answers:
        return decision
    if not citations:
        return decision.abstain(
            AbstentionCode.UNSUPPORTED_ANSWER,
            "no sentence of the answer is supported by the documents",
        )
    # Only the cited sentences' entities are read (``tagged`` filters the chunk's entities).
    scored = {(s.chunk.doc_id, s.span): s for s in evidence.sentences}
    cited = [scored.get((c.doc_id, (c.start, c.end))) for c in citations]
    answer = [
        TaggedText(c.quote) if s is None else s.tagged
        for c, s in zip(citations, cited, strict=True)
    ]
    lacking = missing_answer_type(evidence.query, answer)
    if lacking is not None:
        return decision.abstain(
            AbstentionCode.ANSWER_TYPE_MISSING,
            f"the question asks for {lacking}; the answer has none",
        )
    return decision
