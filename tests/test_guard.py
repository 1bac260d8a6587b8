"""The grounding guard: generated sentences are kept, re-cited or dropped against the documents.

The "LLM" is a scripted fake chat model; the vectors come from the real embedding model, so the
similarity thresholds are exercised as they are in use.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from docqa.chunking import chunk_document
from docqa.guard import (
    MIN_SIMILARITY,
    GuardResult,
    SourceSentence,
    chunk_support,
    split_generated,
    verify_answer,
)
from docqa.models import ABSTENTION_TEXT, Chunk, Document

DOCUMENTS = {
    "mission.txt": (
        "NATO Mission in Iraq",
        "The NATO Mission in Iraq was established at Iraq's request in 2018. "
        "It focuses on non-combat advisory roles and capacity building within Iraqi security "
        "institutions. Its advisers work with officials of the Iraqi Ministry of Defence.",
    ),
    "goffus.txt": (
        "Remarks by Tom Goffus",
        "Tom Goffus is NATO Assistant Secretary General for Operations. He emphasised the "
        "alliance's commitment to helping Iraq combat terrorism and prevent the resurgence of "
        "Daesh. He met the Iraqi delegation at NATO Headquarters.",
    ),
    "southern.txt": (
        "Southern Neighbourhood",
        "A Special Representative for the Southern Neighbourhood will strengthen NATO's "
        "engagement in the region. The aim is better coordination with partners in the Middle "
        "East, North Africa and the Sahel.",
    ),
}

Embed = Callable[[list[str]], np.ndarray]


@pytest.fixture(scope="module")
def corpus(embedder: Embeddings) -> tuple[list[Chunk], list[SourceSentence], dict[str, Document]]:
    """Sources 1-3 (one chunk per document) and their sentences, embedded for real."""
    documents = {
        name: Document(doc_id=name, title=title, source=name, text=text)
        for name, (title, text) in DOCUMENTS.items()
    }
    chunks = [chunk_document(doc, max_chars=2000)[0] for doc in documents.values()]
    assert all(len(c.sentences) >= 2 for c in chunks)
    spans = [(c, span) for c in chunks for span in c.sentences]
    vectors = embedder.embed_documents([c.sentence_text(span) for c, span in spans])
    evidence = [
        SourceSentence(c, span, np.asarray(v, dtype=np.float32))
        for (c, span), v in zip(spans, vectors, strict=True)
    ]
    return chunks, evidence, documents


@pytest.fixture(scope="module")
def embed(embedder: Embeddings) -> Embed:
    def run(texts: list[str]) -> np.ndarray:
        return np.asarray(embedder.embed_documents(texts), dtype=np.float32)

    return run


def guard(
    corpus: tuple[list[Chunk], list[SourceSentence], dict[str, Document]],
    embed: Embed,
    *answers: str,
) -> list[GuardResult]:
    """Have the scripted model give each answer in turn and guard what it wrote."""
    chunks, evidence, _ = corpus
    chat = FakeListChatModel(responses=list(answers))
    results = []
    for _ in answers:
        written = chat.invoke("What does the NATO Mission in Iraq do?").content
        assert isinstance(written, str)
        results.append(verify_answer(written, chunks, evidence, embed))
    return results


Corpus = tuple[list[Chunk], list[SourceSentence], dict[str, Document]]


@pytest.mark.slow
def test_correct_answer_passes_untouched(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(
        corpus,
        embed,
        "The NATO Mission in Iraq was established in 2018 at Iraq's request. [1] "
        "Tom Goffus is NATO's Assistant Secretary General for Operations. [2]",
    )
    assert [s.status for s in result.sentences] == ["kept", "kept"]
    assert [s.source for s in result.sentences] == [1, 2]
    assert [s.reason for s in result.sentences] == ["verified against [1]", "verified against [2]"]
    assert result.dropped == []
    documents = corpus[2]
    first, second = (s.evidence for s in result.sentences)
    assert first is not None and second is not None
    assert first.text.startswith("The NATO Mission in Iraq was established")
    assert second.text.startswith("Tom Goffus is NATO Assistant")
    for evidence in (first, second):
        document = documents[evidence.chunk.doc_id]
        assert document.text[evidence.span[0] : evidence.span[1]] == evidence.text
    assert all(s.similarity >= MIN_SIMILARITY for s in result.sentences)


@pytest.mark.slow
def test_hallucinated_sentence_is_dropped(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(
        corpus,
        embed,
        "The mission focuses on non-combat advisory roles [1]. "
        "The alliance will also sell fighter jets and tanks to the government [1].",
    )
    kept, dropped = result.sentences
    assert (kept.status, kept.source) == ("kept", 1)
    assert dropped.status == "dropped"
    assert dropped.evidence is None and dropped.source is None
    assert dropped.reason.startswith("no source supports it: ")
    assert result.kept == [kept] and result.dropped == [dropped]


@pytest.mark.slow
def test_invented_source_is_replaced_by_the_right_one(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(
        corpus, embed, "Tom Goffus is NATO Assistant Secretary General for Operations [9]."
    )
    (sentence,) = result.sentences
    assert sentence.claimed == (9,)
    assert (sentence.status, sentence.source) == ("corrected", 2)
    assert sentence.reason == "invented source [9] replaced by [2]"


@pytest.mark.slow
def test_invented_source_on_unsupported_sentence_is_dropped(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(corpus, embed, "The alliance will sell fighter jets to the government [9].")
    (sentence,) = result.sentences
    assert sentence.status == "dropped"
    assert sentence.reason.startswith("invented source [9]; no source supports it")


@pytest.mark.slow
def test_wrong_source_is_corrected(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(
        corpus, embed, "The mission focuses on non-combat advisory roles and capacity building [2]."
    )
    (sentence,) = result.sentences
    assert (sentence.status, sentence.source) == ("corrected", 1)
    assert sentence.reason == "moved from [2] to [1]"
    assert sentence.evidence is not None
    assert "non-combat advisory roles" in sentence.evidence.text


@pytest.mark.slow
def test_uncited_sentence_gets_its_source(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(corpus, embed, "Tom Goffus met the Iraqi delegation at NATO Headquarters.")
    (sentence,) = result.sentences
    assert (sentence.status, sentence.source, sentence.claimed) == ("corrected", 2, ())
    assert sentence.reason == "uncited; supported by [2]"


@pytest.mark.slow
def test_number_not_in_any_source_drops_a_similar_sentence(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(
        corpus, embed, "The NATO Mission in Iraq was established at Iraq's request in 2016 [1]."
    )
    (sentence,) = result.sentences
    assert sentence.status == "dropped"
    assert sentence.reason == "number 2016 not in any source"
    assert sentence.similarity >= MIN_SIMILARITY  # similar enough: only the number betrays it


@pytest.mark.slow
def test_name_not_in_any_source_drops_a_similar_sentence(corpus: Corpus, embed: Embed) -> None:
    (result,) = guard(
        corpus,
        embed,
        "Today Jens Stoltenberg is NATO Assistant Secretary General for Operations [2].",
    )
    (sentence,) = result.sentences
    assert sentence.status == "dropped"
    assert sentence.reason == "name Jens, Stoltenberg not in any source"
    assert sentence.similarity >= MIN_SIMILARITY


@pytest.mark.slow
def test_names_in_the_title_or_hyphenated_count_as_present(corpus: Corpus, embed: Embed) -> None:
    chunks, evidence, _ = corpus
    # "Goffus" is in source 2's title and text; "Daesh" in its text.
    (sentence,) = verify_answer(
        "According to Goffus, NATO helps Iraq prevent the resurgence of Daesh [2].",
        chunks,
        evidence,
        embed,
    ).sentences
    assert (sentence.status, sentence.source) == ("kept", 2)


@pytest.mark.slow
def test_sentence_merging_two_adjacent_sentences_is_supported(corpus: Corpus, embed: Embed) -> None:
    chunks, evidence, _ = corpus
    merged = (
        "The NATO Mission in Iraq was established at Iraq's request in 2018 and focuses on "
        "non-combat advisory roles and capacity building."
    )
    mission = [e for e in evidence if e.chunk is chunks[0]]
    vector = embed([merged])[0]
    support = chunk_support(merged, vector, mission)
    singles = [float(e.vector @ vector) for e in mission]
    assert support.similarity > max(singles)  # the pair reads closer than either sentence
    assert support.evidence.span == mission[int(np.argmax(singles[:2]))].span
    (sentence,) = verify_answer(f"{merged} [1]", chunks, evidence, embed).sentences
    assert (sentence.status, sentence.source) == ("kept", 1)


@pytest.mark.slow
def test_abstention_gives_an_empty_result(corpus: Corpus, embed: Embed) -> None:
    results = guard(
        corpus,
        embed,
        ABSTENTION_TEXT,
        f"  {ABSTENTION_TEXT.upper()} [1]",
        ABSTENTION_TEXT.rstrip("."),
    )
    assert all(r.sentences == () for r in results)
    assert all(r.kept == [] and r.dropped == [] for r in results)


@pytest.mark.slow
def test_ties_go_to_the_claimed_then_the_earlier_source(corpus: Corpus, embed: Embed) -> None:
    chunks, evidence, _ = corpus
    sources = [chunks[1], chunks[0], chunks[1]]  # the same chunk shown as [1] and [3]
    text = "Tom Goffus is NATO Assistant Secretary General for Operations"
    claimed_third = verify_answer(f"{text} [3].", sources, evidence, embed).sentences[0]
    assert (claimed_third.status, claimed_third.source) == ("kept", 3)
    moved = verify_answer(f"{text} [2].", sources, evidence, embed).sentences[0]
    assert (moved.status, moved.source, moved.reason) == ("corrected", 1, "moved from [2] to [1]")


@pytest.mark.slow
def test_guard_is_deterministic(corpus: Corpus, embed: Embed) -> None:
    answer = (
        "The mission was established in 2018 [2]. Tom Goffus met the Iraqi delegation [9]. "
        "The alliance sells tanks [1]."
    )
    first, second = guard(corpus, embed, answer, answer)

    def summary(result: GuardResult) -> list[tuple[object, ...]]:
        return [
            (s.text, s.claimed, s.status, s.source, s.reason, s.similarity, s.evidence)
            for s in result.sentences
        ]

    assert summary(first) == summary(second)
    assert [s.status for s in first.sentences] == ["corrected", "corrected", "dropped"]
    assert [s.source for s in first.sentences] == [1, 2, None]


@pytest.mark.slow
def test_paraphrase_with_new_content_words_is_dropped(corpus: Corpus, embed: Embed) -> None:
    # The calibrated term overlap (0.8, from ClapNQ's near-extractive answers) is strict: "set up"
    # for "established" leaves 2 of 3 content terms, and the sentence goes.
    (result,) = guard(corpus, embed, "The mission was set up in 2018 [1].")
    (sentence,) = result.sentences
    assert sentence.status == "dropped"
    assert sentence.reason.startswith("no source supports it: closest [1], term overlap 0.67")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("One. [1] Two. [2]", [("One.", (1,)), ("Two.", (2,))]),
        ("One [1]. Two [2].", [("One.", (1,)), ("Two.", (2,))]),
        ("One.[1][2] Two. [3] [1]", [("One.", (1, 2)), ("Two.", (3, 1))]),
        ("One [1, 3]. Two [2; 1].", [("One.", (1, 3)), ("Two.", (2, 1))]),
        ("One [1-3]. Two [2–3].", [("One.", (1, 2, 3)), ("Two.", (2, 3))]),
        ("NATO [1] helps Iraq [2] now.", [("NATO helps Iraq now.", (1, 2))]),
        ("No marks. None either!", [("No marks.", ()), ("None either!", ())]),
        ("In the U.S. [2] Then not.", [("In the U.S.", (2,)), ("Then not.", ())]),
        ("A line.\n[2]\nNext line [1].", [("A line.", (2,)), ("Next line.", (1,))]),
        ("Repeated [1] twice [1].", [("Repeated twice.", (1,))]),
        ("Glued[1]word.", [("Glued word.", (1,))]),
        ("", []),
    ],
)  # fmt: skip
def test_split_generated_handles_every_marker_format(
    text: str, expected: list[tuple[str, tuple[int, ...]]]
) -> None:
    assert split_generated(text) == expected
