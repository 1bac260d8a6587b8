"""An answer as it was shown, kept so that a resumed conversation shows it again unchanged.

The sources panel shows each quote inside about 100 characters each side of its chunk; the
chunk is not kept with the answer, so that context is cut once, here, and stored with it. The
page renders a live answer and a kept one from the same ``ShownAnswer``, so both look the same.

Example:
    >>> shown = ShownAnswer.of(qa.ask("Who led the delegation?"))
    >>> ShownAnswer.from_record(shown.record()) == shown
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from docqa.models import AbstentionCode, AbstentionReason, Answer, Citation, DroppedSentence

CONTEXT_CHARS = 100
"""Characters of the chunk shown on each side of a quote."""

Context = tuple[str, str]


def passage_context(answer: Answer, citation: Citation) -> Context:
    """The text before and after ``citation``'s quote in its retrieved chunk, about
    ``CONTEXT_CHARS`` each, cut at a word with "…" ("", "" when no chunk holds it)."""
    for retrieved in answer.retrieved:
        chunk = retrieved.chunk
        if (
            chunk.doc_id == citation.doc_id
            and chunk.start <= citation.start <= citation.end <= chunk.end
        ):
            a, b = citation.start - chunk.start, citation.end - chunk.start
            before = chunk.text[max(0, a - CONTEXT_CHARS) : a]
            after = chunk.text[b : b + CONTEXT_CHARS]
            if a > CONTEXT_CHARS:
                before = "…" + before.split(" ", 1)[-1]
            if len(chunk.text) - b > CONTEXT_CHARS:
                after = after.rsplit(" ", 1)[0] + "…"
            return before, after
    return "", ""


def _key(kind: str, citation: Citation) -> str:
    return f"{kind}{citation.number}"


@dataclass(frozen=True)
class ShownAnswer:
    """An answer with the context shown around each quote (``contexts['c1']`` for citation 1,
    ``contexts['x1']`` for closest passage 1)."""

    answer: Answer
    contexts: dict[str, Context] = field(default_factory=dict)

    @classmethod
    def of(cls, answer: Answer) -> ShownAnswer:
        """``answer`` with its contexts cut from its retrieved chunks."""
        contexts = {_key("c", c): passage_context(answer, c) for c in answer.citations}
        contexts |= {_key("x", c): passage_context(answer, c) for c in answer.closest}
        return cls(answer, contexts)

    def context(self, citation: Citation, closest: bool = False) -> Context:
        """The context shown around ``citation`` (a closest passage with ``closest``)."""
        return self.contexts.get(_key("x" if closest else "c", citation), ("", ""))

    def record(self) -> dict[str, Any]:
        """JSON-ready data: the answer's JSON, its question, and the contexts."""
        return {
            **self.answer.to_dict(),
            "question": self.answer.question,
            "contexts": {k: list(v) for k, v in self.contexts.items()},
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> ShownAnswer:
        """The answer ``record`` holds (without its retrieved chunks, which are not kept)."""
        reason = record.get("abstention_reason")
        answer = Answer(
            question=str(record.get("question", "")),
            text=str(record["text"]),
            citations=tuple(citation_of(c) for c in record.get("citations", ())),
            abstained=bool(record["abstained"]),
            confidence=float(record.get("confidence", 0.0)),
            standalone_question=str(record.get("standalone_question", "")),
            timings={str(k): float(v) for k, v in record.get("timings", {}).items()},
            abstention_reason=(
                AbstentionReason(AbstentionCode(reason["code"]), str(reason["message"]))
                if reason
                else None
            ),
            dropped=tuple(
                DroppedSentence(str(d["text"]), str(d["reason"])) for d in record.get("dropped", ())
            ),
            answerer=str(record.get("answerer", "extractive")),
            closest=tuple(citation_of(c) for c in record.get("closest", ())),
        )
        contexts = {str(k): (str(v[0]), str(v[1])) for k, v in record.get("contexts", {}).items()}
        return cls(answer, contexts)


def citation_of(data: dict[str, Any]) -> Citation:
    """The ``Citation`` a citation's JSON (``Citation.to_dict``) describes."""
    fields = {k: v for k, v in data.items() if k != "answer_phrase"}
    return Citation(**fields)
