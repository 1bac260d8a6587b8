"""Ingest's progress estimate: counts work, not texts, so shortest-first order does not mislead."""

from __future__ import annotations

from pathlib import Path

import pytest

from docqa.progress import EmbeddingProgress, ProgressEstimate, format_duration


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_estimate_weighs_the_long_texts_still_to_come() -> None:
    clock = Clock()
    texts = ["short"] * 50 + ["a much longer sentence " * 20] * 50  # shortest first, as ingest
    estimate = ProgressEstimate(texts, clock)
    clock.now += 5.0  # the 50 short texts took 5 s
    state = estimate.advance(50)
    assert (state.done, state.total) == (50, 100)
    # Half the texts but a small share of the work: far more than another 5 s is left.
    assert state.seconds_left is not None and state.seconds_left > 5.0 * 5
    per_work = 5.0 / (50 * (len("short") + 40))
    assert state.seconds_left == pytest.approx(per_work * 50 * (len(texts[-1]) + 40))
    clock.now += 40.0
    state = estimate.advance(50)
    assert state.done == 100 and state.seconds_left == pytest.approx(0.0)


def test_no_estimate_before_a_first_batch_is_timed() -> None:
    clock = Clock()
    estimate = ProgressEstimate(["a", "b"], clock)
    assert estimate.advance(0).seconds_left is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.4, "1 s"), (7.2, "7 s"), (42, "40 s"), (59, "60 s"), (61, "1 min"), (150, "2 min")]
    + [(3 * 3600 + 10 * 60, "3 h 10 min")],
)
def test_durations_read_as_estimates(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_the_description_names_counts_and_time_left() -> None:
    assert EmbeddingProgress(1200, 13497, 125.0).describe() == (
        "1,200 of 13,497 passages embedded, about 2 min left"
    )
    assert EmbeddingProgress(5, 5, 0.0).describe() == "5 of 5 passages embedded"
    assert EmbeddingProgress(0, 5).describe("texts") == "0 of 5 texts embedded"


def test_ingest_reports_progress_to_its_callback(tmp_path: Path) -> None:
    from docqa import DocQA
    from fakes import HashingEmbeddings

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(3):
        (corpus / f"doc{i}.txt").write_text(f"Document {i} has a sentence. " * 30, "utf-8")
    seen: list[EmbeddingProgress] = []
    qa = DocQA(corpus_dir=corpus, index_dir=tmp_path / "index", embedder=HashingEmbeddings())
    qa.ingest(on_progress=seen.append)
    assert seen and seen[-1].done == seen[-1].total > 0
    assert [s.done for s in seen] == sorted(s.done for s in seen)
    assert all(s.seconds_left is not None for s in seen)
