"""Hybrid retrieval: dense (Chroma) and keyword (BM25) rankings, fused.

The fusion method and its weight were chosen on the ClapNQ benchmark (see README, "Retrieval").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from docqa.keyword import KeywordIndex
from docqa.models import RetrievedChunk
from docqa.store import ChunkStore

FusionMethod = Literal["rrf", "convex"]


@dataclass(frozen=True)
class Ranking:
    """The two raw rankings before fusion: ``(chunk_id, score)`` best first."""

    dense: list[tuple[str, float]]
    keyword: list[tuple[str, float]]


def fuse(
    ranking: Ranking,
    mode: Literal["hybrid", "dense", "keyword"],
    method: FusionMethod = "convex",
    dense_weight: float = 0.5,
    rrf_k: int = 60,
) -> list[tuple[str, float]]:
    """Combine the rankings into one ``(chunk_id, score)`` list, best first.

    ``convex``: ``w * cosine + (1 - w) * bm25 / max_bm25``; ``rrf``: weighted reciprocal rank.
    """
    if mode == "dense":
        return list(ranking.dense)
    if mode == "keyword":
        return list(ranking.keyword)
    scores: dict[str, float] = {}
    if method == "rrf":
        for rank, (cid, _) in enumerate(ranking.dense):
            scores[cid] = scores.get(cid, 0.0) + dense_weight / (rrf_k + rank + 1)
        for rank, (cid, _) in enumerate(ranking.keyword):
            scores[cid] = scores.get(cid, 0.0) + (1 - dense_weight) / (rrf_k + rank + 1)
    else:
        top_keyword = max((s for _, s in ranking.keyword), default=0.0) or 1.0
        # A chunk missing from one list gets that list's floor, not zero: absence from the
        # top candidates means "below the last one", not "irrelevant".
        dense_floor = min((s for _, s in ranking.dense), default=0.0)
        keyword_scores = {cid: s / top_keyword for cid, s in ranking.keyword}
        dense_scores = dict(ranking.dense)
        keyword_floor = min(keyword_scores.values(), default=0.0)
        for cid in dense_scores.keys() | keyword_scores.keys():
            scores[cid] = dense_weight * dense_scores.get(cid, dense_floor) + (
                1 - dense_weight
            ) * keyword_scores.get(cid, keyword_floor)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


@dataclass
class HybridRetriever:
    """Finds the chunks most likely to answer a question.

    Args:
        store: The Chroma-backed chunk store.
        keyword_index: Returns the current keyword index (rebuilt by the caller when stale).
        mode: ``hybrid``, ``dense`` or ``keyword``.
        candidates: How many chunks each retriever contributes before fusion.

    Every knob comes from ``Settings`` (``DocQA.hybrid``): no default here can disagree with it.
    """

    store: ChunkStore
    keyword_index: Callable[[], KeywordIndex]
    mode: Literal["hybrid", "dense", "keyword"]
    method: FusionMethod
    candidates: int
    dense_weight: float
    rrf_k: int

    def rank(self, query_vector: Sequence[float] | np.ndarray, query_text: str) -> Ranking:
        """Both raw rankings, ``candidates`` long each."""
        dense = self.store.nearest(query_vector, self.candidates) if self.mode != "keyword" else []
        keyword = (
            self.keyword_index().search(query_text, self.candidates) if self.mode != "dense" else []
        )
        return Ranking(dense, keyword)

    def retrieve(
        self, query_vector: Sequence[float] | np.ndarray, query_text: str, top_k: int
    ) -> list[RetrievedChunk]:
        """The ``top_k`` best chunks with their dense, keyword and fused scores."""
        ranking = self.rank(query_vector, query_text)
        fused = fuse(ranking, self.mode, self.method, self.dense_weight, self.rrf_k)[:top_k]
        known = self.store.get([cid for cid, _ in fused])
        dense = {cid: (rank, s) for rank, (cid, s) in enumerate(ranking.dense)}
        keyword = {cid: (rank, s) for rank, (cid, s) in enumerate(ranking.keyword)}
        results = []
        for cid, score in fused:
            if cid not in known:  # deleted between ranking and fetching
                continue
            d_rank, d_score = dense.get(cid, (None, None))
            k_rank, k_score = keyword.get(cid, (None, None))
            results.append(
                RetrievedChunk(
                    chunk=known[cid],
                    score=score,
                    dense_score=d_score,
                    keyword_score=k_score,
                    dense_rank=d_rank,
                    keyword_rank=k_rank,
                )
            )
        return results
