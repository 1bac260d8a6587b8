"""The levers that read a question in the user's own words, on made-up documents (fast lane):
evidence below the sentence (parts of long sentences), what the question asks for (entities
found at ingest), acronyms, compound questions, and boilerplate kept out of answers."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import MakeQA
from docqa import DocQA
from docqa.answerers.extractive import (
    answer_candidates,
    compose_answer,
    typed_phrases,
)
from docqa.boilerplate import boilerplate_label, is_boilerplate_for
from docqa.chunking import PART_STRIDE, PART_WORDS, sentence_parts
from docqa.conversation import compound_parts
from docqa.entities import Entity, decode_entities, encode_entities
from docqa.keyword import KeywordIndex, acronym_table
from docqa.layout import IndexPaths
from docqa.lexical import initials
from docqa.manifest import Manifest
from docqa.models import Chunk, Span
from docqa.scoring import ScoredSentence, best_part_similarities, score_sentences
from docqa.store import PartVectors

# --- parts of long sentences -------------------------------------------------------------------


def test_short_sentences_have_no_parts() -> None:
    assert sentence_parts(" ".join(["word"] * (PART_WORDS + PART_STRIDE))) == []


def test_parts_are_overlapping_windows_that_cover_the_sentence() -> None:
    words = [f"w{i}" for i in range(40)]
    text = " ".join(words)
    parts = sentence_parts(text)
    assert all(len(text[a:b].split()) == PART_WORDS for a, b in parts)
    covered = {w for a, b in parts for w in text[a:b].split()}
    assert covered == set(words)  # the last words are never left out
    starts = [text[a:b].split()[0] for a, b in parts]
    assert starts == ["w0", "w8", "w16", "w24"]
    assert sentence_parts(text) == parts  # found again from the text alone


def test_a_sentence_is_credited_with_half_of_what_its_best_part_adds() -> None:
    q = np.array([1.0, 0.0], dtype=np.float32)
    parts = PartVectors(np.array([[0.6, 0.8], [1.0, 0.0]], dtype=np.float32), np.array([1, 1]))
    assert best_part_similarities(3, parts, q).tolist() == [-1.0, 1.0, -1.0]
    text = "One. Two. Three."
    spans: tuple[Span, ...] = ((0, 4), (5, 9), (10, 16))
    chunk = Chunk("c", "d", "d.txt", "D", 0, len(text), text, spans)
    vectors = np.array([[0.5, 0.866], [0.5, 0.866], [0.5, 0.866]], dtype=np.float32)
    from docqa.models import RetrievedChunk

    scored = score_sentences("one", q, [RetrievedChunk(chunk, 1.0)], {"c": vectors}, {"c": parts})
    by_span = {s.span: s.similarity for s in scored}
    assert by_span[(5, 9)] == pytest.approx(0.5 + 0.5 * (1.0 - 0.5))
    assert by_span[(0, 4)] == pytest.approx(0.5)  # no parts: the sentence's own cosine


def test_ingest_stores_the_parts_and_entities_of_each_chunk(make_fake_qa: MakeQA) -> None:
    long = (
        "The northern water authority, founded by Ada Lovelace in 1843 after a long drought, "
        "monitors the reservoirs, repairs the pumps and publishes a report on every dam."
    )
    qa = make_fake_qa({"water.txt": long + "\nIt employs 40 engineers.\n"})
    qa.ingest()
    [chunk] = qa.store.all_chunks()
    assert chunk.entities is not None
    offset = chunk.start
    kinds = {chunk.text[e.start - offset : e.end - offset]: e.kind for e in chunk.entities}
    assert kinds.get("Ada Lovelace") == "person"
    assert kinds.get("1843") == "date"
    assert kinds.get("40") == "amount"
    sentences, parts = qa.store.read_vectors([chunk])
    assert sentences[chunk.chunk_id].shape == (2, 384)
    assert len(parts[chunk.chunk_id].owners) == len(sentence_parts(long))
    assert set(parts[chunk.chunk_id].owners.tolist()) == {0}  # only the long sentence has parts


def test_entities_survive_the_store_round_trip() -> None:
    entities = (Entity(0, 4, "person"), Entity(10, 14, "date"), Entity(20, 22, "amount"))
    assert decode_entities(encode_entities(entities)) == entities
    assert decode_entities("") == ()


# --- what the question asks for ------------------------------------------------------------------

STAFF = "The authority employs many engineers. It hired 40 engineers in 2019. It repairs pumps."


def _scored(text: str, entities: tuple[Entity, ...], scores: list[float]) -> list[ScoredSentence]:
    spans: list[Span] = []
    start = 0
    for piece in text.split(". "):
        end = start + len(piece) + (0 if piece.endswith(".") else 1)
        spans.append((start, end))
        start = end + 1
    chunk = Chunk("c", "d", "d.txt", "D", 0, len(text), text, tuple(spans), entities=entities)
    return [
        ScoredSentence(chunk, span, 0, similarity=s, coverage=0.5, score=s)
        for span, s in zip(spans, scores, strict=True)
    ]


def test_a_close_sentence_holding_the_asked_amount_is_preferred() -> None:
    entities = (Entity(STAFF.index("40"), STAFF.index("40") + 2, "amount"),)
    scored = _scored(STAFF, entities, [0.9, 0.8, 0.3])
    best = answer_candidates(scored, "How many engineers does the authority employ?")[0]
    assert best.text == "It hired 40 engineers in 2019."
    # Without a demand for an amount, the best-scored sentence stays first.
    assert answer_candidates(scored, "What does the authority do?")[0].text.startswith("The")
    # Too far below the best, the typed sentence is not preferred.
    far = _scored(STAFF, entities, [0.9, 0.5, 0.3])
    assert answer_candidates(far, "How many engineers?")[0].text.startswith("The")


def test_a_typed_sentence_must_name_what_the_question_names() -> None:
    text = "The Dam Board runs the dam. Ada Lovelace chairs the Water Club."
    person = text.index("Ada Lovelace")
    scored = _scored(text, (Entity(person, person + 12, "person"),), [0.9, 0.85])
    # "Who runs the Dam Board?": the sentence naming a person names another body: not preferred.
    assert answer_candidates(scored, "Who runs the Dam Board?")[0].text.startswith("The Dam")
    assert answer_candidates(scored, "Who chairs the club?")[0].text.startswith("Ada")


def test_the_extractive_answer_marks_the_answer_phrase(make_fake_qa: MakeQA) -> None:
    qa = make_fake_qa(
        {"water.txt": "The reservoir opened in 1843 near the old mill.\n"}, abstain_threshold=0.0
    )
    answer = qa.ask("In what year did the reservoir open?")
    assert not answer.abstained, answer.abstention_reason
    [citation] = answer.citations
    assert citation.answer_phrase == "1843"
    assert answer.phrases == ((1, "1843"),)
    assert citation.quote[citation.answer_start - citation.start :].startswith("1843")


# --- acronyms ------------------------------------------------------------------------------------


def test_initials_of_a_phrase() -> None:
    assert initials("NATO Mission in Iraq") == {"NMI", "NMII"}
    assert initials("The Northern Water Authority") == {"NWA"}


def test_an_acronym_the_documents_never_use_is_spelled_out() -> None:
    texts = ["The Northern Water Authority repairs pumps. The Northern Water Authority hires."]
    assert acronym_table(texts)["NWA"] == "Northern Water Authority"
    index = KeywordIndex.build(["c1"], texts, "g")
    assert index.expand_acronyms("What does the NWA repair?") == (
        "What does the NWA (Northern Water Authority) repair?"
    )
    # An acronym the documents use themselves is left alone.
    used = KeywordIndex.build(["c1"], ["The NWA repairs pumps."], "g")
    assert used.expand_acronyms("What does the NWA repair?") == "What does the NWA repair?"


def test_a_question_in_acronyms_is_answered(make_fake_qa: MakeQA) -> None:
    qa = make_fake_qa(
        {"water.txt": "The Northern Water Authority repairs the pumps of every dam.\n"}
    )
    answer = qa.ask("What does the NWA repair?")
    assert answer.standalone_question == "What does the NWA (Northern Water Authority) repair?"
    assert answer.abstention_reason is None or answer.abstention_reason.code.value != (
        "name_not_found"
    )


# --- compound questions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "parts"),
    [
        (
            "When was the dam built, and what does it supply?",
            ("When was the dam built?", "What does it supply?"),
        ),
        (
            "Where did they meet and with whom did they speak?",
            ("Where did they meet?", "With whom did they speak?"),
        ),
        ("Between Paris and what city does the train run?", None),
        ("What is salt and pepper?", None),
    ],
)
def test_compound_parts(question: str, parts: tuple[str, ...] | None) -> None:
    assert compound_parts(question) == (parts or (question,))


def test_each_part_of_a_compound_question_gets_its_own_sentence(make_fake_qa: MakeQA) -> None:
    text = (
        "The dam was built in 1843 by the valley council.\n"
        "Its reservoir holds rain from the mountains.\n"
        "Today the dam supplies drinking water to the town of Elmford.\n"
    )
    qa = make_fake_qa({"dam.txt": text})
    answer = qa.answerer.stream(qa.gather("When was the dam built, and what does the dam supply?"))
    draft = list(answer)[-1]
    quotes = [c.quote for c in draft.citations]  # type: ignore[union-attr]
    assert quotes == [
        "The dam was built in 1843 by the valley council.",
        "Today the dam supplies drinking water to the town of Elmford.",
    ]


# --- boilerplate ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "label"),
    [
        ("Original Source: example.org/report.txt", "Original Source"),
        ("Author: Jane Doe", "Author"),
        ("By Jane Doe | 3 May 2024", "Byline"),
        ("Home > News > World", "Navigation"),
        ("© 2024 Example Ltd. All rights reserved.", "Copyright"),
        ("Tom Goffus: the alliance is committed.", None),  # a quotation is content
        ("The dam was built in 1843 by the valley council.", None),
    ],
)
def test_boilerplate_label(sentence: str, label: str | None) -> None:
    assert boilerplate_label(sentence) == label


def test_boilerplate_answers_only_a_question_about_its_label() -> None:
    line = "Original Source: example.org/report.txt"
    assert is_boilerplate_for(line, "Where is the dam?")
    assert not is_boilerplate_for(line, "What is the original source of this report?")


def test_boilerplate_is_never_an_answer_or_a_closest_passage(make_fake_qa: MakeQA) -> None:
    text = (
        "The dam report covers the valley.\n"
        "Original Source: dams.example.org/valley-dam-report\n"
        "The dam was built in 1843.\n"
    )
    qa = make_fake_qa({"dam.txt": text}, abstain_threshold=1.0)  # always abstain
    closest = qa.ask("What does the dam report say about the valley dam?").closest
    assert closest and all("example.org" not in c.quote for c in closest)
    answered = make_fake_qa(abstain_threshold=0.0).ask("What is the original source?")
    assert "dams.example.org" in answered.text


@given(
    before=st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    number=st.integers(min_value=2, max_value=10**6),
    after=st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
)
def test_the_answer_phrase_is_an_exact_span_of_the_document(
    before: str, number: int, after: str
) -> None:
    """Whatever surrounds it, the amount found at ingest becomes a phrase whose document offsets
    give back exactly its text, inside the quote."""
    prefix = "Preface line.\n"
    sentence = f"{before} {number} {after}"
    text = prefix + sentence
    start = len(prefix)
    at = start + len(before) + 1
    chunk = Chunk(
        "c", "d", "d.txt", "D", 0, len(text), text, ((start, len(text)),),
        entities=(Entity(at, at + len(str(number)), "amount"),),
    )  # fmt: skip
    scored = ScoredSentence(chunk, (start, len(text)), 0, 0.5, 0.5, 0.5)
    phrases = typed_phrases([scored], "How many are there?")
    [citation] = compose_answer([scored], phrases).citations
    assert citation.quote == text[citation.start : citation.end]
    assert (
        citation.answer_phrase == str(number) == text[citation.answer_start : citation.answer_end]
    )


def test_an_index_from_an_earlier_version_gains_parts_and_entities(make_fake_qa: MakeQA) -> None:
    """An index whose chunks were stored without entities and parts (an earlier version) is
    re-embedded and tagged by the next ingest; until then it answers without them."""
    dams = " ".join(f"Dam {i} was built by Ada Lovelace in 18{40 + i}." for i in range(5))
    long = "The valley council, " + "which meets every spring, " * 6 + "runs the five dams."
    qa = make_fake_qa({"dams.txt": f"{dams}\n{long}\n"})
    qa.ingest()
    manifest = Manifest.load(IndexPaths(qa.settings.index_dir).manifest)
    chunks = qa.store.all_chunks()
    # What an earlier version stored: no entities, no parts, an older chunking signature.
    qa.store.delete([c.chunk_id for c in chunks])
    qa.store.add([replace(c, entities=None) for c in chunks], *_vectors(qa, chunks))
    manifest.chunking = "sentences-v1/1000/1"
    manifest.save(IndexPaths(qa.settings.index_dir).manifest)
    assert all(c.entities is None for c in qa.store.all_chunks())
    assert not any(qa.store.read_vectors(chunks)[1])  # no part vectors
    untagged = make_fake_qa(abstain_threshold=0.0).ask("Who built dam 3?")
    assert untagged.citations  # answers as before: patterns stand in for entities

    report = make_fake_qa().ingest()
    assert report.chunks_embedded == len(chunks)
    qa.store.refresh()  # another instance wrote: see its generation now, not within a second
    assert all(c.entities for c in qa.store.all_chunks())
    assert any(qa.store.read_vectors(qa.store.all_chunks())[1])  # the long sentence's parts


def _vectors(qa: DocQA, chunks: list[Chunk]) -> tuple[list[list[float]], list[list[list[float]]]]:
    embedder = qa.embedder
    chunk_vectors = embedder.embed_documents([c.text for c in chunks])
    sentence_vectors = [
        embedder.embed_documents([c.sentence_text(s) for s in c.sentences]) for c in chunks
    ]
    return chunk_vectors, sentence_vectors
