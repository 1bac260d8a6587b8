"""``python -m bench`` (``make bench``): every measurement of issue-level speed targets in one run.

Writes bench/results.json, bench/results.md and bench/latency-vs-size.png. Work folders live in
.docqa-bench/ and are rebuilt on every run, so a run measures a from-scratch build.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import baseline, coldstart, concurrency, ingest_bench, synthetic
from bench.common import NATO_CORPUS, RESULTS_DIR, ROOT, WORK, clapnq_corpus, log
from bench.report import write_markdown, write_plot
from docqa.api import DocQA

SIZES = (10_000, 100_000)


def latency(
    corpus: Path, index: Path, questions: str, limit: int, answerer: str = "extractive"
) -> dict[str, Any]:
    """``bench.latency`` in a process of its own (its peak memory is the serving process's)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.latency", "--corpus", str(corpus), "--index", str(index)]
        + ["--questions", questions, "--limit", str(limit), "--answerer", answerer],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="*", default=list(SIZES))
    parser.add_argument("--questions", type=int, default=200, help="questions per corpus")
    parser.add_argument("--clients-seconds", type=float, default=concurrency.SECONDS)
    parser.add_argument("--out", type=Path, default=RESULTS_DIR)
    args = parser.parse_args(argv)
    started = time.monotonic()
    WORK.mkdir(exist_ok=True)
    results: dict[str, Any] = {
        "machine": {
            "cpus": __import__("os").cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%d"),
    }

    clapnq = clapnq_corpus()
    clapnq_index = WORK / "clapnq-index"
    results["ingest"] = ingest_bench.run(clapnq, clapnq_index)

    nato_index = WORK / "nato-index"
    log("NATO index")
    DocQA(corpus_dir=NATO_CORPUS, index_dir=nato_index).ingest()

    corpora: list[dict[str, Any]] = [
        {"name": "NATO report", "corpus": NATO_CORPUS, "index": nato_index, "questions": "nato"},
        {"name": "ClapNQ", "corpus": clapnq, "index": clapnq_index, "questions": "clapnq"},
    ]
    builds: dict[str, Any] = {}
    clapnq_qa = DocQA(corpus_dir=clapnq, index_dir=clapnq_index)
    for size in args.sizes:
        log(f"synthetic corpus of {size:,} chunks")
        build = synthetic.build(size, clapnq_qa)
        builds[str(size)] = build
        corpora.append(
            {
                "name": f"synthetic {size // 1000}k",
                "corpus": Path(build["corpus"]),
                "index": Path(build["index"]),
                "questions": "clapnq",
            }
        )
    del clapnq_qa
    results["synthetic_builds"] = builds

    results["latency"] = []
    for entry in corpora:
        log(f"warm latency: {entry['name']}")
        measured = latency(entry["corpus"], entry["index"], entry["questions"], args.questions)
        results["latency"].append({"corpus": entry["name"], **measured})
    results["reader_latency"] = []
    for entry in corpora[:2]:  # NATO and ClapNQ: the corpora the reader was measured on
        log(f"warm latency with the reader: {entry['name']}")
        measured = latency(
            entry["corpus"], entry["index"], entry["questions"], args.questions, "reader"
        )
        results["reader_latency"].append({"corpus": entry["name"], **measured})

    log("cold start")
    results["cold_start"] = coldstart.run(NATO_CORPUS, nato_index)
    results["baseline"] = baseline.run(clapnq, clapnq_index)
    results["concurrency"] = concurrency.run(clapnq, clapnq_index, seconds=args.clients_seconds)
    results["total_minutes"] = round((time.monotonic() - started) / 60, 1)

    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    write_markdown(results, args.out / "results.md")
    write_plot(results, args.out / "latency-vs-size.png")
    log(f"done in {results['total_minutes']} min: {args.out / 'results.md'}")


if __name__ == "__main__":
    main()
