"""What answering reads from Chroma by id, kept in memory for the store's current generation.

Every question reads its five chunks and their sentence vectors from Chroma by id: two reads of
1-3 ms each, a third of a question's time once the question is embedded. The same chunks come
back question after question (a small corpus has few; a large one has favourites), and they
only change when the index does, which moves the store's generation token. So: keep the most
recently read ``capacity`` chunks' records and vectors, and forget them all the moment the
generation moves: at once for writes through the same store, and for another instance's or
process's writes when the store next reads its generation (``ChunkStore.refresh``), which the
index does at most ``index.GENERATION_CHECK_SECONDS`` apart, as it does for the keyword index.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

V = TypeVar("V")

# 2,048 chunks of ~15 sentence vectors each (1.5 KB a vector) is ~45 MB at most.
CACHED_CHUNKS = 2048


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
