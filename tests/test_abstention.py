"""Unit tests of the decision stage (``abstention.py``) and the answer-type patterns it reads."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from docqa.abstention import (
    ANSWER,
    AbstentionModel,
    Decision,
    decide,
    default_model,
    fit_logistic,
    review,
    unsupported_names,
)
from docqa.answer_types import (
    AMOUNT,
    DATE,
    NAME,
    TaggedText,
    answer_phrase,
    answer_type_match,
    asked_kind,
    missing_answer_type,
    new_names,
)
from docqa.entities import Entity
from docqa.evidence import Evidence
from docqa.features import FEATURES
from docqa.models import AbstentionCode, Chunk, Citation, RetrievedChunk
from docqa.scoring import ScoredSentence

TEXT = "Tom Goffus visited Baghdad in 2019. The mission trains 500 Iraqi officers."


def _chunk(text: str = TEXT) -> Chunk:
    first = text.index(".") + 1
    spans = ((0, first), (first + 1, len(text)))
    return Chunk("c1", "d1", "report.txt", "Report", 0, len(text), text, spans)


def _evidence(query: str, *, sentences: bool = True, text: str = TEXT) -> Evidence:
    chunk = _chunk(text)
    scored = tuple(
        ScoredSentence(chunk, span, 0, similarity=0.5, coverage=0.5, score=0.5)
        for span in chunk.sentences
    )
    return Evidence(
        question=query,
        query=query,
        turns=(),
        vector=np.zeros(4, dtype=np.float32),
        retrieved=(RetrievedChunk(chunk, 1.0),) if sentences else (),
        sentence_vectors={},
        sentences=scored if sentences else (),
        features={"x": 1.0},
    )


def _model(threshold: float = 0.5, weight: float = 1.0) -> AbstentionModel:
    return AbstentionModel(("x",), (0.0,), (1.0,), (weight,), 0.0, threshold)


def _citation(quote: str) -> Citation:
    return Citation(1, "d1", "report.txt", "Report", 0, len(quote), quote, 0.9)


def _answered(
    question: str, quote: str, entities: tuple[Entity, ...] | None = None
) -> tuple[Evidence, tuple[Citation, ...]]:
    """Evidence whose one sentence is ``quote`` (tagged with ``entities``), and its citation."""
    chunk = Chunk("c1", "d1", "report.txt", "Report", 0, len(quote), quote, ((0, len(quote)),))
    chunk = replace(chunk, entities=entities)
    scored = (ScoredSentence(chunk, (0, len(quote)), 0, 0.5, 0.5, 0.5),)
    evidence = Evidence(
        question=question,
        query=question,
        turns=(),
        vector=np.zeros(4, dtype=np.float32),
        retrieved=(RetrievedChunk(chunk, 1.0),),
        sentence_vectors={},
        sentences=scored,
        features={"x": 1.0},
    )
    return evidence, (_citation(quote),)


# --- the model --------------------------------------------------------------------------------


def test_probability_is_the_standardised_logistic() -> None:
    model = AbstentionModel(("a", "b"), (1.0, 0.0), (2.0, 1.0), (0.5, -1.0), 0.25, 0.5)
    z = 0.25 + 0.5 * (3.0 - 1.0) / 2.0 - 1.0 * 0.5
    assert model.probability({"a": 3.0, "b": 0.5}) == pytest.approx(1 / (1 + math.exp(-z)))
    # A missing feature counts as 0; extreme inputs saturate instead of overflowing.
    assert model.probability({"a": 3.0}) == pytest.approx(1 / (1 + math.exp(-(0.25 + 0.5))))
    assert model.probability({"a": 1e9}) == pytest.approx(1.0)
    assert model.probability({"a": -1e9}) == pytest.approx(0.0)


def test_shipped_model_reads_only_known_features() -> None:
    model = default_model()
    assert set(model.features) <= set(FEATURES)
    assert len(model.features) == len(model.mean) == len(model.scale) == len(model.weights)
    assert all(s > 0 for s in model.scale)
    assert 0.0 < model.threshold < 1.0


def test_fit_logistic_separates_a_separable_sample() -> None:
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(-2, 1, (100, 2)), rng.normal(2, 1, (100, 2))])
    y = np.array([0] * 100 + [1] * 100, dtype=float)
    mean, scale, weights, bias = fit_logistic(x, y)
    model = AbstentionModel(("a", "b"), tuple(mean), tuple(scale), tuple(weights), bias, 0.5)
    predicted = [model.probability({"a": a, "b": b}) >= 0.5 for a, b in x]
    assert np.mean(np.array(predicted) == y.astype(bool)) > 0.95
    assert all(w > 0 for w in weights)  # both features point towards class 1


def test_fit_logistic_keeps_a_constant_feature_finite() -> None:
    x = np.column_stack([np.linspace(-1, 1, 20), np.ones(20)])
    y = (x[:, 0] > 0).astype(float)
    mean, scale, weights, _ = fit_logistic(x, y)
    assert scale[1] == 1.0
    assert weights[1] == pytest.approx(0.0)


# --- decide -----------------------------------------------------------------------------------


def test_confident_answerable_question_is_answered() -> None:
    decision = decide(_evidence("What does the mission train?"), _model(threshold=0.5))
    assert decision.answers
    assert decision.code == ANSWER
    assert decision.reason is None
    assert decision.confidence == pytest.approx(1 / (1 + math.exp(-1.0)))
    assert "reaches the threshold" in decision.message


def test_no_evidence_comes_first() -> None:
    # Even with a name the (empty) evidence lacks and low confidence, the reason is "no evidence".
    decision = decide(_evidence("Who is Jens Stoltenberg?", sentences=False), _model(0.99))
    assert decision.code == AbstentionCode.NO_EVIDENCE
    assert not decision.answers


def test_a_name_missing_from_the_evidence_abstains_whatever_the_confidence() -> None:
    decision = decide(_evidence("What did Jens Stoltenberg say?"), _model(threshold=0.0))
    assert decision.code == AbstentionCode.NAME_NOT_FOUND
    assert "jens stoltenberg" in decision.message


def test_low_confidence_abstains_and_keeps_the_estimate() -> None:
    decision = decide(_evidence("What does the mission train?"), _model(weight=-3.0))
    assert decision.code == AbstentionCode.LOW_CONFIDENCE
    assert decision.confidence < decision.threshold
    assert "below the threshold" in decision.message


def test_an_explicit_threshold_overrides_the_calibrated_one() -> None:
    evidence = _evidence("What does the mission train?")
    assert not decide(evidence, _model(threshold=0.5), threshold=0.99).answers
    assert decide(_evidence("What does the mission train?"), _model(0.99), threshold=0.0).answers


# --- review -----------------------------------------------------------------------------------


def test_review_passes_an_answer_that_holds_what_was_asked() -> None:
    decision = Decision(0.9, 0.5)
    quote = "The mission trains 500 Iraqi officers."
    assert review(decision, *_answered("How many officers does it train?", quote)) == decision


def test_review_abstains_without_citations() -> None:
    reviewed = review(Decision(0.9, 0.5), _evidence("What does it train?"), ())
    assert reviewed.code == AbstentionCode.UNSUPPORTED_ANSWER
    assert reviewed.confidence == 0.9


@pytest.mark.parametrize(
    ("question", "quote", "lacking"),
    [
        ("How many officers are trained?", "The mission trains Iraqi officers.", "an amount"),
        ("Who visited Baghdad?", "it was visited by a delegation from Baghdad.", "a name"),
        ("In what year was it founded?", "It was founded by monks.", "a date"),
    ],
)
def test_review_abstains_when_the_answer_lacks_its_type(
    question: str, quote: str, lacking: str
) -> None:
    reviewed = review(Decision(0.9, 0.5), *_answered(question, quote))
    assert reviewed.code == AbstentionCode.ANSWER_TYPE_MISSING
    assert lacking in reviewed.message


def test_review_abstains_only_when_neither_entities_nor_patterns_find_the_type() -> None:
    """The rule is lenient: an entity found at ingest ("ada lovelace", a person in lower case)
    or a pattern (a capitalised name) is enough; with neither, the answer lacks its type."""
    quote = "the talks were led by ada lovelace in 2018."
    person = (Entity(quote.index("ada"), quote.index("ada") + 12, "person"),)
    date_only = (Entity(quote.index("2018"), quote.index("2018") + 4, "date"),)
    assert review(Decision(0.9, 0.5), *_answered("Who led the talks?", quote, person)).answers
    lacking = review(Decision(0.9, 0.5), *_answered("Who led the talks?", quote, date_only))
    assert lacking.code == AbstentionCode.ANSWER_TYPE_MISSING
    capitalised = "The talks were led by Ada Lovelace in 2018."
    assert review(Decision(0.9, 0.5), *_answered("Who led the talks?", capitalised, ())).answers


def test_review_keeps_an_earlier_abstention() -> None:
    earlier = Decision(0.2, 0.5).abstain(AbstentionCode.LOW_CONFIDENCE, "low")
    assert review(earlier, _evidence("Who?"), ()) is earlier


# --- unsupported_names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "evidence", "missing"),
    [
        ("Who is Tom Goffus?", "Tom Goffus spoke.", []),
        ("What did Goffus say?", "Tom Goffus spoke.", []),
        # The first word of a question is capitalised only because it starts the sentence.
        ("Where did the talks happen?", "The talks happened in Brussels.", []),
        # A whole phrase must occur as a run inside one phrase of the evidence.
        (
            "Who is the Secretary General?",
            "The Assistant Secretary General spoke.",
            [],
        ),
        # ... but "NATO's Secretary General" is not named by an *Assistant* Secretary General.
        (
            "Who is NATO's Secretary General?",
            "NATO Assistant Secretary General Tom Goffus.",
            ["nato secretary general"],
        ),
        ("What did Jens Stoltenberg say?", "Tom Goffus spoke.", ["jens stoltenberg"]),
        # Hyphenated names count by their parts.
        ("What did Araji say?", "Qasim al-Araji led the delegation.", []),
        # "X's Y": Y may start a name of the evidence that also names X.
        (
            "What is NATO's Southern Neighbourhood?",
            "The NATO Special Representative for the Southern Neighbourhood.",
            [],
        ),
        ("what did jens stoltenberg say?", "Tom Goffus spoke.", []),  # lower case: no rule
        # An acronym is named by a phrase of the evidence with its initials.
        ("What does the NMI train?", "The NATO Mission in Iraq trains officers.", []),
        ("What does the ABC train?", "The NATO Mission in Iraq trains officers.", ["abc"]),
    ],
)
def test_unsupported_names(question: str, evidence: str, missing: list[str]) -> None:
    assert unsupported_names(question, evidence) == missing


def test_possessive_owner_must_be_named_too() -> None:
    evidence = "The Special Representative for the Southern Neighbourhood spoke."
    assert unsupported_names("What is NATO's Southern Neighbourhood?", evidence) != []


# --- answer types ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "text", "expected"),
    [
        ("How many troops are there?", "There are 500 troops.", 1.0),
        ("How many troops are there?", "Troops arrived in 2018.", 0.0),  # a year is no amount
        ("How many troops are there?", "Several troops arrived.", 1.0),
        ("When did it start?", "It started in March.", 1.0),
        ("When did it start?", "It started soon.", 0.0),
        ("Who leads it?", "It is led by Tom Goffus.", 1.0),
        ("Who leads it?", "it is led by a general.", 0.0),
        ("Where is it?", "It is in the north.", 1.0),
        ("What is it?", "Anything at all.", 1.0),  # no type implied
    ],
)
def test_answer_type_match(question: str, text: str, expected: float) -> None:
    assert answer_type_match(question, text) == expected


def _missing(question: str, answer: str) -> str | None:
    return missing_answer_type(question, [TaggedText(answer)])


def test_missing_answer_type() -> None:
    assert _missing("How much did it cost?", "It cost 3 million euros.") is None
    assert _missing("How much did it cost?", "It was expensive.") == "an amount"
    # "Who" needs a name the question does not already give.
    assert _missing("Who met Tom Goffus?", "Tom Goffus met them.") == "a name"
    assert _missing("Who met Tom Goffus?", "Qasim Araji met Tom Goffus.") is None
    assert _missing("On what date did it open?", "It opened on 3 May.") is None
    # Plain "when" is not checked (its answers are as often events as dates).
    assert _missing("When did it open?", "When the war ended.") is None
    # "Who is Tom Goffus?" gives the name and asks what it stands for.
    assert _missing("Who is Tom Goffus?", "He leads operations.") is None
    assert _missing("Who is the current Secretary General?", "He leads operations.") == "a name"


def test_one_sentence_of_the_answer_holding_the_type_is_enough() -> None:
    answer = [TaggedText("It was expensive."), TaggedText("It cost 3 million euros.")]
    assert missing_answer_type("How much did it cost?", answer) is None


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("How many troops are there?", AMOUNT),
        ("In which year was it founded?", DATE),
        ("Who leads the mission?", NAME),
        ("whom did they meet", NAME),
        ("Who was Qasim al-Araji?", None),
        ("When did it open?", None),
        ("Where is it?", None),
        ("What does it do?", None),
    ],
)
def test_asked_kind(question: str, kind: str | None) -> None:
    assert asked_kind(question) == kind


def test_answer_phrase_is_the_first_entity_of_the_kind_the_question_lacks() -> None:
    text = "Tom Goffus met Qasim al-Araji in 2018."
    tagged = TaggedText(text, (Entity(0, 10, "person"), Entity(15, 29, "person")))
    assert answer_phrase(NAME, tagged, "Who did Tom Goffus meet?") == (15, 29)
    assert answer_phrase(DATE, tagged, "In what year did they meet?") is None
    assert answer_phrase(NAME, TaggedText(text), "Who met?") is None  # untagged: no phrase


def test_new_names_leaves_out_names_the_question_gives() -> None:
    assert new_names("Who met Tom Goffus?", "Qasim Araji met Tom Goffus.") == [("qasim", "araji")]
