"""The benchmark's own machinery (``make bench`` runs it for real): synthetic corpora are
reproducible, synthesised vectors are what the results say they are, and the report gives each
target the verdict its numbers earn."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from bench import synthetic
from bench.common import CLAPNQ_DOCS, read_jsonl
from bench.report import write_markdown, write_plot


class CountingEmbeddings(Embeddings):
    """A stand-in for the real model that records what it was asked to embed."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return [[1.0, 0.0, 0.0] for _ in texts]

    def embed_query(self, text: str) -> list[float]:
        return [1.0, 0.0, 0.0]


def test_chunk_vectors_are_the_normalised_mean_of_real_sentence_vectors() -> None:
    a, b = np.array([0.6, 0.8, 0.0], np.float32), np.array([0.0, 0.6, 0.8], np.float32)
    fallback = CountingEmbeddings()
    emb = synthetic.RecombinedEmbeddings({"Alpha one.": a, "Beta two.": b}, fallback)
    known, mixed, unknown = emb.embed_documents(
        ["Alpha one.", "Alpha one. Beta two.", "Gamma three."]
    )
    np.testing.assert_allclose(known, a)
    expected = (a + b) / np.linalg.norm(a + b)
    np.testing.assert_allclose(mixed, expected, rtol=1e-6)
    assert unknown == [1.0, 0.0, 0.0]
    assert fallback.seen == ["Gamma three."]
    assert (emb.synthesised, emb.embedded) == (1, 1)


def test_synthetic_corpus_is_reproducible_and_made_of_pool_sentences(tmp_path: Path) -> None:
    pool = [f"Sentence number {i} tells a fact about topic {i % 7}." for i in range(300)]
    first, second = tmp_path / "one", tmp_path / "two"
    assert synthetic.write_corpus(first, 12_000, pool, ["Title A", "Title B"]) == 12_000
    synthetic.write_corpus(second, 12_000, pool, ["Title A", "Title B"])
    files = sorted(p.name for p in first.iterdir())
    assert files == [
        "clapnq.jsonl",
        "synthetic-000.jsonl",
        "synthetic-001.jsonl",
        "synthetic-002.jsonl",
    ]
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert (first / "clapnq.jsonl").read_bytes() == CLAPNQ_DOCS.read_bytes()
    records = read_jsonl(first / "synthetic-001.jsonl")
    assert len(records) == synthetic.PASSAGES_PER_FILE
    for record in records[:200]:
        assert len(record["text"]) <= 1000  # one chunk each
        # Every piece is a whole pool sentence.
        assert all(part + "." in pool for part in record["text"].rstrip(".").split(". "))


RESULTS: dict[str, Any] = {
    "date": "2026-01-01",
    "machine": {"cpus": 2},
    "total_minutes": 14.0,
    "ingest": {
        "chunks": 900,
        "texts_embedded": 5000,
        "docqa_seconds": 45.0,
        "raw_encode_seconds": 100.0,
        "docqa_chunks_per_second": 20.0,
        "raw_chunks_per_second": 9.0,
        "overhead": -0.55,
        "reingest_unchanged_seconds": 0.2,
        "reingest_chunks_embedded": 0,
        "reingest_cli_seconds": 4.0,
    },
    "synthetic_builds": {
        "10000": {
            "chunks": 10000,
            "index_seconds": 30,
            "chunk_vectors_synthesised": 9000,
            "texts_embedded_for_real": 3,
        },
    },
    "latency": [
        {
            "corpus": name,
            "chunks": n,
            "questions": 100,
            "floor_ms": {"median": 10.0, "p95": 12.0},
            "ask_ms": {"median": med, "p95": med + 5},
            "ratio_to_floor": med / 10,
            "recall_at_5": 1.0,
            "peak_rss_mb": 700.0,
        }
        for name, n, med in (
            ("NATO report", 5, 14.0),
            ("ClapNQ", 917, 18.0),
            ("synthetic 10k", 10000, 19.0),
        )
    ],
    "reader_latency": [
        {
            "corpus": name,
            "chunks": n,
            "questions": 100,
            "floor_ms": {"median": 10.0, "p95": 12.0},
            "ask_ms": {"median": 28.0, "p95": 55.0},
            "ratio_to_floor": 2.8,
            "recall_at_5": 1.0,
            "peak_rss_mb": 700.0,
        }
        for name, n in (("NATO report", 5), ("ClapNQ", 917))
    ],
    "cold_start": {
        "median_seconds": 3.5,
        "runs_seconds": [3.4, 3.5, 3.6],
        "breakdown_seconds": {"import docqa": 1.0},
    },
    "baseline": {
        "answerable_scored": 150,
        "busy_questions": 100,
        "tutorial": {
            "chunks": 1200,
            "texts_embedded": 1200,
            "ingest_seconds": 40.0,
            "chunks_per_second": 30.0,
            "raw_encode_seconds": 38.0,
            "overhead": 0.05,
            "recall_at_5": 0.98,
            "mrr_at_10": 0.93,
            "retrieve_ms": {"median": 12.0, "p95": 14.0},
            "retrieve_busy_ms": {"median": 24.0, "p95": 120.0},
        },
        "docqa": {
            "recall_at_5": 1.0,
            "mrr_at_10": 0.97,
            "retrieve_ms": {"median": 11.0, "p95": 13.0},
            "retrieve_busy_ms": {"median": 11.0, "p95": 15.0},
        },
    },
    "concurrency": {
        "clients": 16,
        "seconds": 60.0,
        "served": 900,
        "errors": 0,
        "requests_per_second": 15.0,
        "latency_ms": {"median": 900.0, "p95": 1500.0},
        "server_peak_rss_mb": 900.0,
        "server_cpu_ms_per_request": 40.0,
        "clients_cpu_ms_per_request": 50.0,
    },
}


def _verdicts(results: dict[str, Any], tmp_path: Path) -> list[str]:
    path = tmp_path / "results.md"
    write_markdown(results, path)
    return [
        line
        for line in path.read_text().splitlines()
        if line.endswith(("| met |", "| **missed** |"))
    ]


def test_report_gives_each_target_its_verdict(tmp_path: Path) -> None:
    rows = _verdicts(RESULTS, tmp_path)
    assert len(rows) == 10 and all(row.endswith("| met |") for row in rows)

    worse = copy.deepcopy(RESULTS)
    worse["latency"][2]["ratio_to_floor"] = 2.4
    worse["latency"][0]["ratio_to_floor"] = 1.6
    worse["cold_start"]["median_seconds"] = 7.2
    worse["concurrency"]["errors"] = 3
    worse["ingest"]["docqa_seconds"] = 60.0
    worse["reader_latency"][1]["ask_ms"]["p95"] = 61.0
    worse["baseline"]["docqa"]["retrieve_ms"]["median"] = 12.5
    worse["baseline"]["docqa"]["retrieve_busy_ms"]["median"] = 12.5
    missed = [row for row in _verdicts(worse, tmp_path) if row.endswith("**missed** |")]
    assert len(missed) == 8
    assert any("2.40× (synthetic 10k)" in row for row in missed)
    assert any("1.60× (14.0 ms vs 10.0 ms)" in row for row in missed)
    assert any("7.20 s" in row for row in missed)
    assert any("0.60× (60.0 s vs 100.0 s)" in row for row in missed)
    assert any("28.0 / 61.0 ms" in row for row in missed)
    assert any("1.04× (12.5 ms vs 12.0 ms)" in row for row in missed)
    assert any("0.52× (12.5 ms vs 24.0 ms)" in row for row in missed)


def test_plot_is_written(tmp_path: Path) -> None:
    write_plot(RESULTS, tmp_path / "plot.png")
    assert (tmp_path / "plot.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
