"""What answering reads from Chroma by id, kept in memory for the store's current generation.

Every question reads its five chunks and their sentence vectors from Chroma by id: two reads of
1-3 ms each, a third of a question's time once the question is embedded. The same chunks come
back question after question (a small corpus has few; a large one has favourites), and they
only change when the index does, which moves the store's generation token. So: keep the most
recently read ``capacity`` chunks' records and vectors, and forget them all the moment the
generation moves: at once for writes through the same store, and for another instance's or
process's writes when the store next reads its generation (``ChunkStore.refresh``), which the
index does at most ``index.GENERATION_CHECK_SECONDS`` apart, as it does for the keyword index.

A small store's chunk vectors are held the same way, all of them (``ChunkMatrix``): its nearest
chunks then come from an exact search in NumPy (0.03 ms on the NATO report, 0.1 ms on ClapNQ's
917 chunks) instead of Chroma's HNSW query (0.9-1.5 ms, most of it the call itself). On the
three evaluation sets (1,552 questions) every answer and confidence was the same either way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

V = TypeVar("V")

# 2,048 chunks of ~15 sentence vectors each (1.5 KB a vector) is ~45 MB at most.
CACHED_CHUNKS = 2048
# Up to this many chunks, search them exactly in memory (1.5 KB a chunk: ~6 MB at most, read from
# Chroma once per generation in ~0.1 s); above it, Chroma's HNSW index answers.
EXACT_SEARCH_MAX_CHUNKS = 4096


class GenerationCache(Generic[V]):
    """Values by chunk id, valid for one generation of the store, least recently used dropped.

    Thread-safe: questions from several users read and fill it at once.
    """

    def __init__(self, capacity: int = CACHED_CHUNKS) -> None:
        self.capacity = capacity
        self._generation: str | None = None
        self._values: OrderedDict[str, V] = OrderedDict()
        self._lock = threading.Lock()

    def get_many(self, generation: str, ids: Iterable[str]) -> dict[str, V]:
        """The cached values of ``ids`` (those not cached are absent); a new generation first
        empties the cache."""
        with self._lock:
            self._sync(generation)
            found: dict[str, V] = {}
            for key in ids:
                value = self._values.get(key)
                if value is not None:
                    self._values.move_to_end(key)
                    found[key] = value
            return found

    def put_many(self, generation: str, values: Mapping[str, V]) -> None:
        """Keep ``values``, read while the store was at ``generation``."""
        if self.capacity <= 0:
            return
        with self._lock:
            if generation != self._generation:  # read before the index moved on: stale
                return
            for key, value in values.items():
                self._values[key] = value
                self._values.move_to_end(key)
            while len(self._values) > self.capacity:
                self._values.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (the store was written to)."""
        with self._lock:
            self._values.clear()
            self._generation = None

    def __len__(self) -> int:
        return len(self._values)

    def _sync(self, generation: str) -> None:
        if generation != self._generation:
            self._values.clear()
            self._generation = generation


class GenerationValue(Generic[V]):
    """One value computed from the store, valid for one generation: computed on first use and
    again once the generation moves or the store is written to. Thread-safe; concurrent first
    uses wait for one computation."""

    def __init__(self) -> None:
        self._entry: tuple[str, V] | None = None
        self._lock = threading.Lock()

    def get(self, generation: str, compute: Callable[[], V]) -> V:
        with self._lock:
            if self._entry is None or self._entry[0] != generation:
                self._entry = (generation, compute())
            return self._entry[1]

    def clear(self) -> None:
        """Forget the value (the store was written to)."""
        with self._lock:
            self._entry = None


@dataclass(frozen=True)
class ChunkMatrix:
    """Every chunk vector of a store as unit rows, for an exact cosine search."""

    ids: tuple[str, ...]
    rows: np.ndarray

    @classmethod
    def of(cls, vectors: Mapping[str, np.ndarray]) -> ChunkMatrix:
        ids = tuple(sorted(vectors))
        if not ids:
            return cls((), np.zeros((0, 0), dtype=np.float32))
        raw = np.asarray([vectors[i] for i in ids], dtype=np.float32)
        norms = np.linalg.norm(raw, axis=1, keepdims=True)
        rows = (raw / np.where(norms > 0, norms, 1.0)).astype(np.float32)
        rows.flags.writeable = False
        return cls(ids, rows)

    def nearest(self, vector: Sequence[float] | np.ndarray, limit: int) -> list[tuple[str, float]]:
        """The ``limit`` chunks of highest cosine similarity to ``vector``, best first (ties
        by id), as ``ChunkStore.nearest`` returns them."""
        if limit <= 0 or not self.ids:
            return []
        query = np.asarray(vector, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(query))
        similarities = self.rows @ (query / norm if norm > 0 else query)
        if limit < len(self.ids):
            candidates = np.argpartition(-similarities, limit - 1)[:limit]
        else:
            candidates = np.arange(len(self.ids))
        best = sorted(candidates.tolist(), key=lambda i: (-similarities[i], self.ids[i]))
        return [(self.ids[i], float(similarities[i])) for i in best]
