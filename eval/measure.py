"""End-to-end figures for the README: ClapNQ operating point, ROUGE-L, latency, cold start.

Usage:
    python eval/measure.py            # needs the ClapNQ index (built on first run, ~2-3 min)

Runs ``DocQA.ask`` exactly as users call it, on every ClapNQ question.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from clapnq_tune import open_bench, questions

from docqa.evaluation.metrics import rouge_l

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    qa = open_bench()
    qs = questions()
    qa.ask(str(qs[0]["question"]))  # warm-up: model and index loaded
    answered, abstained, rouge, latencies = [], [], [], []
    for q in qs:
        answer = qa.ask(str(q["question"]))
        latencies.append(answer.timings["total"])
        if q["answerable"]:
            answered.append(not answer.abstained)
            refs = [str(a) for a in q["answers"]]  # type: ignore[attr-defined]
            rouge.append(0.0 if answer.abstained else rouge_l(answer.plain_text, refs))
        else:
            abstained.append(answer.abstained)
    answered_rouge = [r for r, a in zip(rouge, answered, strict=True) if a]
    first50 = latencies[:50]
    print(f"answerable answered:      {np.mean(answered):.3f} ({sum(answered)}/{len(answered)})")
    print(f"unanswerable abstained:   {np.mean(abstained):.3f} ({sum(abstained)}/{len(abstained)})")
    print(f"ROUGE-L, answered answerable questions: {np.mean(answered_rouge):.3f}")
    print(f"ROUGE-L, all answerable (abstained = 0): {np.mean(rouge):.3f}")
    median_ms = statistics.median(first50) * 1000
    p95_ms = float(np.percentile(first50, 95)) * 1000
    print(f"warm ask() latency, first 50 questions: median {median_ms:.1f} ms, p95 {p95_ms:.1f} ms")
    env = dict(os.environ, DOCQA_CORPUS_DIR=str(qa.settings.corpus_dir))
    env["DOCQA_INDEX_DIR"] = str(qa.settings.index_dir)
    docqa = Path(sys.executable).with_name("docqa")
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run(
            [str(docqa), "ask", str(qs[1]["question"])], env=env, check=True, capture_output=True
        )
        runs.append(time.perf_counter() - started)
    print(f"cold start of `docqa ask` (built index): median {statistics.median(runs):.2f} s")


if __name__ == "__main__":
    main()
