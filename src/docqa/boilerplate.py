"""Boilerplate: source lines, bylines, copyright notices and navigation text.

Such a line sits in many documents beside the content ("Original Source: example.org/...",
"By Jane Doe | 3 May 2024", "Home > News > World") and is never what a question about the
content asks for, however many words it shares with it. It is kept out of answers and out of the
closest passages an abstention lists, unless the question asks for the very thing the line
labels ("What is the original source of this report?" may cite "Original Source: ...").

Every pattern is written here once; none names a document or a phrase of one.

Example:
    >>> boilerplate_label("Original Source: example.org/report.txt")
    'Original Source'
    >>> boilerplate_label("The mission was established in 2018.") is None
    True
"""

from __future__ import annotations

import re
from functools import lru_cache

from docqa.lexical import STOPWORDS, content_terms

_MAX_WORDS = 15
"""Boilerplate is short; a longer sentence is content even when it holds a link."""

_LINK = re.compile(
    r"https?://|www\.|\b[\w-]+(?:\.[\w-]+)*\.(?:com|org|net|int|gov|edu|info|io|co|uk|eu|de|fr)"
    r"\b|[\w.+-]+@[\w-]+\.[\w.]+"
)
_LABEL = re.compile(r"^\s*(?P<label>[A-Z][\w’'-]*(?:\s+[\w’'-]+){0,2})\s*:\s*(?P<value>\S.*)$")
_COPYRIGHT = re.compile(r"©|\bcopyright\b|\ball rights reserved\b", re.IGNORECASE)
_BYLINE = re.compile(r"^\s*(?:by|posted by|written by|photo by)\s+[A-Z]", re.IGNORECASE)
_NAVIGATION = re.compile(r"\s[|»›•>]\s|\s/\s")

_LABEL_VALUE_WORDS = 8
"""A "Label: value" line is metadata when its value is this short."""


@lru_cache(maxsize=16384)
def boilerplate_label(sentence: str) -> str | None:
    """What a boilerplate sentence labels ("Original Source", "Copyright", "Byline",
    "Navigation", or its "Label:" prefix), or None when the sentence is content."""
    tokens = sentence.split()
    if not tokens or len(tokens) > _MAX_WORDS:
        return None
    label = _LABEL.match(sentence)
    if label is not None and (_LINK.search(sentence) or _is_metadata(label.group("value"))):
        return label.group("label")
    if _COPYRIGHT.search(sentence):
        return "Copyright"
    if _BYLINE.match(sentence) and len(tokens) <= _LABEL_VALUE_WORDS:
        return "Byline"
    if len(_NAVIGATION.findall(sentence)) >= 2:
        return "Navigation"
    if _LINK.search(sentence) and len(tokens) <= _LABEL_VALUE_WORDS:
        return "Link"
    return None


def _is_metadata(value: str) -> bool:
    """A label's value that is a bare list of names, dates or tags ("Jane Doe", "3 May 2024",
    "politics, defence"), not a clause ("the alliance is committed"): short, no function word."""
    tokens = value.split()
    return len(tokens) <= _LABEL_VALUE_WORDS and not any(
        w.strip(".,;").casefold() in STOPWORDS for w in tokens
    )


def is_boilerplate_for(sentence: str, question: str) -> bool:
    """True when ``sentence`` is boilerplate that ``question`` does not ask about: the question
    must name a word of the line's label ("source" for "Original Source: ...") to be answered
    from it."""
    label = boilerplate_label(sentence)
    if label is None:
        return False
    return not set(content_terms(label)) & set(content_terms(question))
