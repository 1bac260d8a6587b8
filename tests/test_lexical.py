"""Unit tests of the word-level decisions in ``lexical.py`` (keyword index, scoring, rules)."""

from __future__ import annotations

import pytest

from docqa.lexical import (
    QUESTION_WORDS,
    STOPWORDS,
    capitalised_phrases,
    content_terms,
    keyword_tokens,
    named_phrases,
    named_phrases_with_text,
    names,
    normalize,
    numbers,
    stem,
    words,
)


def test_normalize_folds_case_and_accents() -> None:
    assert normalize("Café ÉLAN") == "cafe elan"
    assert normalize("Straße") == "strasse"  # casefold, not lower
    assert normalize("plain ascii") == "plain ascii"


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("ministries", "ministry"),
        ("classes", "class"),
        ("discussing", "discuss"),
        ("reportedly", "report"),
        ("trained", "train"),
        ("boxes", "box"),
        ("troops", "troop"),
        # Derived forms count as the word.
        ("resurgence", "resurg"),
        ("resurging", "resurg"),
        ("establishment", "establish"),
        ("established", "establish"),
        ("presence", "presence"),  # "pres" would be too short to mean anything
        # Never aggressive: short words, -ss/-us/-is endings and numbers stay as they are.
        ("focus", "focus"),
        ("analysis", "analysis"),
        ("class", "class"),
        ("bus", "bus"),
        ("sing", "sing"),
        ("used", "used"),
        ("2018", "2018"),
    ],
)
def test_stem(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_words_split_apostrophes_and_drop_possessives() -> None:
    assert words("NATO's Secretary-General met ‘Café’ staff; don't") == [
        "nato",
        "secretary-general",
        "met",
        "cafe",
        "staff",
        "don",
        "t",
    ]
    assert words("NATO’s mission") == ["nato", "mission"]  # typographic apostrophe too
    assert words("snake_case 3.5") == ["snake", "case", "3", "5"]


def test_content_terms_drop_stop_and_question_words_and_stem() -> None:
    assert content_terms("What were the ministries discussing about reforms?") == [
        "ministry",
        "discuss",
        "reform",
    ]
    assert content_terms("Who is it?") == []


def test_no_stop_word_survives_content_terms() -> None:
    plain = {w for w in STOPWORDS | QUESTION_WORDS if "'" not in w}
    assert content_terms(" ".join(sorted(plain))) == []


def test_capitalised_contractions_are_not_names() -> None:
    assert names("He said: \"Don't wait\", and Isn't it Goffus?") == {"goffus"}


def test_keyword_tokens_also_index_hyphenated_parts() -> None:
    assert keyword_tokens("drought-resistant wheat fields") == [
        "drought-resistant",
        "drought",
        "resistant",
        "wheat",
        "field",
    ]


def test_numbers_drop_thousands_separators_and_keep_decimals() -> None:
    assert numbers("In 2,018 there were 3.5 million and 12 more") == {"2018", "3.5", "12"}
    assert numbers("no digits here") == set()


def test_names_skip_sentence_starts_and_stop_words() -> None:
    found = names("Tom Goffus met the Iraqi delegation. The talks were in Brussels. It ended.")
    assert found == {"goffus", "iraqi", "brussel"}


def test_capitalised_phrases_keep_linking_words_and_arabic_prefixes() -> None:
    text = "Qasim al-Araji met the NATO Mission in Iraq and Tom Goffus of the Alliance."
    assert capitalised_phrases(text) == [
        "Qasim al-Araji",
        "NATO Mission in Iraq",
        "Tom Goffus of the Alliance",
    ]
    # A linking word with no capitalised word after it ends the phrase.
    assert capitalised_phrases("Talks in Baghdad in the spring") == ["Talks in Baghdad"]
    # Not a name inside a hyphenated word.
    assert capitalised_phrases("pre-War plans") == []


def test_named_phrases_skip_the_question_word_that_starts_a_sentence() -> None:
    assert named_phrases_with_text("Who is Tom Goffus?", skip_first_word=True) == [
        ("Tom Goffus", ("tom", "goffus"))
    ]
    assert named_phrases("What is the NATO Mission in Iraq?", skip_first_word=True) == [
        ("nato", "mission", "iraq")
    ]
    # A capitalised first word that begins a longer phrase keeps the rest of it.
    assert named_phrases("Tom Goffus spoke.", skip_first_word=True) == [("goffus",)]
    assert named_phrases("Where?", skip_first_word=True) == []
    # Without skipping, stop and question words are still dropped from each phrase.
    assert named_phrases("The Alliance met.") == [("alliance",)]
