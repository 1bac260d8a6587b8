"""Decoding the reader's answer phrase: the best start/end token pair, back to characters.

NumPy only, so that training (torch) and question time (NumPy or torch) decode the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAX_PHRASE_TOKENS = 30
"""The longest answer phrase considered, in tokens (SQuAD answers are rarely longer)."""


@dataclass(frozen=True)
class Phrase:
    """An answer phrase inside a sentence.

    Attributes:
        start: First character, relative to the sentence.
        end: One past the last character, relative to the sentence.
        score: ``start logit + end logit`` of the chosen tokens.
    """

    start: int
    end: int
    score: float


def best_phrase(
    start_logits: NDArray[np.floating],
    end_logits: NDArray[np.floating],
    in_sentence: Sequence[bool],
    offsets: Sequence[tuple[int, int]],
    max_tokens: int = MAX_PHRASE_TOKENS,
) -> Phrase | None:
    """The phrase ``[start token, end token]`` with the highest summed logit.

    Only tokens of the sentence count (``in_sentence``), the end never precedes the start, and
    a phrase spans at most ``max_tokens`` tokens. ``offsets`` are each token's characters inside
    the sentence. None when the sentence has no token (empty or cut off by truncation).
    """
    positions = [i for i, inside in enumerate(in_sentence) if inside]
    if not positions:
        return None
    idx = np.asarray(positions)
    starts = np.asarray(start_logits, dtype=np.float64)[idx]
    ends = np.asarray(end_logits, dtype=np.float64)[idx]
    n = len(idx)
    # scores[i, j] = start[i] + end[j], kept where i <= j < i + max_tokens.
    scores = starts[:, None] + ends[None, :]
    row, col = np.indices((n, n))
    scores[(col < row) | (col >= row + max_tokens)] = -np.inf
    i, j = np.unravel_index(int(np.argmax(scores)), scores.shape)
    first, last = offsets[positions[i]], offsets[positions[j]]
    return Phrase(int(first[0]), int(last[1]), float(scores[i, j]))
