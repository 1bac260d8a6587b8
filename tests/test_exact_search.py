"""A small store's nearest chunks come from an exact search in memory (``store_cache``): the
same chunks and similarities as Chroma's query, and never stale after a write."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from docqa.models import Chunk
from docqa.store import ChunkStore
from docqa.store_cache import ChunkMatrix

DIM = 16


def chunk(chunk_id: str) -> Chunk:
    text = f"Chunk {chunk_id} opens here. It ends here."
    first = text.index(".") + 1
    return Chunk(
        chunk_id,
        "doc.txt",
        "doc.txt",
        "Doc",
        0,
        len(text),
        text,
        ((0, first), (first + 1, len(text))),
    )


def unit_rows(rng: np.random.Generator, count: int) -> np.ndarray:
    rows = rng.normal(size=(count, DIM))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def fill(store: ChunkStore, vectors: np.ndarray) -> None:
    chunks = [chunk(f"c{i:03d}") for i in range(len(vectors))]
    store.add(chunks, vectors.tolist(), [[v.tolist(), v.tolist()] for v in vectors])


def refuse_chroma_queries(store: ChunkStore) -> None:
    """Make the store's Chroma query fail, to prove a search did not use it."""
    collection: Any = store._chunks  # noqa: SLF001 - the test watches the Chroma boundary

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("Chroma was queried")

    collection.query = refuse


def test_exact_search_returns_chromas_neighbours_without_querying_it(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    fill(ChunkStore(tmp_path, "docqa", "m", exact_search_max_chunks=0), unit_rows(rng, 80))
    by_chroma = ChunkStore(tmp_path, "docqa", "m", exact_search_max_chunks=0)
    exact = ChunkStore(tmp_path, "docqa", "m")
    refuse_chroma_queries(exact)
    for query in unit_rows(rng, 25):
        expected = by_chroma.nearest(query, 10)
        found = exact.nearest(query, 10)
        assert [cid for cid, _ in found] == [cid for cid, _ in expected]
        for (_, score), (_, chroma_score) in zip(found, expected, strict=True):
            assert score == pytest.approx(chroma_score, abs=1e-5)


def test_a_store_above_the_limit_asks_chroma(tmp_path: Path) -> None:
    rng = np.random.default_rng(8)
    store = ChunkStore(tmp_path, "docqa", "m", exact_search_max_chunks=30)
    fill(store, unit_rows(rng, 31))
    refuse_chroma_queries(store)
    with pytest.raises(AssertionError, match="Chroma was queried"):
        store.nearest(unit_rows(rng, 1)[0], 5)


def test_exact_search_sees_every_write_through_the_store(tmp_path: Path) -> None:
    rng = np.random.default_rng(9)
    store = ChunkStore(tmp_path, "docqa", "m")
    fill(store, unit_rows(rng, 20))
    query = unit_rows(rng, 1)[0]
    assert store.nearest(query, 3)[0][0] != "new"  # the matrix is now held

    store.add([chunk("new")], [query.tolist()], [[query.tolist(), query.tolist()]])
    best, score = store.nearest(query, 3)[0]
    assert best == "new" and score == pytest.approx(1.0, abs=1e-5)

    store.delete(["new"])
    assert "new" not in {cid for cid, _ in store.nearest(query, 25)}
    assert len(store.nearest(query, 25)) == 20


def test_exact_search_sees_another_processs_write_once_the_generation_moves(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(10)
    reader = ChunkStore(tmp_path, "docqa", "m")
    fill(reader, unit_rows(rng, 10))
    reader.mark_changed()
    query = unit_rows(rng, 1)[0]
    assert "new" not in {cid for cid, _ in reader.nearest(query, 20)}

    writer = ChunkStore(tmp_path, "docqa", "m")  # another instance: its writes do not clear ours
    writer.add([chunk("new")], [query.tolist()], [[query.tolist(), query.tolist()]])
    writer.mark_changed()
    reader.refresh()  # what the index does at most GENERATION_CHECK_SECONDS apart
    assert reader.nearest(query, 1)[0][0] == "new"


def test_chunk_matrix_orders_best_first_then_by_id() -> None:
    matrix = ChunkMatrix.of(
        {
            "b": np.array([1.0, 0.0]),
            "a": np.array([2.0, 0.0]),  # same direction as "b": a tie, broken by id
            "c": np.array([0.0, 1.0]),
            "d": np.array([-1.0, 0.0]),
        }
    )
    assert [cid for cid, _ in matrix.nearest([3.0, 0.0], 3)] == ["a", "b", "c"]
    assert matrix.nearest([3.0, 0.0], 10)[-1] == ("d", pytest.approx(-1.0))
    assert matrix.nearest([1.0, 0.0], 0) == []
    assert ChunkMatrix.of({}).nearest([1.0, 0.0], 5) == []
    assert not matrix.rows.flags.writeable
