"""Metrics of the evaluation suite, checked against hand-computed values."""

from __future__ import annotations

import pytest

from docqa.evaluation.metrics import (
    abstention_scores,
    chunk_is_relevant,
    citation_support,
    citation_validity,
    key_phrase_match,
    latency_stats,
    retrieval_scores,
    rouge_l,
    summarize,
    token_f1,
    tokens,
    tradeoff_curve,
)
from docqa.evaluation.types import QuestionResult
from docqa.models import Citation


def make_result(
    qid: str,
    *,
    answerable: bool = True,
    abstained: bool = False,
    qtype: str = "fact",
    confidence: float = 0.5,
    rule_abstained: bool = False,
    scores: tuple[float | None, ...] = (None,) * 7,
    latency: dict[str, float] | None = None,
) -> QuestionResult:
    """A result; ``scores`` = recall, rr, key phrases, token F1, ROUGE-L, validity, support."""
    recall, rr, kpm, f1, rl, validity, support = scores
    return QuestionResult(
        qid=qid,
        qtype=qtype,
        question=f"question {qid}?",
        answer="The documents do not contain an answer." if abstained else f"answer {qid} [1]",
        abstained=abstained,
        answerable=answerable,
        confidence=confidence,
        rule_abstained=rule_abstained,
        standalone_question=f"question {qid}?",
        citations=(),
        expected="",
        retrieved_doc_ids=(),
        recall_at_k=recall,
        reciprocal_rank=rr,
        key_phrase_match=kpm,
        token_f1=f1,
        rouge_l=rl,
        citation_validity=validity,
        citation_support=support,
        latency=latency or {},
    )


def cite(quote: str, doc_id: str = "d", start: int = 0, end: int | None = None) -> Citation:
    end = len(quote) if end is None else end
    return Citation(1, doc_id, doc_id, doc_id, start, end, quote, 1.0)


def test_tokens_are_lowercase_unicode_and_straighten_apostrophes() -> None:
    assert tokens("Ça VA? It’s 42.") == ["ça", "va", "it", "s", "42"]
    assert tokens("It’s") == tokens("it's")


def test_rouge_l_known_lcs() -> None:
    # LCS("the cat sat on the mat", "the cat was on the mat") = 5 of 6 tokens each way.
    assert rouge_l("The cat sat on the mat", ["the cat was on the mat"]) == pytest.approx(5 / 6)
    # LCS = 2 ("a c"): P = 2/4, R = 2/2, F1 = 2/3; the best reference wins.
    assert rouge_l("a b c d", ["x y", "a c"]) == pytest.approx(2 / 3)
    assert rouge_l("b a", ["a b"]) == pytest.approx(0.5)  # order matters, unlike token F1
    assert rouge_l("", ["a"]) == 0.0
    assert rouge_l("a", []) == 0.0


def test_rouge_l_is_fast_enough_for_long_texts() -> None:
    text = " ".join(f"w{i % 50}" for i in range(300))
    assert rouge_l(text, [text]) == pytest.approx(1.0)


def test_token_f1_counts_a_bag_of_tokens() -> None:
    # common = sat×2 + cat = 3; P = 3/3, R = 3/5, F1 = 0.75.
    assert token_f1("sat cat sat", ["sat sat dog cat mouse"]) == pytest.approx(0.75)
    # SQuAD normalisation: articles and punctuation do not count.
    assert token_f1("the cat the", ["the the dog cat mouse"]) == pytest.approx(0.5)
    assert token_f1("b a", ["a b"]) == pytest.approx(1.0)
    assert token_f1("x", ["a", "x y"]) == pytest.approx(2 / 3)
    assert token_f1("", ["a"]) == 0.0
    assert token_f1("a", []) == 0.0


def test_key_phrase_match_normalises_case_apostrophes_markers_and_spaces() -> None:
    answer = "It’s PARIS, the capital [1] city of France [2]. Rome[3] is\n  elsewhere."
    assert key_phrase_match(answer, ["it's paris", "capital city", "france. rome"]) == 1.0
    assert key_phrase_match(answer, ["Rome is elsewhere", "berlin"]) == 0.5
    assert key_phrase_match(answer, ["[1]"]) == 0.0  # markers are not part of the answer
    assert key_phrase_match("anything", []) == 1.0


def test_chunk_is_relevant_with_evidence_and_with_doc_ids() -> None:
    quote = "alpha beta gamma delta"
    assert chunk_is_relevant("x alpha  beta\ngamma delta y", "d9", [quote], ["d1"])
    assert chunk_is_relevant("beta gamma", "d9", [quote], [])  # the quote contains the chunk
    assert chunk_is_relevant("Gamma delta, and more.", "d9", [quote], [])  # run 2 of 4 tokens
    assert not chunk_is_relevant("delta only here", "d9", [quote], [])  # run 1 of 4
    assert not chunk_is_relevant("", "d1", [quote], ["d1"])  # evidence wins over doc ids
    assert chunk_is_relevant("anything", "d1", [], ["d1"])
    assert not chunk_is_relevant("anything", "d2", [], ["d1"])


def test_retrieval_scores_with_evidence() -> None:
    evidence = ["the sky is blue", "grass is green"]
    retrieved = [("d1", "Nothing here."), ("d2", "We know the sky is blue today.")]
    retrieved += [("d3", "filler")] * 4 + [("d4", "Grass is green.")]
    assert retrieval_scores(retrieved, evidence, []) == (0.5, 0.5)
    assert retrieval_scores(retrieved, evidence, [], k=7) == (1.0, 0.5)
    assert retrieval_scores(retrieved, evidence, [], k=1) == (0.0, 0.5)
    assert retrieval_scores(retrieved, evidence, [], mrr_k=1) == (0.5, 0.0)


def test_retrieval_scores_with_doc_ids_count_distinct_documents() -> None:
    retrieved = [("a", "x"), ("a", "y"), ("b", "z"), ("c", "w")]
    assert retrieval_scores(retrieved, [], ["c"], k=2) == (0.0, pytest.approx(1 / 3))
    assert retrieval_scores(retrieved, [], ["c"], k=3) == (1.0, pytest.approx(1 / 3))
    assert retrieval_scores(retrieved, [], ["c", "a"]) == (1.0, 1.0)
    assert retrieval_scores(retrieved, [], ["c"], mrr_k=2) == (1.0, 0.0)
    assert retrieval_scores(retrieved, [], []) == (None, None)


def test_citation_validity_rejects_wrong_spans_and_missing_documents() -> None:
    texts = {"d": "Hello world. Bye."}
    good = cite("Hello world.")
    shifted = cite("Hello world.", start=1, end=13)
    missing = cite("Hello world.", doc_id="nope")
    assert citation_validity([good], texts) == 1.0
    assert citation_validity([good, shifted, missing], texts) == pytest.approx(1 / 3)
    assert citation_validity([cite("", start=0, end=0)], texts) == 0.0
    assert citation_validity([], texts) is None


def test_citation_support() -> None:
    evidence = ["The capital of France is Paris and it is large."]
    quotes = [
        "PARIS is nice.",  # key phrase
        "The capital  of France is",  # contained in the evidence
        "Capital of France is lovely indeed ok",  # run of 4 ≥ half of 7 tokens
        "Of France we talk a lot more",  # run of 2 < half of 7
        "Something unrelated.",
    ]
    support = citation_support([cite(q) for q in quotes], evidence, ["paris"])
    assert support == pytest.approx(3 / 5)
    assert citation_support([cite("paris")], [], []) == 0.0
    assert citation_support([], evidence, ["paris"]) is None


def test_abstention_scores() -> None:
    results = [
        make_result("a1"),
        make_result("a2", abstained=True),
        make_result("u1", answerable=False, abstained=True),
        make_result("u2", answerable=False),
        make_result("u3", answerable=False, abstained=True),
    ]
    scores = abstention_scores(results)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(2 / 3)
    assert scores["answered_rate"] == pytest.approx(1 / 2)
    assert abstention_scores([]) == {"precision": None, "recall": None, "answered_rate": None}


def test_latency_stats() -> None:
    stats = latency_stats([40.0, 10.0, 30.0, 20.0])
    # p95 (linear): position 0.95 * 3 = 2.85 between 30 and 40.
    assert stats == {
        "median": 25.0,
        "p95": pytest.approx(38.5),
        "mean": 25.0,
        "max": 40.0,
        "count": 4,
    }
    assert latency_stats([])["count"] == 0


def test_tradeoff_curve_is_monotonic_and_respects_hard_rules() -> None:
    results = [
        make_result("a1", confidence=0.2),
        make_result("a2", confidence=0.8, scores=(None, None, 1.0, None, None, None, None)),
        make_result("a3", confidence=0.99, rule_abstained=True, abstained=True),
        make_result("u1", answerable=False, confidence=0.1),
        make_result("u2", answerable=False, confidence=0.5),
    ]
    curve = tradeoff_curve(results)
    assert [p["threshold"] for p in curve] == [i / 100 for i in range(101)]
    answered = [p["answered"] for p in curve]
    abstained = [p["abstained"] for p in curve]
    assert all(a >= b for a, b in zip(answered, answered[1:], strict=False))
    assert all(a <= b for a, b in zip(abstained, abstained[1:], strict=False))
    assert max(answered) == pytest.approx(2 / 3)  # a3 is never answered: a rule abstained
    at = {p["threshold"]: p for p in curve}
    assert at[0.5] == {
        "threshold": 0.5,
        "answered": pytest.approx(1 / 3),
        "abstained": 0.5,
        "correct_answered": 1.0,
    }
    assert at[0.0]["correct_answered"] == 0.5  # a1's missing key-phrase score counts as wrong
    assert at[1.0] == {"threshold": 1.0, "answered": 0.0, "abstained": 1.0, "correct_answered": 0}
    only_answerable = tradeoff_curve(results[:3], thresholds=[0.0])
    assert only_answerable[0]["abstained"] == 0.0  # no unanswerable questions: 0.0, not None


def _run() -> list[QuestionResult]:
    lat = {"total": 110.0, "answer": 100.0, "retrieve": 10.0}
    return [
        make_result("f1", confidence=0.9, scores=(1.0, 1.0, 1.0, 0.8, 0.6, 1.0, 1.0), latency=lat),
        make_result("f2", confidence=0.7, scores=(0.5, 0.5, 0.5, 0.4, 0.2, 1.0, 0.5), latency=lat),
        make_result(
            "p1",
            qtype="paraphrase",
            abstained=True,
            confidence=0.2,
            scores=(0.0, 0.0) + (None,) * 5,
        ),
        make_result("u1", qtype="unanswerable", answerable=False, abstained=True, confidence=0.1),
        make_result(
            "u2",
            qtype="unanswerable",
            answerable=False,
            confidence=0.6,
            scores=(None,) * 5 + (1.0, 0.0),
            latency={"retrieve": 30.0, "embed": 5.0},
        ),
    ]


def test_summarize_overall_metrics() -> None:
    summary = summarize("run", "docs/", "q.jsonl", _run(), 0.65, "dev.jsonl", {"k": 5})
    m = summary.metrics
    assert list(m) == [
        "questions", "answerable", "unanswerable", "recall_at_5", "mrr_at_10",
        "answer_correctness", "key_phrase_match", "token_f1", "rouge_l", "rouge_l_all",
        "citation_validity", "citation_support", "abstention_precision", "abstention_recall",
        "answered_rate", "abstained_at_answered_80", "sentences_per_answer", "sentences_dropped",
    ]  # fmt: skip
    assert m["sentences_dropped"] == 0.0
    # Every answerable question is answered up to threshold 0.2 (p1's confidence), where u1
    # (0.1) is abstained on and u2 (0.6) is not.
    assert m["abstained_at_answered_80"] == 0.5
    assert m["sentences_per_answer"] == 0.0  # these results carry no citations
    assert (m["questions"], m["answerable"], m["unanswerable"]) == (5, 3, 2)
    assert m["recall_at_5"] == m["mrr_at_10"] == pytest.approx(0.5)
    assert m["answer_correctness"] == pytest.approx(1 / 3)
    assert m["key_phrase_match"] == pytest.approx(0.75)
    assert m["token_f1"] == pytest.approx(0.6)
    assert m["rouge_l"] == pytest.approx(0.4)
    assert m["rouge_l_all"] == pytest.approx(0.8 / 3)
    assert m["citation_validity"] == 1.0  # exactly
    assert m["citation_support"] == pytest.approx(0.5)
    assert m["abstention_precision"] == m["abstention_recall"] == 0.5
    assert m["answered_rate"] == pytest.approx(2 / 3)
    assert (summary.name, summary.docs, summary.questions, summary.count) == (
        "run", "docs/", "q.jsonl", 5
    )  # fmt: skip
    assert summary.threshold_fit_on == "dev.jsonl" and summary.settings == {"k": 5}
    assert [r.qid for r in summary.results] == ["f1", "f2", "p1", "u1", "u2"]


def test_summarize_by_type_latency_and_operating_point() -> None:
    summary = summarize("run", "docs/", "q.jsonl", _run(), 0.65, "dev.jsonl", {})
    assert list(summary.by_type) == ["fact", "paraphrase", "unanswerable"]
    assert all(list(m) == list(summary.metrics) for m in summary.by_type.values())
    fact, para, unans = (summary.by_type[t] for t in ("fact", "paraphrase", "unanswerable"))
    assert (fact["questions"], fact["answer_correctness"]) == (2, 0.5)
    assert fact["token_f1"] == pytest.approx(0.6)
    assert fact["abstention_precision"] is None and fact["abstention_recall"] is None
    assert para["answered_rate"] == 0.0 and para["rouge_l"] is None and para["rouge_l_all"] == 0
    assert unans["abstention_recall"] == 0.5 and unans["answer_correctness"] is None
    # Pipeline order, whatever order the results recorded them in.
    assert list(summary.latency) == ["embed", "retrieve", "answer", "total"]
    assert summary.latency["retrieve"]["count"] == 3
    assert summary.latency["retrieve"]["median"] == 10.0
    assert summary.latency["embed"]["max"] == 5.0
    assert len(summary.tradeoff) == 101
    # The replayed curve says u2 (confidence 0.6) would be abstained on at 0.65, but it was
    # answered in the run: the operating point reports what actually happened.
    assert summary.tradeoff[65]["abstained"] == 1.0
    assert summary.operating_point == {
        "threshold": 0.65,
        "answered": pytest.approx(2 / 3),
        "abstained": 0.5,
    }


def test_summarize_of_nothing_is_all_none() -> None:
    summary = summarize("empty", "d", "q", [], 0.5, "none", {})
    assert summary.metrics["questions"] == 0
    assert summary.metrics["answer_correctness"] is None
    assert summary.by_type == {} and summary.latency == {}
    assert summary.operating_point == {"threshold": 0.5, "answered": 0.0, "abstained": 0.0}
