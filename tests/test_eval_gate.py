"""The evaluation gate: CI fails when a metric falls below its floor in eval/floors.json.

Runs the real pipeline (real embedding model, real Chroma store) on the NATO–Iraq question set
and on a 60-question sample of the ClapNQ benchmark, with the default answerer and with the
reader (floors ``nato_reader`` and ``clapnq_sample_reader``). A failure names the metric, its
value, the floor, and the questions that went wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from docqa import DocQA
from docqa.evaluation import failures, prepare_corpus, run_eval
from docqa.evaluation.types import EvalSummary

ROOT = Path(__file__).resolve().parents[1]
FLOORS = json.loads((ROOT / "eval" / "floors.json").read_text(encoding="utf-8"))
CLAPNQ = ROOT / "eval" / "data" / "clapnq"
ARTIFACTS = ROOT / "test-artifacts"


def _check(summary: EvalSummary, floors: dict[str, float]) -> list[str]:
    broken = []
    for metric, floor in floors.items():
        value = summary.metrics.get(metric)
        if value is None or value < floor:
            broken.append(f"{metric} = {value} is below its floor {floor}")
    return broken


def _message(summary: EvalSummary, broken: list[str]) -> str:
    lines = [f"{summary.name}: " + "; ".join(broken), "Questions that broke:"]
    for result in failures(summary, limit=30):
        got = "(abstained)" if result.abstained else result.answer[:160]
        lines.append(f"  {result.qid} [{result.qtype}] {result.question!r}: got {got!r}")
    return "\n".join(lines)


GATES = [("extractive", ""), ("reader", "_reader")]


def test_floors_file_is_sane() -> None:
    assert set(FLOORS) >= {"nato", "clapnq_sample", "nato_reader", "clapnq_sample_reader"}
    for name in ("nato", "nato_reader", "clapnq_sample", "clapnq_sample_reader"):
        assert FLOORS[name]["citation_validity"] == 1.0
        assert all(0.0 <= value <= 1.0 for value in FLOORS[name].values())


@pytest.mark.slow
@pytest.mark.parametrize(("answerer", "suffix"), GATES)
def test_nato_question_set_meets_its_floors(
    tmp_path: Path, embedder: Embeddings, answerer: str, suffix: str
) -> None:
    qa = DocQA(
        corpus_dir=ROOT / "corpus",
        index_dir=tmp_path / "index",
        embedder=embedder,
        answerer=answerer,
    )
    summary = run_eval(
        ROOT / "corpus",
        ROOT / "eval" / "questions.jsonl",
        ARTIFACTS / f"eval-nato{suffix}",
        name=f"NATO–Iraq question set ({answerer})",
        qa=qa,
        progress=False,
    )
    assert summary.count >= 40
    assert (ARTIFACTS / f"eval-nato{suffix}" / "report.md").is_file()
    broken = _check(summary, FLOORS[f"nato{suffix}"])
    assert not broken, _message(summary, broken)


@pytest.mark.slow
@pytest.mark.parametrize(("answerer", "suffix"), GATES)
def test_clapnq_sample_meets_its_floors(embedder: Embeddings, answerer: str, suffix: str) -> None:
    assert CLAPNQ.is_dir(), f"the ClapNQ benchmark is expected at {CLAPNQ}"
    # The index lives in .docqa-eval/ so later runs on the same machine reuse it.
    corpus, index = prepare_corpus(CLAPNQ / "docs.jsonl", ROOT / ".docqa-eval")
    qa = DocQA(
        corpus_dir=corpus,
        index_dir=index.with_name(index.name + "-test"),
        embedder=embedder,
        answerer=answerer,
    )
    summary = run_eval(
        CLAPNQ / "docs.jsonl",
        CLAPNQ / "questions.jsonl",
        ARTIFACTS / f"eval-clapnq-sample{suffix}",
        name=f"ClapNQ sample (60, {answerer})",
        sample=60,
        seed=0,
        qa=qa,
        progress=False,
    )
    assert summary.count == 60
    assert summary.metrics["answerable"] == 30
    broken = _check(summary, FLOORS[f"clapnq_sample{suffix}"])
    assert not broken, _message(summary, broken)
