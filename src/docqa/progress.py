"""How far ingest's embedding has got, and about how long it has left.

Texts are embedded shortest first (they pad least that way), so counting texts would promise
the end far too early: the estimate counts work instead, each text weighing its length plus a
fixed cost per text (a forward pass's overhead), and divides what is left by the rate so far.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

# A text's fixed cost, in characters of work: a 1-character text still takes a pass.
_PER_TEXT = 40


@dataclass(frozen=True)
class EmbeddingProgress:
    """Texts embedded so far, of how many, and an estimate of the seconds left.

    Attributes:
        done: Texts embedded.
        total: Texts to embed in this ingest.
        seconds_left: The estimate; None until a first batch has been timed.
    """

    done: int
    total: int
    seconds_left: float | None = None

    def describe(self, unit: str = "passages") -> str:
        """``"1,200 of 13,497 passages embedded, about 2 min left"``."""
        text = f"{self.done:,} of {self.total:,} {unit} embedded"
        if self.seconds_left is not None and self.done < self.total:
            text += f", about {format_duration(self.seconds_left)} left"
        return text


ProgressCallback = Callable[[EmbeddingProgress], None]


def format_duration(seconds: float) -> str:
    """``"40 s"``, ``"3 min"``, ``"1 h 5 min"``: rounded as an estimate should be."""
    if seconds < 60:
        return f"{max(1, round(seconds / 5) * 5 if seconds >= 10 else round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


class ProgressEstimate:
    """Tracks the work of ``texts`` (embedded in the order given) against the clock."""

    def __init__(self, texts: Sequence[str], clock: Callable[[], float] = time.monotonic) -> None:
        self._weights = [len(t) + _PER_TEXT for t in texts]
        self._total_work = sum(self._weights)
        self._done_work = 0
        self._done = 0
        self._clock = clock
        self._started = clock()

    def advance(self, texts_done: int) -> EmbeddingProgress:
        """Record ``texts_done`` more texts embedded; the progress so far."""
        self._done_work += sum(self._weights[self._done : self._done + texts_done])
        self._done += texts_done
        elapsed = self._clock() - self._started
        left: float | None = None
        if self._done_work > 0 and elapsed > 0:
            left = elapsed * (self._total_work - self._done_work) / self._done_work
        return EmbeddingProgress(self._done, len(self._weights), left)
