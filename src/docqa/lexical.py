"""Word-level text handling shared by the keyword index and the answer scorer.

Deliberately small and deterministic: lower-casing, a light plural/suffix stemmer and an
English stop-word list. Both sides of every comparison go through the same function.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

TOKENIZER_VERSION = "light-stem-2"
"""Changes whenever tokens change, so that a saved keyword index is rebuilt, never misread."""

_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)

# Function words that carry no topic. The contractions never reach `words()` whole (it splits at
# apostrophes); they are here for the checks that read raw capitalised tokens (`names`).
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "also",
        "s",
        "t",
        "tell",
        "done",
        "say",
        "said",
        "says",
        "many",
        "much",
    ]
    + ["aren't", "didn't", "doesn't", "don't", "isn't"]
)

QUESTION_WORDS = frozenset(["what", "when", "where", "which", "who", "whom", "whose", "why", "how"])


def normalize(text: str) -> str:
    """Case-fold and strip accents so 'Café' and 'cafe' meet."""
    folded = text.casefold()
    if folded.isascii():  # the common case, and ASCII has nothing to decompose: skip the loop
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Nouns derived from a verb ("resurgence", "establishment") count as the verb ("resurging",
# "established"), but only when at least five letters remain: "presence" and "guidance" keep
# their ending rather than meet "pres" and "guid".
_DERIVED = ("ence", "ance", "ment")
_DERIVED_STEM_MIN = 5


def stem(word: str) -> str:
    """A light stemmer: enough to match plurals, common verb forms and nouns made from verbs
    ("resurgence" and "resurging" both give "resurg"), never aggressive."""
    if len(word) <= 3 or word.isdigit():
        return word
    for suffix in _DERIVED:
        if word.endswith(suffix) and len(word) - len(suffix) >= _DERIVED_STEM_MIN:
            return word[: -len(suffix)]
    for suffix, replacement in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("edly", ""),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + replacement
    return word


def words(text: str) -> list[str]:
    """All words of ``text``, normalised, possessive ``'s`` removed."""
    return list(_words(text))


def content_terms(text: str) -> list[str]:
    """Stemmed words without stop words: what keyword matching and coverage compare."""
    return list(_content_terms(text))


# Answering tokenises the same retrieved chunks and sentences several times per question, and
# popular chunks across questions: memoised, the lexical work of a question drops several-fold.
_MEMOISED_TEXTS = 65536


@lru_cache(maxsize=_MEMOISED_TEXTS)
def _words(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for match in _WORD.finditer(normalize(text)):
        word = match.group(0).replace("’", "'")
        if word.endswith("'s"):
            word = word[:-2]
        out.extend(part for part in word.split("'") if part)
    return tuple(out)


@lru_cache(maxsize=_MEMOISED_TEXTS)
def _content_terms(text: str) -> tuple[str, ...]:
    return tuple(stem(w) for w in _words(text) if w not in STOPWORDS and w not in QUESTION_WORDS)


def keyword_tokens(text: str) -> list[str]:
    """Tokens for the BM25 index: content terms, hyphenated words also split into parts."""
    tokens: list[str] = []
    for term in content_terms(text):
        tokens.append(term)
        if "-" in term:
            tokens.extend(stem(part) for part in term.split("-") if part)
    return tokens


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# Linking words count inside a name only when a capitalised word follows them.
_CAPITALISED = re.compile(
    # Not inside a word: "al-Araji" is one name, not "Araji" after a hyphen.
    r"(?<![\w’'-])(?:[A-Z]|al-[A-Z])[\w’'-]*"
    r"(?:\s+(?:(?:of|the|in|for)\s+)*(?:[A-Z][\w’'-]*|al-\w+))*"
)


def numbers(text: str) -> set[str]:
    """Numbers as written, commas dropped ('2,018' and '2018' meet)."""
    return {m.group(0).replace(",", "") for m in _NUMBER.finditer(text)}


@lru_cache(maxsize=_MEMOISED_TEXTS)  # and their names, question after question
def names(text: str) -> frozenset[str]:
    """Normalised capitalised words not at a sentence start: a cheap named-entity proxy."""
    found: set[str] = set()
    for match in re.finditer(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]+", text):
        word = re.sub(r"['’]s$", "", normalize(match.group(0)))
        if word not in STOPWORDS and word not in QUESTION_WORDS:
            found.add(stem(word))
    return frozenset(found)


def capitalised_phrases(text: str) -> list[str]:
    """Runs of capitalised words ('Tom Goffus', 'NATO Mission in Iraq'), in order of appearance."""
    return [m.group(0).strip() for m in _CAPITALISED.finditer(text)]


def named_phrases_with_text(
    text: str, skip_first_word: bool = False
) -> list[tuple[str, tuple[str, ...]]]:
    """Capitalised phrases as ``(text, normalised words)``, possessives and stop words dropped.

    With ``skip_first_word`` the text's first word is ignored, since a question's first word is
    capitalised only because it starts the sentence.
    """
    phrases: list[tuple[str, tuple[str, ...]]] = []
    first = len(text) - len(text.lstrip())
    for match in _CAPITALISED.finditer(text):
        phrase_text = match.group(0)
        if skip_first_word and match.start() == first:
            rest = phrase_text.split(maxsplit=1)
            if len(rest) < 2:
                continue
            phrase_text = rest[1]
        tokens = tuple(
            w for w in words(phrase_text) if w not in STOPWORDS and w not in QUESTION_WORDS
        )
        if tokens:
            phrases.append((phrase_text, tokens))
    return phrases


def named_phrases(text: str, skip_first_word: bool = False) -> list[tuple[str, ...]]:
    """The normalised words of each capitalised phrase (see ``named_phrases_with_text``)."""
    return [tokens for _, tokens in named_phrases_with_text(text, skip_first_word)]


_ACRONYM = re.compile(r"(?<![\w-])[A-Z]{2,6}(?![\w-])")


def phrase_words(phrase: str) -> list[str]:
    """The words of a capitalised phrase without the function words that open it: "The NATO
    Mission" opens a sentence, and its "The" is not part of the name."""
    tokens = phrase.split()
    while tokens and tokens[0].casefold() in STOPWORDS:
        tokens = tokens[1:]
    return tokens


def initials(phrase: str) -> set[str]:
    """The acronyms a capitalised phrase may be written as: its capitalised words' initials,
    and all its words' ("NATO Mission in Iraq" -> {"NMI", "NMII"})."""
    tokens = phrase_words(phrase)
    capitalised = "".join(w[0] for w in tokens if w[:1].isupper()).upper()
    every = "".join(w[0] for w in tokens if w[:1].isalpha()).upper()
    return {a for a in (capitalised, every) if len(a) >= 2}


def acronyms_in(text: str) -> list[str]:
    """Words of ``text`` written as acronyms ("NMI", "EU"), in order, without repeats."""
    return list(dict.fromkeys(_ACRONYM.findall(text)))
