"""Turning a follow-up ("What did he emphasize?") into a question that stands on its own.

Rule-based on purpose: it runs without a language model, in microseconds, and its rewrites are
visible in ``Answer.standalone_question`` so a user can see what was actually searched for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from docqa.lexical import QUESTION_WORDS, STOPWORDS, capitalised_phrases, content_terms

Turn = tuple[str, str]
"""An earlier exchange: ``(question, answer_text)``."""

_PERSONAL = {"he", "she", "him", "his", "her", "hers", "they", "them", "their", "theirs"}
_IMPERSONAL = {"it", "its", "there"}
_POSSESSIVE = {"his", "her", "its", "their"}
_PRONOUN = re.compile(
    r"\b(he|she|him|his|her|hers|they|them|their|theirs|it|its|there)\b", re.IGNORECASE
)
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|and what about)\s+(.+?)\s*\??\s*$", re.I)


def _antecedents(history: Sequence[Turn]) -> list[str]:
    """Named things mentioned in earlier turns, most recent question first, then its answer."""
    found: list[str] = []
    for question, answer in reversed(history):
        for text in (question, re.sub(r"\s*\[\d+\]", "", answer)):
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
    if _PRONOUN.search(question) or _ELLIPSIS.match(question):
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

    pronoun = _PRONOUN.search(question)
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
