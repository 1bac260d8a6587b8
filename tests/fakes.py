"""Deterministic stand-ins for the fast test lane (``make test-fast``).

``HashingEmbeddings`` maps a text to a bag of its stemmed content words, each hashed to a fixed
dimension: texts that share words point the same way, so retrieval and sentence scoring behave
sensibly, with no model to load. It tests wiring only; every capability is also tested with the
real model in the slow lane.
"""

from __future__ import annotations

import hashlib

import numpy as np
from langchain_core.embeddings import Embeddings

from docqa.lexical import content_terms

DIMENSION = 384


def _bucket(term: str) -> tuple[int, float]:
    digest = hashlib.blake2b(term.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    return value % DIMENSION, 1.0 if (value >> 32) & 1 else -1.0


class HashingEmbeddings(Embeddings):
    """Unit bag-of-words vectors from hashed, stemmed content words (deterministic, instant)."""

    def __init__(self) -> None:
        self.calls = 0

    def _vector(self, text: str) -> list[float]:
        vector = np.zeros(DIMENSION, dtype=np.float64)
        for term in content_terms(text):
            index, sign = _bucket(term)
            vector[index] += sign
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0  # a text with no content word still gets a unit vector
            norm = 1.0
        return (vector / norm).tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.calls += 1
        return [self._vector(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        self.calls += 1
        return self._vector(text)
