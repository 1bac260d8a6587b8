"""What kind of answer a question asks for (an amount, a date, a name, a place), and whether a
text holds one. Read by an evidence feature (``features.py``) and by an abstention rule
(``abstention.py``); every pattern is written once, here.
"""

from __future__ import annotations

import re

from docqa.lexical import named_phrases, names, words

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
ASKS_DATE = re.compile(r"\b(what|which) (year|date|day|month)\b")
ASKS_PERSON = re.compile(r"\b(who|whom|whose)\b")
STARTS_WITH_WHO = re.compile(r"\s*(who|whom|whose)\b")
ASKS_PLACE = re.compile(r"\bwhere\b")


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


def missing_answer_type(question: str, answer: str) -> str | None:
    """What the answer lacks when the question demands an amount, a date or a name, else None.

    "How many troops ...?" is not answered by sentences without any number, "On what date ...?"
    by sentences without any date, nor "Who ...?" by sentences that name no one the question has
    not already named.

    Example:
        >>> missing_answer_type("What year was it founded?", "It was founded long ago.")
        >>> missing_answer_type("What year was it founded?", "It was founded by monks.")
        'a date'
    """
    q = question.casefold()
    if ASKS_AMOUNT.search(q) and not QUANTITY.search(answer):
        return "an amount"
    if STARTS_WITH_WHO.match(q) and not new_names(question, answer):
        return "a name"
    # Plain "when" is left out: on ClapNQ its answers are as often events ("when a customer
    # orders") as dates.
    if ASKS_DATE.search(q) and not YEAR_OR_DATE.search(answer):
        return "a date"
    return None
