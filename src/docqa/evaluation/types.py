"""Typed records of an evaluation run: the question set, each question's outcome, the summary."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EvalQuestion:
    """One item of a question set.

    A single question has one turn; a conversation has several, and only the last turn is
    scored (the earlier ones are asked first and passed as history).

    Attributes:
        qid: Stable identifier.
        turns: The questions, in order; ``turns[-1]`` is the one scored.
        answerable: Whether the documents answer the (last) question.
        qtype: Category for per-type metrics (e.g. ``fact``, ``paraphrase``, ``multi-sentence``,
            ``unanswerable``, ``multi-turn``, or ClapNQ's ``answerable``/``unanswerable``).
        answers: Reference answers (for token F1 and ROUGE-L).
        key_phrases: Phrases a correct answer must contain (each one; case-insensitive).
        evidence: Exact quotes from the documents that support the answer.
        gold_doc_ids: Documents that hold the answer (retrieval is scored against these when
            no evidence quotes are given).
    """

    qid: str
    turns: tuple[str, ...]
    answerable: bool
    qtype: str
    answers: tuple[str, ...] = ()
    key_phrases: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()
    gold_doc_ids: tuple[str, ...] = ()

    @property
    def question(self) -> str:
        """The question that is scored."""
        return self.turns[-1]


@dataclass(frozen=True)
class QuestionResult:
    """What happened to one question, with every per-question metric.

    ``None`` means "not applicable" (e.g. answer metrics of an unanswerable question).
    """

    qid: str
    qtype: str
    question: str
    answerable: bool
    answer: str
    abstained: bool
    confidence: float
    rule_abstained: bool
    standalone_question: str
    citations: tuple[dict[str, object], ...]
    expected: str
    retrieved_doc_ids: tuple[str, ...]
    recall_at_k: float | None
    reciprocal_rank: float | None
    key_phrase_match: float | None
    token_f1: float | None
    rouge_l: float | None
    citation_validity: float | None
    citation_support: float | None
    latency: dict[str, float] = field(default_factory=dict)
    dropped: int = 0

    @property
    def correct(self) -> bool:
        """Answered and right (answerable), or abstained (unanswerable)."""
        if not self.answerable:
            return self.abstained
        return not self.abstained and (self.key_phrase_match or 0.0) >= 1.0


@dataclass(frozen=True)
class EvalSummary:
    """Aggregates of a run, overall and per question type."""

    name: str
    docs: str
    questions: str
    count: int
    metrics: dict[str, float | None]
    by_type: dict[str, dict[str, float | None]]
    latency: dict[str, dict[str, float]]
    tradeoff: list[dict[str, float]]
    operating_point: dict[str, float]
    threshold_fit_on: str
    settings: dict[str, object]
    results: list[QuestionResult]
