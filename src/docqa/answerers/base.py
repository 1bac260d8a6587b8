"""Stage 3 of every question: the ``Answerer`` protocol that every answerer implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from docqa.models import Citation, DroppedSentence

if TYPE_CHECKING:
    from docqa.evidence import Evidence


@dataclass(frozen=True)
class Draft:
    """An answer as an answerer wrote it, before ``abstention.review`` checks it.

    Attributes:
        text: Each sentence followed by its ``[n]`` marker.
        citations: ``citations[i].number == i + 1``; every quote an exact document span.
        dropped: Sentences the answerer wrote but removed as unsupported (the LLM's guard).
    """

    text: str
    citations: tuple[Citation, ...]
    dropped: tuple[DroppedSentence, ...] = ()


@runtime_checkable
class Answerer(Protocol):
    """Writes the answer from the gathered evidence, once the decision is to answer.

    ``stream`` yields provisional text as it is written (an LLM's words; nothing for answerers
    that write all at once), then exactly one ``Draft``, last. Every sentence of the draft must
    cite a document sentence through ``Citation.of_sentence``, so that citations stay exact.

    Example:
        >>> for item in qa.answerer.stream(evidence):  # built by make_answerer from Settings
        ...     print(item)
        Draft(text='The NATO Mission in Iraq was established in 2018 ... [1]', ...)
    """

    @property
    def name(self) -> str:
        """Short name, recorded in ``Answer.answerer`` (e.g. ``"extractive"``)."""
        ...

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        """Provisional text, then the ``Draft``."""
        ...


def final_draft(items: Iterator[str | Draft]) -> Draft:
    """The ``Draft`` at the end of an answerer's stream (the text before it is dropped)."""
    draft: Draft | None = None
    for item in items:
        if isinstance(item, Draft):
            draft = item
    if draft is None:
        raise RuntimeError("the answerer's stream ended without a Draft")
    return draft
