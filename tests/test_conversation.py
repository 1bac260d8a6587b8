"""Follow-up questions: rule-based rewriting, and the rewritten question used end to end."""

from __future__ import annotations

import pytest

from docqa import DocQA
from docqa.conversation import standalone_question

GOFFUS_ANSWER = (
    "Tom Goffus, NATO Assistant Secretary General for Operations, emphasized the alliance's "
    "commitment to helping Iraq. [1]"
)


def test_personal_pronoun_resolves_to_the_person_asked_about() -> None:
    rewritten = standalone_question("What did he emphasize?", [("Who is Tom Goffus?", "...")])
    assert "Tom Goffus" in rewritten
    assert "emphasize" in rewritten
    assert " he " not in f" {rewritten} "


def test_pronoun_prefers_a_person_named_in_the_answer_when_the_question_has_none() -> None:
    history = [("Who led the delegation?", "Qasim al-Araji led the delegation. [1]")]
    rewritten = standalone_question("What did he say?", history)
    assert "Qasim al-Araji" in rewritten


def test_latest_turn_wins_over_older_ones() -> None:
    history = [("Who is Tom Goffus?", GOFFUS_ANSWER), ("Who is Javier Colomina?", "...")]
    rewritten = standalone_question("What did he highlight?", history)
    assert "Javier Colomina" in rewritten
    assert "Goffus" not in rewritten


def test_ellipsis_swaps_the_subject_of_the_previous_question() -> None:
    rewritten = standalone_question("And Javier Colomina?", [("What is Tom Goffus's role?", "...")])
    assert "Javier Colomina" in rewritten
    assert "Goffus" not in rewritten
    assert "role" in rewritten
    # The possessive of the previous question must survive the swap.
    assert "Javier Colomina's role" in rewritten


def test_possessive_pronoun_after_a_possessive_question() -> None:
    rewritten = standalone_question("What is his role?", [("What is Tom Goffus's role?", "...")])
    assert "Tom Goffus's role" in rewritten
    assert "'s's" not in rewritten


def test_impersonal_pronoun_resolves_to_a_multi_word_name() -> None:
    history = [("What is the NATO Mission in Iraq?", "...")]
    rewritten = standalone_question("When was it established?", history)
    assert "NATO Mission in Iraq" in rewritten
    assert "established" in rewritten


def test_without_history_the_question_is_unchanged() -> None:
    assert standalone_question("What did he emphasize?", []) == "What did he emphasize?"
    assert standalone_question("  Who is Tom Goffus?  ", []) == "Who is Tom Goffus?"


@pytest.mark.parametrize(
    "question",
    [
        "When was the NATO Mission in Iraq established?",
        "Who led the Iraqi delegation?",
        "Which regions does the Southern Neighbourhood special representative cover?",
    ],
)
def test_self_contained_question_is_unchanged(question: str) -> None:
    assert standalone_question(question, [("Who is Tom Goffus?", GOFFUS_ANSWER)]) == question


def test_bare_follow_up_carries_the_previous_question_along() -> None:
    rewritten = standalone_question("Why?", [("Who is Tom Goffus?", GOFFUS_ANSWER)])
    assert rewritten.startswith("Why?")
    assert "Who is Tom Goffus?" in rewritten


# --- end to end on the NATO index ---------------------------------------------------------------


@pytest.mark.slow
def test_follow_up_retrieves_and_cites_the_goffus_passage(nato_qa: DocQA, nato_text: str) -> None:
    first = nato_qa.ask("Who is Tom Goffus?")

    second = nato_qa.ask("What did he emphasize?", history=[("Who is Tom Goffus?", first.text)])

    assert "Tom Goffus" in second.standalone_question
    assert second.question == "What did he emphasize?"
    top = second.retrieved[0].chunk.text
    assert "Goffus" in top
    assert "emphasized" in top
    assert not second.abstained
    quotes = [c.quote for c in second.citations]
    assert any("Goffus" in q and "emphasized" in q for q in quotes)
    for citation in second.citations:
        assert nato_text[citation.start : citation.end] == citation.quote


@pytest.mark.slow
def test_history_accepts_answer_objects(nato_qa: DocQA) -> None:
    first = nato_qa.ask("Who is Tom Goffus?")
    second = nato_qa.ask("What did he emphasize?", history=[("Who is Tom Goffus?", first)])
    assert "Tom Goffus" in second.standalone_question


@pytest.mark.slow
def test_history_turns_zero_disables_rewriting(nato_dirs, embedder) -> None:
    qa = DocQA(
        corpus_dir=nato_dirs["corpus"],
        index_dir=nato_dirs["index"],
        embedder=embedder,
        history_turns=0,
    )
    answer = qa.ask("What did he emphasize?", history=[("Who is Tom Goffus?", GOFFUS_ANSWER)])
    assert answer.standalone_question == "What did he emphasize?"


@pytest.mark.slow
def test_only_the_last_history_turns_are_used(nato_dirs, embedder) -> None:
    qa = DocQA(
        corpus_dir=nato_dirs["corpus"],
        index_dir=nato_dirs["index"],
        embedder=embedder,
        history_turns=1,
    )
    history = [("Who is Tom Goffus?", GOFFUS_ANSWER), ("When was the mission set up?", "In 2018.")]
    answer = qa.ask("What did he emphasize?", history=history)
    assert "Goffus" not in answer.standalone_question


def test_existential_there_is_not_a_pronoun() -> None:
    history = [("What is the NATO Mission in Iraq?", "It advises Iraqi institutions. [1]")]
    for question in ("Is there a budget?", "Are there any troops left?", "There were talks?"):
        rewritten = standalone_question(question, history)
        assert rewritten.startswith(question), rewritten
        assert "in NATO Mission in Iraq" not in rewritten


def test_place_there_still_refers_back() -> None:
    history = [("What is the NATO Mission in Iraq?", "It advises Iraqi institutions. [1]")]
    rewritten = standalone_question("What happened there?", history)
    assert rewritten == "What happened in NATO Mission in Iraq?"
