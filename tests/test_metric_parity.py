"""docqa's metrics agree with the reference implementations: ``rouge-score`` for ROUGE-L and the
official SQuAD normalisation and F1 (as torchmetrics implements it) for token F1."""

from __future__ import annotations

import importlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from docqa.evaluation.metrics import rouge_l, squad_tokens, token_f1

squad = importlib.import_module("torchmetrics.functional.text.squad")
SCORER = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)

WORDS = st.sampled_from(
    [
        "the",
        "a",
        "an",
        "NATO",
        "Iraq",
        "mission",
        "mission's",
        "trains",
        "officers",
        "2018",
        "in",
        "of",
        "on",
        "500",
        "troops,",
        "talks.",
        "Goffus",
        "(al-Araji)",
        "don't",
        "it's",
        "Baghdad;",
        "reforms:",
        "security-sector",
        "3.5",
        "The",
        "A",
    ]
)
ASCII_TEXT = st.lists(WORDS, max_size=25).map(" ".join)
ANY_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=60)


def _rouge_score_best(candidate: str, references: list[str]) -> float:
    return max((SCORER.score(ref, candidate)["rougeL"].fmeasure for ref in references), default=0)


def _squad_best(candidate: str, references: list[str]) -> float:
    return max((float(squad._compute_f1_score(candidate, ref)) for ref in references), default=0.0)


@given(ASCII_TEXT, st.lists(ASCII_TEXT, min_size=1, max_size=3))
def test_rouge_l_matches_rouge_score_on_ascii_text(candidate: str, references: list[str]) -> None:
    assert rouge_l(candidate, references) == pytest.approx(
        _rouge_score_best(candidate, references), abs=1e-9
    )


def test_rouge_l_parity_on_a_real_answer() -> None:
    candidate = (
        "Tom Goffus, NATO Assistant Secretary General for Operations, emphasized the alliance's "
        "commitment to helping Iraq. [1]"
    )
    reference = ["NATO's Assistant Secretary General for Operations, Tom Goffus."]
    assert rouge_l(candidate, reference) == pytest.approx(_rouge_score_best(candidate, reference))


def test_rouge_l_keeps_non_ascii_letters_where_rouge_score_drops_them() -> None:
    # The one documented difference: rouge-score reads "Café Zürich" as "caf z rich".
    assert rouge_l("Café Zürich", ["caf z rich"]) == 0.0
    assert _rouge_score_best("Café Zürich", ["caf z rich"]) == 1.0


@given(ANY_TEXT)
def test_squad_normalisation_is_the_official_one(text: str) -> None:
    assert squad_tokens(text) == squad._get_tokens(text)


@given(ANY_TEXT.filter(lambda t: squad_tokens(t) != []), st.lists(ANY_TEXT, min_size=1, max_size=3))
def test_token_f1_matches_the_official_squad_f1(candidate: str, references: list[str]) -> None:
    assert token_f1(candidate, references) == pytest.approx(
        _squad_best(candidate, references), abs=1e-6
    )


def test_token_f1_ignores_articles_and_punctuation() -> None:
    assert token_f1("The mission, in Iraq.", ["a mission in Iraq"]) == 1.0
    assert token_f1("", ["anything"]) == 0.0
