"""Cold start: a new ``docqa ask "..."`` process on a built index, to its printed answer.

The wall time is measured from outside (process start to exit). Where the time goes is measured
by a probe process (``python -m bench.coldstart --probe``) that walks the same path stage by
stage: importing docqa, the embedding model (its libraries and weights), opening the index,
loading the keyword index, answering. What the probe does not see — starting the interpreter,
printing — is the remainder of the wall time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# Not bench.common: the probe must import nothing of docqa before it starts timing.
ROOT = Path(__file__).resolve().parents[1]
RUNS = 3
QUESTION = "Who led the Iraqi delegation?"


def probe(corpus: Path, index: Path) -> dict[str, float]:
    """Stage timings of one cold ``ask``, in seconds (run in a fresh process)."""
    marks: dict[str, float] = {}
    last = time.perf_counter()

    def mark(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        marks[name] = round(now - last, 3)
        last = now

    from docqa.api import DocQA  # noqa: I001  (the import is what is being timed)

    mark("import docqa")
    qa = DocQA(corpus_dir=corpus, index_dir=index)
    qa.embedder.embed_query("warm-up")
    mark("embedding model: libraries + weights")
    qa.is_indexed()
    qa.store.count()
    mark("open the index (Chroma)")
    qa.keyword_index()
    mark("load the keyword index")
    qa.ask(QUESTION)
    mark("answer the question")
    return marks


def _docqa() -> list[str]:
    return [str(Path(sys.executable).parent / "docqa")]


def run(corpus: Path, index: Path) -> dict[str, Any]:
    """Median wall time of ``RUNS`` cold asks, and the stage breakdown of a probe run."""
    walls: list[float] = []
    command = [*_docqa(), "--corpus", str(corpus), "--index", str(index), "ask", QUESTION]
    for _ in range(RUNS):
        started = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - started)
        if "Sources:" not in done.stdout:
            raise RuntimeError(f"docqa ask printed no cited answer: {done.stdout[:200]!r}")
    stages: list[dict[str, float]] = []
    for _ in range(RUNS):
        started = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-m", "bench.coldstart", "--probe"]
            + ["--corpus", str(corpus), "--index", str(index)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        timings = json.loads(out)
        timings["interpreter start + exit"] = round(
            time.perf_counter() - started - sum(timings.values()), 3
        )
        stages.append(timings)
    breakdown = {k: round(statistics.median(s[k] for s in stages), 3) for k in stages[0]}
    median = statistics.median(walls)
    return {
        "command": f'docqa ask "{QUESTION}" (NATO index built)',
        "runs_seconds": [round(w, 2) for w in walls],
        "median_seconds": round(median, 2),
        "breakdown_seconds": breakdown,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--probe", action="store_true", required=True)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--index", type=Path, required=True)
    args = parser.parse_args()
    json.dump(probe(args.corpus, args.index), sys.stdout)


if __name__ == "__main__":
    main()
