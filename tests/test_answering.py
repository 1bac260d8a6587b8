"""Answers on the real NATO index (facts, exact citations, abstention) and the answer composer."""

from __future__ import annotations

import re

import pytest

from docqa import ABSTENTION_TEXT, Answer, DocQA
from docqa.answerers.extractive import compose_answer, select_sentences
from docqa.lexical import content_terms
from docqa.models import Chunk, Span
from docqa.scoring import ScoredSentence, term_coverage

NATO_NAME = "nato-iraq-political-dialogue.txt"

MARKER = re.compile(r"\[(\d+)\]")

ANSWERABLE = [
    ("Who led the Iraqi delegation?", "al-Araji"),
    ("When was the NATO Mission in Iraq established?", "2018"),
    ("What is Javier Colomina's position?", "Deputy Assistant Secretary General"),
    ("Which regions are part of NATO's Southern Neighbourhood?", "Sahel"),
    ("What is Tom Goffus's role?", "Assistant Secretary General for Operations"),
    ("Why was the NATO Mission in Iraq set up?", "advisory"),
    # Known limitation, kept visible: the Sahel sentence shares no words with this phrasing and
    # MiniLM scores it 0.15, so the answer stops at the sentence naming the representative.
    pytest.param(
        "Which regions does the Southern Neighbourhood special representative cover?",
        "Sahel",
        marks=pytest.mark.xfail(strict=True, reason="answer sentence not found (see README)"),
    ),
]

OUT_OF_SCOPE = [
    "What is the budget of the mission?",
    "How many troops does NATO have in Iraq?",
    "Who is NATO's Secretary General?",
    "Who is the Secretary General of NATO?",
    "What is the capital of Australia?",
    "When is the next meeting of the dialogue?",
    # Known limitation, kept visible: the long named topic dominates the evidence scores.
    pytest.param(
        "What is the annual budget of the NATO Mission in Iraq?",
        marks=pytest.mark.xfail(strict=True, reason="answered from the topic sentence"),
    ),
]


def assert_citations_are_exact(answer: Answer, text: str) -> None:
    assert answer.citations
    assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    markers = [int(n) for n in MARKER.findall(answer.text)]
    assert sorted(set(markers)) == [c.number for c in answer.citations]
    for citation in answer.citations:
        assert citation.quote == text[citation.start : citation.end]
        assert citation.source == NATO_NAME
        assert citation.doc_id == NATO_NAME
        assert citation.page is None
        # The answer sentence is the quote (whitespace collapsed), followed by its marker.
        assert f"{' '.join(citation.quote.split())} [{citation.number}]" in answer.text


# --- the real NATO index ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("question", "fact"), ANSWERABLE)
def test_answers_state_the_documented_fact(
    nato_qa: DocQA, nato_text: str, question: str, fact: str
) -> None:
    answer = nato_qa.ask(question)

    assert not answer.abstained, f"abstained (confidence {answer.confidence})"
    assert fact in answer.text
    assert any(fact in c.quote for c in answer.citations)
    assert_citations_are_exact(answer, nato_text)
    assert 0.0 <= answer.confidence <= 1.0
    assert answer.question == question
    assert len(answer.citations) <= nato_qa.settings.max_answer_sentences
    assert MARKER.search(answer.plain_text) is None


@pytest.mark.slow
@pytest.mark.parametrize("question", OUT_OF_SCOPE)
def test_out_of_scope_questions_abstain(nato_qa: DocQA, question: str) -> None:
    answer = nato_qa.ask(question)

    assert answer.abstained, f"answered {answer.text!r} (confidence {answer.confidence})"
    assert answer.text == ABSTENTION_TEXT
    assert answer.citations == ()
    assert answer.retrieved  # retrieval still ran; the evidence was judged insufficient


@pytest.mark.slow
def test_abstain_threshold_setting_overrides_the_model(nato_dirs, embedder) -> None:
    question = "When was the NATO Mission in Iraq established?"
    common = {"corpus_dir": nato_dirs["corpus"], "index_dir": nato_dirs["index"]}
    never = DocQA(embedder=embedder, abstain_threshold=1.0, **common).ask(question)
    always = DocQA(embedder=embedder, abstain_threshold=0.0, **common).ask(question)

    assert never.abstained
    assert never.text == ABSTENTION_TEXT
    assert not always.abstained
    assert always.citations
    assert never.confidence == always.confidence  # the threshold moves, the estimate does not


@pytest.mark.slow
def test_max_answer_sentences_setting_caps_citations(nato_dirs, embedder, nato_text) -> None:
    qa = DocQA(
        corpus_dir=nato_dirs["corpus"],
        index_dir=nato_dirs["index"],
        embedder=embedder,
        max_answer_sentences=1,
        sentence_keep_ratio=0.0,
        abstain_threshold=0.0,
    )
    answer = qa.ask("What is the NATO Mission in Iraq?")
    assert len(answer.citations) == 1
    assert_citations_are_exact(answer, nato_text)


# --- select_sentences / compose_answer ----------------------------------------------------------

DOC_ONE = "Alpha is first. Beta comes second.\nGamma is third."
DOC_TWO = "Delta opens doc two. Beta comes second."


def spans_of(text: str) -> list[Span]:
    spans, start = [], 0
    for match in re.finditer(r"[^.]+\.", text):
        piece = match.group(0)
        lead = len(piece) - len(piece.lstrip())
        spans.append((match.start() + lead, match.end()))
        start = match.end()
    assert start == len(text)
    return spans


def chunk_for(doc_id: str, text: str) -> Chunk:
    return Chunk(
        chunk_id=f"{doc_id}#0",
        doc_id=doc_id,
        source=f"{doc_id}.txt",
        title=doc_id.upper(),
        start=0,
        end=len(text),
        text=text,
        sentences=tuple(spans_of(text)),
    )


ONE = chunk_for("one", DOC_ONE)
TWO = chunk_for("two", DOC_TWO)


def scored(chunk: Chunk, index: int, score: float, rank: int = 0) -> ScoredSentence:
    return ScoredSentence(chunk, chunk.sentences[index], rank, score, 1.0, score)


def texts(sentences: list[ScoredSentence]) -> list[str]:
    return [s.text for s in sentences]


def test_select_keeps_close_runners_up_in_reading_order() -> None:
    ranked = [scored(ONE, 2, 1.0), scored(ONE, 0, 0.95), scored(ONE, 1, 0.5)]
    chosen = select_sentences(ranked, max_sentences=3, keep_ratio=0.9)
    assert texts(chosen) == ["Alpha is first.", "Gamma is third."]


def test_select_respects_max_sentences() -> None:
    ranked = [scored(ONE, 0, 1.0), scored(ONE, 1, 1.0), scored(ONE, 2, 1.0)]
    assert len(select_sentences(ranked, max_sentences=2, keep_ratio=0.0)) == 2
    only = select_sentences(ranked, max_sentences=1, keep_ratio=0.0)
    assert [s.span for s in only] == [ranked[0].span]


def test_select_keep_ratio_bounds() -> None:
    ranked = [scored(ONE, 1, 1.0), scored(ONE, 0, 0.99), scored(ONE, 2, 0.2)]
    assert texts(select_sentences(ranked, 3, keep_ratio=1.0)) == ["Beta comes second."]
    assert len(select_sentences(ranked, 3, keep_ratio=0.0)) == 3
    assert select_sentences([], 3, 0.5) == []


def test_select_drops_the_same_sentence_from_another_document() -> None:
    ranked = [scored(ONE, 1, 1.0), scored(TWO, 1, 0.99, rank=1), scored(TWO, 0, 0.98, rank=1)]
    chosen = select_sentences(ranked, max_sentences=3, keep_ratio=0.5)
    assert texts(chosen) == ["Beta comes second.", "Delta opens doc two."]
    assert [s.chunk.doc_id for s in chosen] == ["one", "two"]


def test_select_orders_documents_by_their_best_sentence() -> None:
    ranked = [scored(TWO, 0, 1.0, rank=0), scored(ONE, 0, 0.97, rank=1), scored(TWO, 1, 0.96)]
    chosen = select_sentences(ranked, max_sentences=3, keep_ratio=0.9)
    assert [(s.chunk.doc_id, s.span) for s in chosen] == [
        ("two", TWO.sentences[0]),
        ("two", TWO.sentences[1]),
        ("one", ONE.sentences[0]),
    ]


def test_compose_numbers_each_sentence_and_quotes_it_exactly() -> None:
    quote = "Line one\n  continues."
    end = 10 + len(quote)
    multiline = Chunk("m#0", "m", "m.txt", "M", 10, end, quote, ((10, end),))
    sentences = [scored(ONE, 0, 0.9), scored(multiline, 0, 0.8), scored(TWO, 0, 0.7)]

    draft = compose_answer(sentences)
    text, citations = draft.text, draft.citations

    assert text == "Alpha is first. [1] Line one continues. [2] Delta opens doc two. [3]"
    assert [c.number for c in citations] == [1, 2, 3]
    assert citations[1].quote == quote  # exact, newline kept
    assert (citations[1].start, citations[1].end) == (10, end)
    assert citations[0].quote == DOC_ONE[citations[0].start : citations[0].end]
    assert [c.source for c in citations] == ["one.txt", "m.txt", "two.txt"]
    assert [c.title for c in citations] == ["ONE", "M", "TWO"]
    assert citations[0].score == 0.9
    assert (compose_answer([]).text, compose_answer([]).citations) == ("", ())


def test_plain_text_drops_markers() -> None:
    draft = compose_answer([scored(ONE, 0, 1.0), scored(ONE, 2, 0.9)])
    answer = Answer("q", draft.text, draft.citations, False, 0.9, "q")
    assert answer.plain_text == "Alpha is first. Gamma is third."


def test_term_coverage() -> None:
    terms = set(content_terms("Which glaciers are shrinking?"))
    assert term_coverage(terms, "The glacier keeps shrinking.") == 1.0
    assert term_coverage(terms, "Glaciers are large.") == 0.5
    assert term_coverage(set(), "anything") == 1.0
