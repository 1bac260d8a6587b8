"""The evaluation report: files, JSON round trip, plots and the Markdown page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from docqa.evaluation.metrics import summarize
from docqa.evaluation.report import write_report
from docqa.evaluation.types import EvalSummary, QuestionResult

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def make_result(
    qid: str,
    question: str,
    *,
    answerable: bool = True,
    abstained: bool = False,
    kpm: float | None = 1.0,
    confidence: float = 0.5,
    latency_scale: float = 1.0,
) -> QuestionResult:
    citations: tuple[dict[str, object], ...] = ()
    if not abstained:
        citations = tuple(
            {"number": n, "doc_id": "d.txt", "quote": f"Quote {n} of {qid} | with a pipe. " * 8}
            for n in (1, 2, 3)
        )
    return QuestionResult(
        qid=qid,
        qtype="fact" if answerable else "unanswerable",
        question=question,
        answerable=answerable,
        answer="The documents do not contain an answer." if abstained else f"Answer\n{qid} [1]",
        abstained=abstained,
        confidence=confidence,
        rule_abstained=False,
        standalone_question=question,
        citations=citations,
        expected="Paris" if answerable else "",
        retrieved_doc_ids=("d.txt",),
        recall_at_k=1.0 if answerable else None,
        reciprocal_rank=0.5 if answerable else None,
        key_phrase_match=None if abstained or not answerable else kpm,
        token_f1=None if abstained or not answerable else 0.25,
        rouge_l=None if abstained or not answerable else 0.125,
        citation_validity=None if abstained else 1.0,
        citation_support=None if abstained else 0.5,
        latency={
            "retrieve": 4.0 * latency_scale,
            "answer": 900.0 * latency_scale,
            "total": 904.0 * latency_scale,
        },
    )


@pytest.fixture
def summary() -> EvalSummary:
    results = [
        make_result("ok-1", "What is the capital?", confidence=0.9),
        make_result("bad-1", "Which one: A | B?", kpm=0.5, confidence=0.7, latency_scale=1.5),
        make_result("ok-2", "Unanswerable?", answerable=False, abstained=True, confidence=0.1),
        make_result("bad-2", "Abstained wrongly?", abstained=True, confidence=0.2),
        make_result("bad-3", "Answered wrongly?", answerable=False, confidence=0.8),
    ]
    settings = {"top_k": 5, "corpus": Path("docs")}
    return summarize("Demo run", "docs", "eval/demo.jsonl", results, 0.4, "dev.jsonl", settings)


def test_write_report_writes_every_file_and_nothing_else(
    summary: EvalSummary, tmp_path: Path
) -> None:
    out = tmp_path / "nested" / "report"
    paths = write_report(summary, out)
    names = ["report.json", "tradeoff.png", "latency.png", "report.md"]
    assert paths == [out / name for name in names]
    assert sorted(p.name for p in out.iterdir()) == sorted(names)  # no temp files left


def test_report_json_round_trips(summary: EvalSummary, tmp_path: Path) -> None:
    write_report(summary, tmp_path)
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["name"] == "Demo run" and data["count"] == 5
    assert data["metrics"]["answer_correctness"] == 0.3333  # rounded to 4 places
    assert data["metrics"]["citation_validity"] == 1.0
    assert data["by_type"]["fact"]["questions"] == 3
    assert data["operating_point"] == {"threshold": 0.4, "answered": 0.6667, "abstained": 0.5}
    assert data["settings"] == {"top_k": 5, "corpus": "docs"}
    assert len(data["tradeoff"]) == 101
    results = [QuestionResult(**r) for r in data["results"]]
    assert [r.qid for r in results] == [r.qid for r in summary.results]
    assert results[1].question == "Which one: A | B?"
    assert results[0].citations[0]["quote"] == summary.results[0].citations[0]["quote"]


def test_plots_are_real_pngs(summary: EvalSummary, tmp_path: Path) -> None:
    write_report(summary, tmp_path)
    for name in ("tradeoff.png", "latency.png"):
        content = (tmp_path / name).read_bytes()
        assert content.startswith(PNG_SIGNATURE)
        assert len(content) > 5_000


def test_report_md(summary: EvalSummary, tmp_path: Path) -> None:
    write_report(summary, tmp_path)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert md.startswith("# Demo run\n")
    assert "`docs`" in md and "`eval/demo.jsonl`" in md
    assert "Abstention threshold fit on: dev.jsonl" in md
    assert "![" in md and "](tradeoff.png)" in md and "](latency.png)" in md
    assert "| answer_correctness | 0.333 |" in md
    assert "| questions | 5 |" in md
    assert "| retrieve | 4.0 | 5.6 |" in md  # latency table: median and p95 in ms
    # Failures first, each group in question-set order.
    rows = [line for line in md.splitlines() if line.startswith(("| ✗", "| ✓"))]
    assert [row.split(" | ")[1] for row in rows] == ["bad-1", "bad-2", "bad-3", "ok-1", "ok-2"]
    assert "Which one: A \\| B?" in md
    assert "*(abstained)*" in md
    # Every table row keeps its column count: no raw pipe or newline leaks out of a cell.
    for row in rows:
        assert row.replace("\\|", "").count("|") == 8
    assert "Answer<br>bad-1 [1]" in md
    # Cited quotes: the first two only, each cut to 120 characters.
    bad_1 = rows[0]
    assert "[1] “Quote 1 of bad-1" in bad_1 and "[2] “" in bad_1 and "[3] “" not in bad_1
    assert "…”" in bad_1


def test_report_md_formats_missing_values(tmp_path: Path) -> None:
    empty = summarize("Nothing", "d", "q.jsonl", [], 0.5, "q.jsonl", {})
    paths = write_report(empty, tmp_path)
    assert all(p.stat().st_size > 0 for p in paths)
    md = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| answer_correctness | — |" in md


def test_log_scale_latency_plot_for_wide_spreads(summary: EvalSummary, tmp_path: Path) -> None:
    # 4 ms vs 900 ms is a > 100x spread; the plot must still render.
    assert summary.latency["answer"]["median"] > 100 * summary.latency["retrieve"]["median"]
    write_report(summary, tmp_path)
    assert (tmp_path / "latency.png").read_bytes().startswith(PNG_SIGNATURE)
