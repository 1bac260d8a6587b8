"""Evaluation metrics: pure, reproducible functions (no I/O, no model acting as judge)."""

from __future__ import annotations

import math
import re
import statistics
import string
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from docqa.citations import strip_markers
from docqa.evaluation.types import EvalSummary, QuestionResult
from docqa.models import Citation

_WORD = re.compile(r"\w+")
_LATENCY_ORDER = ("embed", "retrieve", "answer", "total")


def tokens(text: str) -> list[str]:
    """Lower-cased word tokens (unicode-aware); a curly apostrophe counts as a straight one."""
    return _WORD.findall(text.replace("\u2019", "'").lower())


_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)


def squad_tokens(text: str) -> list[str]:
    """Tokens after the official SQuAD normalisation: lower case, ASCII punctuation removed,
    articles (a, an, the) removed, split on whitespace."""
    return _ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split()


def _squash(text: str) -> str:
    return " ".join(text.split())


def _normalise(text: str) -> str:
    """Casefold, straighten apostrophes and collapse whitespace, for phrase look-ups."""
    return _squash(text.replace("\u2019", "'").replace("\u2018", "'").casefold())


def _common_tokens(a: Sequence[str], b: Sequence[str], *, contiguous: bool) -> int:
    """Longest common subsequence (or contiguous run): O(len(a)·len(b)), one rolling row."""
    best = 0
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0] * (len(b) + 1)
        for j, y in enumerate(b, start=1):
            if x == y:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
            elif not contiguous:
                cur[j] = max(prev[j], cur[j - 1])
        prev = cur
    return best


def _best_f1(candidate: str, references: Sequence[str], lcs: bool) -> float:
    tokenise = tokens if lcs else squad_tokens
    cand = tokenise(candidate)
    best = 0.0
    for ref in map(tokenise, references) if cand else ():
        if lcs:
            common = _common_tokens(cand, ref, contiguous=False)
        else:
            common = sum((Counter(cand) & Counter(ref)).values())
        # F1 = 2PR / (P + R) with P = common/|cand| and R = common/|ref|.
        best = max(best, 2 * common / (len(cand) + len(ref)))
    return best


def rouge_l(candidate: str, references: Sequence[str]) -> float:
    """ROUGE-L F1 (LCS over tokens) against the best reference; 0.0 if none or empty.

    Equal to ``rouge-score``'s ``rougeL`` F-measure (no stemming) on ASCII text (a parity test
    checks it); unlike it, letters outside ASCII count as word characters ("Café" stays one word).
    """
    return _best_f1(candidate, references, lcs=True)


def token_f1(candidate: str, references: Sequence[str]) -> float:
    """SQuAD token F1 (the official normalisation, ``squad_tokens``) against the best
    reference; 0.0 if there is none or the candidate is empty."""
    return _best_f1(candidate, references, lcs=False)


def key_phrase_match(answer: str, key_phrases: Sequence[str]) -> float:
    """Share of key phrases found in the normalised answer, ``[n]`` markers cut (1.0 if none)."""
    if not key_phrases:
        return 1.0
    text = _normalise(strip_markers(answer))
    return sum(_normalise(p) in text for p in key_phrases) / len(key_phrases)


def _overlaps(a: str, b: str, share_of: int) -> bool:
    """One text contains the other (whitespace-normalised), or their longest common token
    run covers at least half of ``share_of`` tokens."""
    sa, sb = _squash(a), _squash(b)
    if sa and sb and (sa in sb or sb in sa):
        return True
    return share_of > 0 and 2 * _common_tokens(tokens(a), tokens(b), contiguous=True) >= share_of


def chunk_is_relevant(
    chunk_text: str, doc_id: str, evidence: Sequence[str], gold_doc_ids: Sequence[str]
) -> bool:
    """Whether a retrieved chunk holds gold evidence (or, lacking quotes, is from a gold doc)."""
    if evidence:
        return any(_overlaps(chunk_text, q, len(tokens(q))) for q in evidence)
    return doc_id in gold_doc_ids


def _reciprocal_rank(hits: Sequence[bool]) -> float:
    return next((1.0 / rank for rank, hit in enumerate(hits, start=1) if hit), 0.0)


def retrieval_scores(
    retrieved: Sequence[tuple[str, str]],
    evidence: Sequence[str],
    gold_doc_ids: Sequence[str],
    k: int = 5,
    mrr_k: int = 10,
) -> tuple[float | None, float | None]:
    """Recall@k and reciprocal rank (within ``mrr_k``, else 0.0) of one question's retrieval.

    Args:
        retrieved: ``(doc_id, chunk_text)`` pairs, best first.
        evidence: Gold quotes; recall is then the share of quotes some top-k chunk covers.
        gold_doc_ids: Used without evidence: recall is 1.0 when one of the first k distinct
            documents is gold, and ranks count distinct documents.
        k: Cut-off for recall.
        mrr_k: Cut-off for the reciprocal rank.

    Returns:
        ``(recall, reciprocal_rank)``, both None when there is neither evidence nor gold ids.
    """
    if evidence:
        top = retrieved[:k]
        covered = sum(any(chunk_is_relevant(c, d, (q,), ()) for d, c in top) for q in evidence)
        hits = [chunk_is_relevant(text, doc, evidence, ()) for doc, text in retrieved[:mrr_k]]
        return covered / len(evidence), _reciprocal_rank(hits)
    if not gold_doc_ids:
        return None, None
    # Several chunks of one document would otherwise crowd the cut-off with a single hit.
    docs = list(dict.fromkeys(doc for doc, _ in retrieved))
    gold = set(gold_doc_ids)
    recall = 1.0 if any(doc in gold for doc in docs[:k]) else 0.0
    return recall, _reciprocal_rank([doc in gold for doc in docs[:mrr_k]])


def citation_validity(citations: Sequence[Citation], texts: Mapping[str, str]) -> float | None:
    """Share of citations whose quote is exactly ``texts[doc_id][start:end]`` (None if none).

    An unknown document, an out-of-range span or an empty quote makes a citation invalid.
    """
    if not citations:
        return None

    def valid(c: Citation) -> bool:
        text = texts.get(c.doc_id, "")
        return 0 <= c.start < c.end <= len(text) and c.quote == text[c.start : c.end]

    return sum(map(valid, citations)) / len(citations)


def citation_support(
    citations: Sequence[Citation], evidence: Sequence[str], key_phrases: Sequence[str]
) -> float | None:
    """Share of citations whose quote holds a key phrase or overlaps a gold evidence quote.

    Overlap: one contains the other (whitespace-normalised), or at least half of the shorter
    one's tokens form a common contiguous run. None when there are no citations.
    """
    if not citations:
        return None
    phrases = [_normalise(p) for p in key_phrases if p.strip()]

    def supported(quote: str) -> bool:
        if any(p in _normalise(quote) for p in phrases):
            return True
        n_quote = len(tokens(quote))
        return any(_overlaps(quote, e, min(n_quote, len(tokens(e)))) for e in evidence)

    return sum(supported(c.quote) for c in citations) / len(citations)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def abstention_scores(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    """Abstention ``precision``, ``recall`` and ``answered_rate``; None where a denominator is 0."""
    abstained = [r for r in results if r.abstained]
    hits = sum(not r.answerable for r in abstained)
    answerable = [r for r in results if r.answerable]
    return {
        "precision": _share(hits, len(abstained)),
        "recall": _share(hits, len(results) - len(answerable)),
        "answered_rate": _share(sum(not r.abstained for r in answerable), len(answerable)),
    }


def latency_stats(values: Sequence[float]) -> dict[str, float]:
    """``median``, ``p95`` (linear), ``mean``, ``max``, ``count`` of ms values (0s when empty)."""
    arr = np.asarray(values, dtype=float) if len(values) else np.zeros(1)
    median, p95 = (float(v) for v in np.percentile(arr, [50, 95], method="linear"))
    mean, top = float(arr.mean()), float(arr.max())
    return {"median": median, "p95": p95, "mean": mean, "max": top, "count": float(len(values))}


def tradeoff_curve(
    results: Sequence[QuestionResult], thresholds: Sequence[float] | None = None
) -> list[dict[str, float]]:
    """Replay the recorded confidences over abstention thresholds (default 0.00..1.00 by 0.01).

    At ``t`` a question is answered when ``confidence >= t`` and no hard rule abstained.
    ``answered``: share of answerable answered; ``abstained``: share of unanswerable abstained on;
    ``correct_answered``: share of those answered whose recorded ``key_phrase_match`` is 1 (it
    belongs to the answer actually given, so a question abstained on in the run counts as not
    correct: pessimistic below the run's threshold). A share with denominator 0 is 0.0.
    """
    grid = [i / 100 for i in range(101)] if thresholds is None else list(thresholds)
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    n_un = len(unanswerable)
    curve = []
    for t in grid:
        answered = [r for r in answerable if r.confidence >= t and not r.rule_abstained]
        held_back = sum(r.rule_abstained or r.confidence < t for r in unanswerable)
        right = sum((r.key_phrase_match or 0.0) >= 1.0 for r in answered)
        point = {"threshold": t, "answered": _share(len(answered), len(answerable)) or 0.0}
        point["abstained"] = _share(held_back, n_un) or 0.0
        point["correct_answered"] = _share(right, len(answered)) or 0.0
        curve.append(point)
    return curve


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    # fsum keeps an all-1.0 column at exactly 1.0.
    return math.fsum(present) / len(present) if present else None


def _metrics(results: Sequence[QuestionResult]) -> dict[str, float | None]:
    answerable = [r for r in results if r.answerable]
    answered = [r for r in answerable if not r.abstained]
    given = [r for r in results if not r.abstained]
    abst = abstention_scores(results)
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(results) - len(answerable),
        "recall_at_5": _mean([r.recall_at_k for r in results]),
        "mrr_at_10": _mean([r.reciprocal_rank for r in results]),
        "answer_correctness": _share(sum(r.correct for r in answerable), len(answerable)),
        "key_phrase_match": _mean([r.key_phrase_match for r in answered]),
        "token_f1": _mean([r.token_f1 for r in answered]),
        "rouge_l": _mean([r.rouge_l for r in answered]),
        "rouge_l_all": _mean([0.0 if r.abstained else (r.rouge_l or 0.0) for r in answerable]),
        "citation_validity": _mean([r.citation_validity for r in given]),
        "citation_support": _mean([r.citation_support for r in given]),
        "abstention_precision": abst["precision"],
        "abstention_recall": abst["recall"],
        "answered_rate": abst["answered_rate"],
        "abstained_at_answered_80": abstained_at_answered(results, 0.8),
        "sentences_per_answer": _median([float(len(r.citations)) for r in given]),
        # Generated sentences the grounding guard removed (0 for the extractive answerer).
        "sentences_dropped": float(sum(r.dropped for r in results)),
    }


def _median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None


def abstained_at_answered(results: Sequence[QuestionResult], answered: float) -> float | None:
    """The share of unanswerable questions abstained on at the highest threshold that still
    answers at least ``answered`` of the answerable ones (read off ``tradeoff_curve``): how well
    the confidence separates the two kinds, whatever threshold a corpus would need. None when
    either kind is missing or no threshold answers that many."""
    if not any(r.answerable for r in results) or all(r.answerable for r in results):
        return None
    points = [p for p in tradeoff_curve(results) if p["answered"] >= answered]
    return max((p["abstained"] for p in points), default=None)


def summarize(
    name: str,
    docs: str | Path,
    questions: str | Path,
    results: Sequence[QuestionResult],
    threshold: float,
    threshold_fit_on: str,
    settings: Mapping[str, object],
) -> EvalSummary:
    """Aggregate per-question results into an :class:`EvalSummary`.

    ``docs`` and ``questions`` are the corpus and question-set paths shown in reports;
    ``threshold`` is the abstention threshold the run used, ``threshold_fit_on`` names the
    question set it was fit on. ``operating_point`` comes from the actual results (answered rate
    and abstention recall, 0.0 when not applicable), not from the replayed curve.
    """
    # Pipeline order first, then any other stage in order of appearance (the sort is stable).
    stages = sorted(
        dict.fromkeys(s for r in results for s in r.latency),
        key=lambda s: _LATENCY_ORDER.index(s) if s in _LATENCY_ORDER else len(_LATENCY_ORDER),
    )
    metrics = _metrics(results)
    return EvalSummary(
        name=name,
        docs=str(docs),
        questions=str(questions),
        count=len(results),
        metrics=metrics,
        by_type={
            t: _metrics([r for r in results if r.qtype == t])
            for t in dict.fromkeys(r.qtype for r in results)
        },
        latency={
            s: latency_stats([r.latency[s] for r in results if s in r.latency]) for s in stages
        },
        tradeoff=tradeoff_curve(results),
        operating_point={
            "threshold": threshold,
            "answered": metrics["answered_rate"] or 0.0,
            "abstained": metrics["abstention_recall"] or 0.0,
        },
        threshold_fit_on=threshold_fit_on,
        settings=dict(settings),
        results=list(results),
    )
