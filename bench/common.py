"""Paths, data loading and small measuring helpers shared by the benchmark parts."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from docqa.evaluation.metrics import latency_stats

ROOT = Path(__file__).resolve().parents[1]
CLAPNQ = ROOT / "eval" / "data" / "clapnq"
CLAPNQ_DOCS = CLAPNQ / "docs.jsonl"
CLAPNQ_QUESTIONS = CLAPNQ / "questions.jsonl"
NATO_CORPUS = ROOT / "corpus"
NATO_QUESTIONS = ROOT / "eval" / "questions.jsonl"
WORK = ROOT / ".docqa-bench"
RESULTS_DIR = ROOT / "bench"

OFFLINE_ENV = {
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}
os.environ.update(OFFLINE_ENV)


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Records of a JSON-lines file (blank lines ignored)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def clapnq_questions() -> list[dict[str, Any]]:
    """ClapNQ questions: ``qid``, ``question``, ``answerable``, ``gold_doc_ids``, ``answers``."""
    return read_jsonl(CLAPNQ_QUESTIONS)


def nato_questions() -> list[str]:
    """The single-turn questions of the NATO question set (follow-ups need their history)."""
    return [str(r["question"]) for r in read_jsonl(NATO_QUESTIONS) if "question" in r]


def clapnq_corpus() -> Path:
    """A folder holding only the ClapNQ docs.jsonl (docqa indexes folders)."""
    folder = WORK / "clapnq-corpus"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / CLAPNQ_DOCS.name
    if not target.exists() or target.read_bytes() != CLAPNQ_DOCS.read_bytes():
        target.write_bytes(CLAPNQ_DOCS.read_bytes())
    return folder


def ms_stats(seconds: list[float]) -> dict[str, float]:
    """Median, p95, mean, max (ms) and count of durations given in seconds."""
    stats = latency_stats([s * 1000 for s in seconds])
    return {k: round(v, 2) for k, v in stats.items()}


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory (VmHWM) of a process, in MiB.

    Not ``getrusage``: Linux carries ``ru_maxrss`` across ``exec``, so a worker started by a big
    parent would report the parent's peak.
    """
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    raise RuntimeError(f"no VmHWM in /proc/{pid}/status")


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...; elapsed()`` — seconds since the block began."""
    started = time.perf_counter()
    yield lambda: time.perf_counter() - started


def log(message: str) -> None:
    """Progress on stderr, stamped with the wall clock, so a long run shows where it is."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
