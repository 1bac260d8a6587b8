"""The LLM answerer: prompt a chat model, stream its words, verify every sentence (the guard).

What the model writes is shown as it arrives but is provisional: the final ``Draft`` holds only
the sentences the grounding guard verified, each cited with an exact document quote.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.embeddings import Embeddings

from docqa.answerers.base import Draft
from docqa.errors import DocQAError
from docqa.guard import GuardResult, SourceSentence, verify_answer
from docqa.models import Chunk, Citation, DroppedSentence

if TYPE_CHECKING:
    # Type-only, and the prompt builder is imported where used: langchain_core's chat-model and
    # message modules cost ~0.4 s that the extractive `docqa ask` path never needs.
    from langchain_core.language_models import BaseChatModel

    from docqa.evidence import Evidence


def source_sentences(
    chunks: Sequence[Chunk], vectors: Mapping[str, np.ndarray]
) -> list[SourceSentence]:
    """Every sentence of ``chunks`` with its stored vector (chunks without vectors are left out)."""
    out: list[SourceSentence] = []
    for chunk in chunks:
        rows = vectors.get(chunk.chunk_id)
        if rows is None:
            continue
        out.extend(
            SourceSentence(chunk, span, row)
            for span, row in zip(chunk.sentences, rows, strict=True)
        )
    return out


def stream_generation(
    chat: BaseChatModel,
    question: str,
    sources: Sequence[Chunk],
    history: Sequence[tuple[str, str]],
) -> Iterator[str]:
    """The model's words as they are written.

    Raises:
        DocQAError: when the model or its server fails, naming what to check.
    """
    from docqa.prompting import build_messages

    messages = build_messages(question, sources, history)
    try:
        for chunk in chat.stream(messages):
            text = chunk.content if isinstance(chunk.content, str) else ""
            if text:
                yield text
    except DocQAError:
        raise
    except Exception as exc:  # provider clients raise many types (connection, auth, timeout)
        raise DocQAError(
            f"The language model failed: {type(exc).__name__}: {str(exc)[:200]}. Check that the "
            "server is running and DOCQA_LLM_BASE_URL / DOCQA_LLM_MODEL are right, or use "
            "DOCQA_ANSWERER=extractive."
        ) from None


def verify(
    generated: str,
    sources: Sequence[Chunk],
    vectors: Mapping[str, np.ndarray],
    embedder: Embeddings,
) -> GuardResult:
    """Run the grounding guard over a generated answer."""

    def embed(texts: list[str]) -> np.ndarray:
        return np.asarray(embedder.embed_documents(texts), dtype=np.float32)

    return verify_answer(generated, sources, source_sentences(sources, vectors), embed)


def compose_verified(result: GuardResult) -> Draft:
    """Answer text with the guard's own ``[n]`` markers, exact citations, and what was dropped."""
    numbers: dict[tuple[str, int, int], int] = {}
    citations: list[Citation] = []
    parts: list[str] = []
    for sentence in result.kept:
        evidence = sentence.evidence
        assert evidence is not None  # kept sentences always carry their evidence
        chunk = evidence.chunk
        key = (chunk.doc_id, *evidence.span)
        if key not in numbers:
            numbers[key] = len(numbers) + 1
            citations.append(
                Citation.of_sentence(numbers[key], chunk, evidence.span, sentence.similarity)
            )
        parts.append(f"{sentence.text} [{numbers[key]}]")
    dropped = tuple(DroppedSentence(s.text, s.reason) for s in result.dropped)
    return Draft(" ".join(parts), tuple(citations), dropped)


@dataclass
class LLMAnswerer:
    """A chat model writes the answer from the best chunks; the guard keeps what they support.

    Args:
        chat_model: Returns the LangChain chat model (called on the first question, so that a
            missing model fails then, with a message naming the fix).
        embedder: Embeds the generated sentences for the guard.
        sources: How many of the retrieved chunks the model is shown.
    """

    chat_model: Callable[[], BaseChatModel]
    embedder: Callable[[], Embeddings]
    sources: int
    name: str = "llm"

    def stream(self, evidence: Evidence) -> Iterator[str | Draft]:
        """The model's words as they arrive, then the verified ``Draft``."""
        sources = [r.chunk for r in evidence.retrieved[: self.sources]]
        pieces: list[str] = []
        for piece in stream_generation(self.chat_model(), evidence.query, sources, evidence.turns):
            pieces.append(piece)
            yield piece
        result = verify("".join(pieces), sources, evidence.sentence_vectors, self.embedder())
        yield compose_verified(result)
