"""Turning a follow-up ("What did he emphasize?") into a question that stands on its own.

Rule-based on purpose: it runs without a language model, in microseconds, and its rewrites are
visible in ``Answer.standalone_question`` so a user can see what was actually searched for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from docqa.citations import strip_markers
from docqa.lexical import QUESTION_WORDS, STOPWORDS, capitalised_phrases, content_terms

if TYPE_CHECKING:
    from docqa.models import Answer

Turn = tuple[str, str]
"""An earlier exchange: ``(question, answer_text)``."""

History = Sequence[tuple[str, "str | Answer"]]
"""Earlier turns as users pass them: ``(question, answer)``, the answer as text or an ``Answer``."""

_PERSONAL = {"he", "she", "him", "his", "her", "hers", "they", "them", "their", "theirs"}
_IMPERSONAL = {"it", "its", "there"}
_POSSESSIVE = {"his", "her", "its", "their"}
_PRONOUN = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|theirs|it|its|there)\b", re.IGNORECASE
)
# Existential "there" ("Is there a budget?", "there are troops") points at nothing; only the
# place adverb ("What happened there?") refers back to an earlier turn.
_EXISTENTIAL_THERE = re.compile(
    r"\b(?:is|are|was|were|will|would|could|can|should|shall|may|might|must|has|have|had|"
    r"isn't|aren't|wasn't|weren't)\s+there\b"
    r"|\bthere(?:\s+|['’])(?:is|are|was|were|s|will|would|could|can|should|shall|may|might|must|"
    r"has|have|had|seems?|seemed|appears?|appeared|remains?|remained|exists?|existed|used)\b",
    re.IGNORECASE,
)
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(.+?)\s*\??\s*$", re.I)


def recent_turns(history: History, limit: int) -> tuple[Turn, ...]:
    """The last ``limit`` turns of ``history`` as ``(question, answer_text)`` pairs."""
    if limit <= 0:
        return ()
    return tuple(
        (question, answer if isinstance(answer, str) else answer.text)
        for question, answer in list(history)[-limit:]
    )


def _pronoun(question: str) -> re.Match[str] | None:
    """The first pronoun of ``question`` that refers back (existential "there" does not)."""
    existential = [m.span() for m in _EXISTENTIAL_THERE.finditer(question)]
    for match in _PRONOUN.finditer(question):
        inside = any(start <= match.start() < end for start, end in existential)
        if not (match.group(1).lower() == "there" and inside):
            return match
    return None


def _antecedents(history: Sequence[Turn]) -> list[str]:
    """Named things mentioned in earlier turns, most recent question first, then its answer."""
    found: list[str] = []
    for question, answer in reversed(history):
        for text in (question, strip_markers(answer)):
            for phrase in capitalised_phrases(text):
                words = phrase.split()
                while words and words[0].casefold() in QUESTION_WORDS | STOPWORDS:
                    words = words[1:]
                candidate = re.sub(r"['’]s$", "", " ".join(words).strip(" ?.,;:"))
                if candidate and candidate not in found:
                    found.append(candidate)
    return found


def _looks_like_person(phrase: str) -> bool:
    words = phrase.split()
    return len(words) >= 2 and all(w[:1].isupper() and not w.isupper() for w in words[:2])


def _depends_on_history(question: str) -> bool:
    if _pronoun(question) or _ELLIPSIS.match(question):
        return True
    return len(content_terms(question)) <= 1


def standalone_question(question: str, history: Sequence[Turn]) -> str:
    """Rewrite ``question`` so it can be understood without ``history``.

    Example:
        >>> standalone_question("What did he emphasize?", [("Who is Tom Goffus?", "...")])
        'What did Tom Goffus emphasize?'
    """
    question = question.strip()
    if not history or not _depends_on_history(question):
        return question
    previous_question = history[-1][0].strip()
    candidates = _antecedents(history)

    ellipsis = _ELLIPSIS.match(question)
    if ellipsis and candidates:
        # "And Javier Colomina?" after "What is Tom Goffus's role?" -> swap the subject.
        replacement = ellipsis.group(1).strip(" ?")
        target = next((c for c in candidates if c in previous_question), None)
        if target is not None:
            return previous_question.replace(target, replacement, 1)

    pronoun = _pronoun(question)
    if pronoun and candidates:
        word = pronoun.group(1).lower()
        if word in _PERSONAL:
            antecedent = next((c for c in candidates if _looks_like_person(c)), candidates[0])
        else:
            antecedent = next((c for c in candidates if not _looks_like_person(c)), candidates[0])
        if word in _IMPERSONAL and word == "there":
            replacement = f"in {antecedent}"
        elif word in _POSSESSIVE:
            replacement = f"{antecedent}'s"
        else:
            replacement = antecedent
        return question[: pronoun.start()] + replacement + question[pronoun.end() :]

    # Nothing to substitute: carry the earlier question along so retrieval keeps its topic.
    return f"{question} ({previous_question})"


_WH = r"(?:what|who|whom|whose|where|when|which|why|how)"
# ", and what ...", " and with whom ...": a second question joined to the first.
_JOINED_QUESTION = re.compile(
    rf",?\s+and\s+(?=(?:(?:with|to|from|for|in|on|at|by|of)\s+)?{_WH}\b)", re.IGNORECASE
)
# A part is a question of its own when a question word opens it (after an introductory phrase
# such as "In its conclusion,"): "Between New York City and what city ...?" is one question.
_OPENS_QUESTION = re.compile(
    rf"^(?:[^,]{{0,40}},\s*)?(?:(?:with|to|from|for|in|on|at|by|of)\s+)?{_WH}\b", re.IGNORECASE
)


def compound_parts(question: str) -> tuple[str, ...]:
    """The questions a compound question joins, each standing on its own; else the question.

    "When was the mission set up, and what was it designed to do?" asks two things, which
    different sentences answer: each part is answered by its own sentence, chosen among the
    passages retrieved for the whole question (so "it" in a later part needs no resolving: the
    passages are already about the thing the first part names).

    Example:
        >>> compound_parts("Who is Tom Goffus, and what did he emphasize?")
        ('Who is Tom Goffus?', 'What did he emphasize?')
    """
    pieces = [p.strip(" ,;") for p in _JOINED_QUESTION.split(question.strip())]
    if len(pieces) < 2 or not all(_OPENS_QUESTION.match(p) for p in pieces):
        return (question,)
    parts = (piece[0].upper() + piece[1:] for piece in pieces)
    return tuple(p if p.endswith("?") else p.rstrip(".!") + "?" for p in parts)
