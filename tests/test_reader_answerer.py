"""The reader answerer through the ``Answerer`` seam, and its answer-phrase offsets.

A fake ``read`` function stands in for the model here (wiring only); the shipped reader itself is
exercised in ``test_reader_model.py`` and through ``DocQA`` with a real store there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from docqa.answerers import Answerer, Draft, ReaderAnswerer, final_draft, make_answerer
from docqa.chunking import chunk_document
from docqa.evidence import Evidence, read_evidence, reader_features
from docqa.models import Chunk, Citation, Document, RetrievedChunk
from docqa.reader.reading import SentenceReading
from docqa.reader.spans import Phrase, best_phrase
from docqa.scoring import ScoredSentence
from docqa.settings import load_settings

TEXT = (
    "The bridge opened in 1932. It carries six lanes of traffic. "
    "Its designer was Ann Lee, an engineer. The bridge was painted red in 1990."
)


def _sentences(text: str = TEXT) -> list[ScoredSentence]:
    """The sentences of ``text``, all scored alike (so that the reader's judgement decides)."""
    document = Document("bridge.md", "Bridge", "bridge.md", text)
    chunk = chunk_document(document, max_chars=1000, overlap_sentences=0)[0]
    return [ScoredSentence(chunk, span, 0, 0.5, 0.5, 1.0) for span in chunk.sentences]


def _evidence(sentences: Sequence[ScoredSentence]) -> Evidence:
    chunk = sentences[0].chunk
    return Evidence(
        question="Who designed the bridge?",
        query="Who designed the bridge?",
        turns=(),
        vector=np.zeros(3, dtype=np.float32),
        retrieved=(RetrievedChunk(chunk, 1.0),),
        sentence_vectors={},
        sentences=tuple(sentences),
        features={},
    )


def _reader(read):  # type: ignore[no-untyped-def]
    """The reader answerer as the factory builds it from the default settings."""
    return make_answerer(
        load_settings(answerer="reader"),
        embedder=lambda: None,
        chat_model=lambda: None,
        reader=lambda: read,
    )  # type: ignore[arg-type]


def _fake_read(probabilities: dict[str, float], phrase: str | None = None):  # type: ignore[no-untyped-def]
    """A reader that gives each sentence a fixed probability and marks ``phrase`` where found."""

    def read(question: str, texts: Sequence[str]) -> list[SentenceReading]:
        out = []
        for text in texts:
            p = next((v for k, v in probabilities.items() if k in text), 0.01)
            found = None
            if phrase and phrase in text:
                found = Phrase(text.index(phrase), text.index(phrase) + len(phrase), 5.0)
            out.append(SentenceReading(p, float(np.log(p / (1 - p))), found))
        return out

    return read


def test_the_reader_answerer_keeps_the_answerer_contract() -> None:
    answerer = _reader(_fake_read({"designer": 0.9}, "Ann Lee"))
    assert isinstance(answerer, Answerer) and answerer.name == "reader"
    items = list(answerer.stream(_evidence(_sentences())))
    assert isinstance(items[-1], Draft) and sum(isinstance(i, Draft) for i in items) == 1
    draft = final_draft(iter(items))
    (citation,) = draft.citations
    assert citation.quote == "Its designer was Ann Lee, an engineer."
    assert TEXT[citation.start : citation.end] == citation.quote
    assert citation.answer_phrase == "Ann Lee"
    assert TEXT[citation.answer_start : citation.answer_end] == "Ann Lee"  # type: ignore[misc]
    assert draft.text == "Its designer was Ann Lee, an engineer. [1]"


def test_a_second_sentence_joins_only_when_the_reader_judges_it_answers() -> None:
    evidence = _evidence(_sentences())
    both = {"designer": 0.9, "opened": 0.8}
    one = {"designer": 0.9, "opened": 0.6}
    two = final_draft(_reader(_fake_read(both)).stream(evidence))
    assert [c.quote for c in two.citations] == [  # reading order, numbered in it
        "The bridge opened in 1932.",
        "Its designer was Ann Lee, an engineer.",
    ]
    single = final_draft(_reader(_fake_read(one)).stream(evidence))
    assert [c.quote for c in single.citations] == ["Its designer was Ann Lee, an engineer."]


def test_gathered_readings_are_used_and_only_the_best_sentences_are_read() -> None:
    calls: list[int] = []
    fake = _fake_read({"painted": 0.8})

    def counting(question: str, texts: Sequence[str]) -> list[SentenceReading]:
        calls.append(len(texts))
        return fake(question, texts)

    sentences = _sentences()
    read = read_evidence(counting, "q", sentences, limit=2)
    assert calls == [2]  # the two best-scored sentences only
    assert [r.sentence.span for r in read] == [s.span for s in sentences[:2]]
    evidence = Evidence(**{**_evidence(sentences).__dict__, "read": read})
    answerer = _reader(counting)
    final_draft(answerer.stream(evidence))
    assert calls == [2]  # the answerer reused the gathered reading
    features = reader_features(read)
    assert features["reader_best_logit"] >= features["reader_second_logit"]


def test_make_answerer_builds_the_reader_from_settings() -> None:
    settings = load_settings(answerer="reader", read_sentences=4, reader_second_probability=0.7)
    answerer = make_answerer(
        settings, embedder=lambda: None, chat_model=lambda: None, reader=lambda: _fake_read({})
    )  # type: ignore[arg-type]
    assert isinstance(answerer, ReaderAnswerer)
    assert (answerer.read_sentences, answerer.second_probability) == (4, 0.7)


def test_best_phrase_stays_inside_the_sentence_and_in_order() -> None:
    starts = np.array([9.0, 0.0, 1.0, 5.0, 0.0])
    ends = np.array([9.0, 0.0, 0.0, 1.0, 6.0])
    inside = [False, True, True, True, True]  # token 0 is the question: never chosen
    offsets = [(0, 0), (0, 3), (4, 8), (9, 12), (13, 16)]
    phrase = best_phrase(starts, ends, inside, offsets)
    assert phrase == Phrase(9, 16, 11.0)
    assert best_phrase(starts, ends, [False] * 5, offsets) is None
    # The end never precedes the start, and the phrase is at most max_tokens long.
    capped = best_phrase(starts, ends, inside, offsets, max_tokens=1)
    assert capped is not None and (capped.start, capped.end) == (9, 12)


@given(data=st.data())
def test_answer_phrase_offsets_are_exact(data: st.DataObject) -> None:
    words = st.sampled_from(["bridge", "Ann", "Lee", "1932", "café", "東京", "x", " ", "  "])
    sentences = data.draw(
        st.lists(st.lists(words, min_size=1, max_size=12), min_size=1, max_size=5)
    )
    text = " ".join("".join(w) + "." for w in sentences)
    document = Document("d.md", "D", "d.md", text)
    chunk: Chunk = chunk_document(document, max_chars=1000, overlap_sentences=0)[0]
    span = data.draw(st.sampled_from(chunk.sentences))
    a = data.draw(st.integers(span[0], span[1]))
    b = data.draw(st.integers(a, span[1]))
    citation = Citation.of_sentence(1, chunk, span, 0.5, phrase=(a, b))
    assert text[citation.start : citation.end] == citation.quote
    if citation.answer_start is None:
        assert text[a:b].strip() == ""  # only an empty or blank phrase is dropped
    else:
        assert citation.answer_end is not None
        assert span[0] <= citation.answer_start < citation.answer_end <= span[1]
        phrase = text[citation.answer_start : citation.answer_end]
        assert phrase == citation.answer_phrase == text[a:b].strip()
        assert citation.to_dict()["answer_phrase"] == phrase


def test_a_phrase_outside_its_sentence_is_refused() -> None:
    chunk = _sentences()[0].chunk
    span = chunk.sentences[0]
    try:
        Citation.of_sentence(1, chunk, span, 0.5, phrase=(span[1] - 1, span[1] + 3))
    except ValueError as exc:
        assert "outside the sentence" in str(exc)
    else:
        raise AssertionError("a phrase outside the sentence was accepted")
