"""Running a question set against a corpus: ``docqa eval`` and ``make eval``.

Scoring needs no LLM judge: key phrases, token F1 and ROUGE-L against references, retrieval
against gold evidence quotes or document ids, citations checked against freshly extracted text.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from docqa.abstention import MODEL_PATH
from docqa.api import DocQA
from docqa.documents import load_corpus
from docqa.errors import ConfigurationError
from docqa.evaluation.metrics import (
    citation_support,
    citation_validity,
    key_phrase_match,
    retrieval_scores,
    rouge_l,
    summarize,
    token_f1,
)
from docqa.evaluation.report import write_report
from docqa.evaluation.types import EvalQuestion, EvalSummary, QuestionResult
from docqa.models import AbstentionCode, Answer


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        return tuple(str(v) for v in value)
    raise ValueError(f"expected a string or a list of strings, got {type(value).__name__}")


def parse_question(record: dict[str, Any]) -> EvalQuestion:
    """One record of either format: docqa's (``id``, ``question``/``turns``, ``type``, ...) or
    ClapNQ's (``qid``, ``question``, ``answers``, ``gold_doc_ids``, ``answerable``)."""
    qid = str(record.get("id") or record.get("qid") or "")
    turns = _strings(record.get("turns")) or _strings(record.get("question"))
    if not qid or not turns or "answerable" not in record:
        raise ValueError("each record needs an id (or qid), a question (or turns) and answerable")
    answerable = bool(record["answerable"])
    qtype = str(record.get("type") or ("answerable" if answerable else "unanswerable"))
    return EvalQuestion(
        qid=qid,
        turns=turns,
        answerable=answerable,
        qtype=qtype,
        answers=_strings(record.get("answers")),
        key_phrases=_strings(record.get("key_phrases")),
        # ClapNQ keeps its annotators' evidence sentences under meta.selected_sentences.
        evidence=_strings(record.get("evidence"))
        or _strings((record.get("meta") or {}).get("selected_sentences")),
        gold_doc_ids=_strings(record.get("gold_doc_ids")),
    )


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a ``.jsonl`` question set; a bad line is an error naming its line number."""
    if not path.is_file():
        raise ConfigurationError(f"Question file {path} does not exist. Pass --questions PATH.")
    questions: list[EvalQuestion] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            questions.append(parse_question(json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise ConfigurationError(f"{path} line {number}: {exc}. Fix or remove it.") from None
    if not questions:
        raise ConfigurationError(f"Question file {path} holds no questions.")
    return questions


def sample_questions(questions: list[EvalQuestion], size: int, seed: int) -> list[EvalQuestion]:
    """A reproducible sample, half answerable and half not (as far as each side allows)."""
    if size >= len(questions):
        return questions
    rng = random.Random(seed)
    answerable = [q for q in questions if q.answerable]
    other = [q for q in questions if not q.answerable]
    take = min(len(answerable), size - min(len(other), size // 2))
    chosen = rng.sample(answerable, take) + rng.sample(other, size - take)
    order = {q.qid: i for i, q in enumerate(questions)}
    return sorted(chosen, key=lambda q: order[q.qid])


def prepare_corpus(docs: Path, work_dir: Path) -> tuple[Path, Path]:
    """Corpus folder and index folder for ``docs`` (a folder, or one file such as docs.jsonl).

    A single file is copied into a folder of its own; each corpus gets its own index, keyed by
    its absolute path, so evaluations never disturb the user's main index.
    """
    docs = docs.expanduser().resolve()
    if not docs.exists():
        raise ConfigurationError(f"Documents {docs} do not exist. Pass --docs PATH.")
    key = hashlib.sha256(str(docs).encode()).hexdigest()[:12]
    index_dir = work_dir / f"index-{docs.name}-{key}"
    if docs.is_dir():
        return docs, index_dir
    corpus = work_dir / f"corpus-{docs.name}-{key}"
    corpus.mkdir(parents=True, exist_ok=True)
    target = corpus / docs.name
    if not target.exists() or target.read_bytes() != docs.read_bytes():
        shutil.copyfile(docs, target)
    return corpus, index_dir


def _expected(question: EvalQuestion) -> str:
    if not question.answerable:
        return "(abstain)"
    if question.key_phrases:
        return "must contain: " + "; ".join(question.key_phrases)
    return question.answers[0] if question.answers else ""


def score_answer(question: EvalQuestion, answer: Answer, texts: dict[str, str]) -> QuestionResult:
    """Every per-question metric of one answer."""
    retrieved = [(r.chunk.doc_id, r.chunk.text) for r in answer.retrieved]
    # Gold documents, where given, are the retrieval target (as the benchmark defines it);
    # evidence quotes then only judge citation support.
    target_quotes = () if question.gold_doc_ids else question.evidence
    recall, rr = retrieval_scores(retrieved, target_quotes, question.gold_doc_ids)
    answered = not answer.abstained
    graded = question.answerable
    text = answer.plain_text
    timings = answer.timings
    return QuestionResult(
        qid=question.qid,
        qtype=question.qtype,
        question=" → ".join(question.turns),
        answerable=question.answerable,
        answer=answer.text,
        abstained=answer.abstained,
        confidence=answer.confidence,
        rule_abstained=answer.abstention_reason is not None
        and answer.abstention_reason.code is not AbstentionCode.LOW_CONFIDENCE,
        standalone_question=answer.standalone_question,
        citations=tuple(c.to_dict() for c in answer.citations),
        expected=_expected(question),
        retrieved_doc_ids=tuple(dict.fromkeys(doc for doc, _ in retrieved)),
        recall_at_k=recall if graded else None,
        reciprocal_rank=rr if graded else None,
        key_phrase_match=(key_phrase_match(text, question.key_phrases) if answered else 0.0)
        if graded
        else None,
        token_f1=token_f1(text, question.answers) if graded and answered else None,
        rouge_l=rouge_l(text, question.answers) if graded and answered else None,
        citation_validity=citation_validity(answer.citations, texts) if answered else None,
        citation_support=citation_support(answer.citations, question.evidence, question.key_phrases)
        if graded and answered
        else None,
        latency={  # milliseconds
            "retrieve": 1000 * (timings.get("embed", 0.0) + timings.get("retrieve", 0.0)),
            "answer": 1000 * (timings.get("score", 0.0) + timings.get("answer", 0.0)),
            "total": 1000 * timings.get("total", 0.0),
        },
        dropped=len(answer.dropped),
    )


def ask_question(qa: DocQA, question: EvalQuestion) -> Answer:
    """Ask every turn in order, passing the conversation so far; return the last answer."""
    history: list[tuple[str, str]] = []
    answer: Answer | None = None
    for turn in question.turns:
        answer = qa.ask(turn, history)
        history.append((turn, answer.text))
    assert answer is not None  # parse_question guarantees at least one turn
    return answer


def threshold_provenance() -> str:
    """Which data the abstention threshold was fitted on (from the shipped model file)."""
    try:
        return str(json.loads(MODEL_PATH.read_text(encoding="utf-8")).get("fit_on", "unknown"))
    except (OSError, ValueError):
        return "unknown"


def run_eval(
    docs: Path,
    questions_path: Path,
    out_dir: Path | None,
    *,
    name: str | None = None,
    sample: int | None = None,
    seed: int = 0,
    work_dir: Path = Path(".docqa-eval"),
    progress: bool = True,
    qa: DocQA | None = None,
    overrides: dict[str, Any] | None = None,
) -> EvalSummary:
    """Index ``docs`` (incrementally), ask every question, score, and write the report.

    Example:
        >>> summary = run_eval(Path("corpus"), Path("eval/questions.jsonl"), Path("eval/reports"))
        >>> summary.metrics["answer_correctness"]
    """
    questions = load_questions(questions_path)
    if sample is not None:
        questions = sample_questions(questions, sample, seed)
    corpus_dir, index_dir = prepare_corpus(docs, work_dir)
    if qa is None:
        qa = DocQA(**{"corpus_dir": corpus_dir, "index_dir": index_dir, **(overrides or {})})
    qa.ingest(progress=progress)
    documents, _ = load_corpus(qa.settings.corpus_dir)
    texts = {d.doc_id: d.text for d in documents}
    results: list[QuestionResult] = []
    for question in tqdm(questions, desc="Evaluating", unit="q", disable=not progress):
        results.append(score_answer(question, ask_question(qa, question), texts))
    threshold = qa.settings.abstain_threshold
    if threshold is None:
        threshold = qa.abstention.threshold
    summary = summarize(
        name or questions_path.stem,
        str(docs),
        str(questions_path),
        results,
        threshold,
        threshold_provenance(),
        _settings_snapshot(qa, sample, seed),
    )
    if out_dir is not None:
        write_report(summary, out_dir)
    return summary


def _settings_snapshot(qa: DocQA, sample: int | None, seed: int) -> dict[str, object]:
    snapshot: dict[str, object] = {
        k: str(v) if isinstance(v, Path) else v for k, v in qa.settings.model_dump().items()
    }
    snapshot["sample"] = sample
    snapshot["seed"] = seed
    return snapshot


def failures(summary: EvalSummary, limit: int = 20) -> Sequence[QuestionResult]:
    """The questions that went wrong, for messages that say what broke."""
    return [r for r in summary.results if not r.correct][:limit]
