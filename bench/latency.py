"""Warm question latency on one built index, run in its own process (``python -m bench.latency``)
so that its peak memory is the serving process's alone.

For every question: the time to embed the question alone (the floor: what any retrieval system
must spend), then ``DocQA.ask`` end to end. Both after a warm-up, both single-threaded calls.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import clapnq_questions, ms_stats, nato_questions, peak_rss_mb
from docqa.api import DocQA
from docqa.evaluation.metrics import retrieval_scores

WARM_UP = 10


def measure(
    corpus: Path, index: Path, question_set: str, limit: int, answerer: str = "extractive"
) -> dict[str, Any]:
    """Latency, stage medians, recall@5 (ClapNQ) and peak memory of asking on ``index``."""
    if question_set == "nato":
        items: list[dict[str, Any]] = [{"question": q} for q in nato_questions()]
    else:
        items = clapnq_questions()
    items = items[:limit]
    qa = DocQA(corpus_dir=corpus, index_dir=index, answerer=answerer)
    if not qa.is_indexed():
        raise SystemExit(f"{index} holds no index; build it first")
    started = time.perf_counter()
    qa.ask(items[0]["question"])
    first = time.perf_counter() - started
    for item in items[:WARM_UP]:
        qa.ask(item["question"])
    floor: list[float] = []
    total: list[float] = []
    stages: dict[str, list[float]] = {"embed": [], "retrieve": [], "answer": []}
    recalls: list[float] = []
    for item in items:
        t0 = time.perf_counter()
        qa.embedder.embed_query(item["question"])
        t1 = time.perf_counter()
        answer = qa.ask(item["question"])
        total.append(time.perf_counter() - t1)
        floor.append(t1 - t0)
        stages["embed"].append(answer.timings["embed"])
        stages["retrieve"].append(answer.timings["retrieve"])
        # "answer" keeps its earlier meaning (sentence scoring included), comparable across runs.
        stages["answer"].append(answer.timings.get("score", 0.0) + answer.timings["answer"])
        if item.get("answerable") and item.get("gold_doc_ids"):
            retrieved = [(r.chunk.doc_id, r.chunk.text) for r in answer.retrieved]
            recall, _ = retrieval_scores(retrieved, (), item["gold_doc_ids"])
            recalls.append(recall or 0.0)
    median_total, median_floor = statistics.median(total), statistics.median(floor)
    return {
        "chunks": qa.store.count(),
        "questions": len(items),
        "first_question_seconds": round(first, 3),
        "floor_ms": ms_stats(floor),
        "ask_ms": ms_stats(total),
        "stage_median_ms": {k: round(statistics.median(v) * 1000, 2) for k, v in stages.items()},
        "ratio_to_floor": round(median_total / median_floor, 2),
        "recall_at_5": round(statistics.mean(recalls), 3) if recalls else None,
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", choices=["nato", "clapnq"], required=True)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--answerer", choices=["extractive", "reader"], default="extractive")
    args = parser.parse_args(argv)
    measured = measure(args.corpus, args.index, args.questions, args.limit, args.answerer)
    json.dump(measured, sys.stdout)


if __name__ == "__main__":
    main()
