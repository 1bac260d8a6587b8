"""Evaluation (``docqa eval``, ``make eval``): question sets, metrics, reports with plots.

Importable without its ``[eval]`` extra; only writing a report's plots needs matplotlib.
``import docqa`` never loads this package.

Example:
    >>> from docqa.evaluation import run_eval
    >>> summary = run_eval(Path("corpus"), Path("eval/questions.jsonl"), Path("eval/reports"))
    >>> summary.metrics["answer_correctness"]
"""

from __future__ import annotations

from docqa.evaluation.run import (
    ask_question,
    failures,
    load_questions,
    prepare_corpus,
    run_eval,
    sample_questions,
    score_answer,
)
from docqa.evaluation.types import EvalQuestion, EvalSummary, QuestionResult

__all__ = [
    "EvalQuestion",
    "EvalSummary",
    "QuestionResult",
    "ask_question",
    "failures",
    "load_questions",
    "prepare_corpus",
    "run_eval",
    "sample_questions",
    "score_answer",
]
