"""What kind of answer a question asks for (an amount, a date, a name), and whether a text holds
one. Read by an evidence feature (``features.py``), by the answerers that prefer a sentence
holding it, and by an abstention rule (``abstention.py``); every pattern is written once, here.

Whether a sentence holds an amount, a date or a name is read from the entities spaCy found at
ingest (``entities.py``): "Iraqi" in "Iraqi security institutions" is a capitalised word but
names no one, and "the 1st of the month" is a date without a year. Chunks of an index built
before entities were stored fall back to the patterns below.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from docqa.entities import Entity
from docqa.lexical import STOPWORDS, named_phrases, names, words

YEAR_OR_DATE = re.compile(
    r"\b(1[0-9]{3}|20[0-9]{2})s?\b|\b(January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b|\b(century|decade|ago|since|until|during)\b",
    re.IGNORECASE,
)
"""A year, a month name or a time expression."""

# A year is a date, not an amount: "How many troops?" is not answered by "in 2018".
QUANTITY = re.compile(
    r"\b(?!(?:1[89]|20)\d\d\b)\d[\d,.]*|\b(one|two|three|four|five|six|seven|eight|nine|ten|hundred|"
    r"thousand|million|billion|dozen|several|many|few)\b",
    re.IGNORECASE,
)
"""A number (other than a year) or a number word."""

PLACE_CUE = re.compile(r"\b(in|at|near|from|across|region|city|country|state)\b", re.IGNORECASE)

# What the question asks for; matched against the case-folded question.
ASKS_AMOUNT = re.compile(r"\bhow (many|much)\b")
ASKS_MEASURE = re.compile(r"\bhow (many|much|long|old|far|tall|big)\b")
ASKS_TIME = re.compile(r"\b(when|what year|what date|which year)\b")
ASKS_DATE = re.compile(r"\b(what|which) (year|date|day|month|century|decade)\b")
ASKS_PERSON = re.compile(r"\b(who|whom|whose)\b")
STARTS_WITH_WHO = re.compile(r"\s*(who|whom|whose)\b")
# "Who is Tom Goffus?" asks what someone is, not for a name: the name is already given.
WHO_IS_NAMED = re.compile(r"\s*who\s+(is|was|are|were)\s+(?P<rest>[^?]*)\??\s*$", re.IGNORECASE)
ASKS_PLACE = re.compile(r"\bwhere\b")

AMOUNT, DATE, NAME = "an amount", "a date", "a name"
"""The kinds of answer a question can demand (``asked_kind``), as messages name them."""

# The entity kinds that answer each demand: "Who ...?" is answered by a person or by an
# organisation ("Who did the delegation meet?" - "NATO Permanent Representatives").
_ANSWERED_BY = {
    AMOUNT: frozenset({"amount"}),
    DATE: frozenset({"date"}),
    NAME: frozenset({"person", "organisation"}),
}


@dataclass(frozen=True)
class TaggedText:
    """A text and the entities found in it at ingest (offsets relative to ``text``; None when
    the text was never tagged)."""

    text: str
    entities: Sequence[Entity] | None = None


def answer_type_match(question: str, text: str) -> float:
    """1.0 when ``text`` holds the kind of thing the question asks for (or no type is implied).

    Example:
        >>> answer_type_match("How many troops are there?", "Some troops are there.")
        0.0
    """
    q = question.casefold()
    if ASKS_MEASURE.search(q):
        return 1.0 if QUANTITY.search(text) else 0.0
    if ASKS_TIME.search(q):
        return 1.0 if YEAR_OR_DATE.search(text) else 0.0
    if ASKS_PERSON.search(q):
        return 1.0 if names(text) else 0.0
    if ASKS_PLACE.search(q):
        return 1.0 if names(text) or PLACE_CUE.search(text) else 0.0
    return 1.0


def new_names(question: str, answer: str) -> list[tuple[str, ...]]:
    """Capitalised phrases of the answer that the question does not already name."""
    asked = set(words(question))
    return [p for p in named_phrases(answer) if not set(p) <= asked]


def asked_kind(question: str) -> str | None:
    """``AMOUNT``, ``DATE`` or ``NAME`` when the question demands one, else None.

    "How many/much ...?" demands an amount, "What year/date ...?" a date, "Who ...?" a name
    (but not "Who is Tom Goffus?", which gives the name and asks what it stands for). Plain
    "when" is left out: on ClapNQ its answers are as often events ("when a customer orders") as
    dates; "where" likewise (ClapNQ's "where does the phrase ... come from").

    Example:
        >>> asked_kind("How many troops does the mission have?")
        'an amount'
    """
    q = question.casefold()
    if ASKS_AMOUNT.search(q):
        return AMOUNT
    if ASKS_DATE.search(q):
        return DATE
    if STARTS_WITH_WHO.match(q) and not _names_someone(question):
        return NAME
    return None


def _names_someone(question: str) -> bool:
    """Whether a "who is ...?" question is about a given name ("Who is Tom Goffus?") rather
    than asking for one ("Who is the current Secretary General?")."""
    match = WHO_IS_NAMED.match(question)
    if match is None:
        return False
    rest = match.group("rest").split()
    return 0 < len(rest) <= 3 and not any(w.casefold() in STOPWORDS for w in rest)


def holds_kind(kind: str, passage: TaggedText, question: str) -> bool:
    """Whether ``passage`` holds an amount, a date or a name (``kind``) that the question does
    not already give.

    With entities, one of the right kind must share no word with the question; without
    (an untagged chunk), the patterns stand in.
    """
    if passage.entities is None:
        return pattern_holds_kind(kind, passage.text, question)
    return answer_phrase(kind, passage, question) is not None


def pattern_holds_kind(kind: str, text: str, question: str) -> bool:
    """``holds_kind`` by the patterns alone: any number but a year, any year or month, any
    capitalised phrase the question does not give."""
    if kind == AMOUNT:
        return QUANTITY.search(text) is not None
    if kind == DATE:
        return YEAR_OR_DATE.search(text) is not None
    return bool(new_names(question, text))


def answer_phrase(kind: str, passage: TaggedText, question: str) -> tuple[int, int] | None:
    """The span, inside ``passage``, of the first entity of the kind the question asks for that
    the question does not already give: the answer phrase of an extractive answer ("2018" in
    "The mission was established in 2018." for "What year ...?"). None without entities."""
    asked = set(words(question))
    for entity in passage.entities or ():
        if entity.kind in _ANSWERED_BY[kind]:
            found = passage.text[entity.start : entity.end]
            if not set(words(found)) & asked:
                return entity.start, entity.end
    return None


def missing_answer_type(question: str, answer: Sequence[TaggedText]) -> str | None:
    """What the answer lacks when the question demands an amount, a date or a name, else None.

    "How many troops ...?" is not answered by sentences without any number, "On what date ...?"
    by sentences without any date, nor "Who ...?" by sentences that name no one the question has
    not already named. Lenient on purpose: the answer lacks its type only when neither the
    entities nor the patterns find one (on ClapNQ, whose text is tokenised as "Drake 's", the
    entities alone missed names the patterns see: answered 0.740 against 0.760).

    Example:
        >>> missing_answer_type("What year was it founded?", [TaggedText("Monks founded it.")])
        'a date'
    """
    kind = asked_kind(question)
    if kind is None or any(
        answer_phrase(kind, passage, question) is not None
        or pattern_holds_kind(kind, passage.text, question)
        for passage in answer
    ):
        return None
    return kind
