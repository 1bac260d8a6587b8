"""Answerers: each turns gathered evidence into a cited ``Draft`` (stage 3 of every question).

- ``extractive`` (default): the best document sentences, each its own citation.
- ``reader``: the sentence docqa's trained reader judges to answer, its answer phrase marked.
- ``llm``: a chat model writes the answer; the grounding guard keeps only supported sentences.

A new answerer implements ``Answerer.stream`` and is added to ``settings.AnswererName`` and
``make_answerer``; nothing else in docqa changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from docqa.answerers.base import Answerer, Draft, final_draft
from docqa.answerers.extractive import ExtractiveAnswerer
from docqa.answerers.generative import LLMAnswerer
from docqa.answerers.reading import ReaderAnswerer
from docqa.errors import ConfigurationError
from docqa.settings import ANSWERERS

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings
    from langchain_core.language_models import BaseChatModel

    from docqa.evidence import ReadFunction
    from docqa.settings import Settings


__all__ = [
    "ANSWERERS",
    "Answerer",
    "Draft",
    "ExtractiveAnswerer",
    "LLMAnswerer",
    "ReaderAnswerer",
    "final_draft",
    "make_answerer",
]


def make_answerer(
    settings: Settings,
    *,
    embedder: Callable[[], Embeddings],
    chat_model: Callable[[], BaseChatModel],
    reader: Callable[[], ReadFunction] | None = None,
) -> Answerer:
    """The answerer ``settings.answerer`` names, configured from ``settings``.

    Raises:
        ConfigurationError: for an unknown name, listing the known ones.
    """
    if settings.answerer == "extractive":
        return ExtractiveAnswerer(
            max_sentences=settings.max_answer_sentences,
            keep_ratio=settings.sentence_keep_ratio,
            pair_margin=settings.pair_margin,
        )
    if settings.answerer == "reader":
        return ReaderAnswerer(
            read=reader or _shipped_reader,
            read_sentences=settings.read_sentences,
            second_probability=settings.reader_second_probability,
        )
    if settings.answerer == "llm":
        return LLMAnswerer(chat_model=chat_model, embedder=embedder, sources=settings.llm_sources)
    raise ConfigurationError(
        f"Unknown answerer {settings.answerer!r}; use one of {', '.join(ANSWERERS)} "
        "(DOCQA_ANSWERER)."
    )


def _shipped_reader() -> ReadFunction:
    from docqa.reader.reading import load_reader

    return load_reader().read
