"""Property tests of the citation machinery: whatever the text, every citation is exact.

Unit level: a document is chunked, its sentences get random scores, and the extractive answerer
selects and composes an answer. End to end: generated documents are ingested into a real Chroma
store with a deterministic fake embedder and asked random questions.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.embeddings import DeterministicFakeEmbedding

from docqa import DocQA
from docqa.answerers.extractive import compose_answer, select_sentences
from docqa.boilerplate import boilerplate_label
from docqa.chunking import chunk_document, split_sentences
from docqa.errors import QuestionError
from docqa.models import Citation, Document
from docqa.scoring import ScoredSentence

MARKER = re.compile(r"\[(\d+)\]")

WORDS = st.sampled_from(
    [
        "the", "harbour", "was", "rebuilt", "in", "1987", "Dr", "Mr", "U.S", "e.g", "NATO",
        "Qasim", "al-Araji", "Ägypten", "café", "naïve", "東京", "مرحبا", "Привет", "😀",
        "x" * 40, "a", "I", "(note", "“quoted”", "it's", "don’t", "3.14", "No",
    ]
)  # fmt: skip
PUNCTUATION = st.sampled_from(
    [" ", " ", " ", ". ", "? ", "! ", "... ", ", ", "; ", ": ", " - ", ".\n", "\n", "\n\n",
     "\r\n", "\t", "  ", ".\u2028", "\u00a0", ". ) ", "!\" "]
)  # fmt: skip
STRUCTURED = st.lists(st.tuples(WORDS, PUNCTUATION), min_size=1, max_size=60).map(
    lambda pairs: "".join(word + sep for word, sep in pairs)
)
TEXTS = st.one_of(
    STRUCTURED,
    STRUCTURED,
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.text(alphabet=" .!?\n\r\t\"'”’)(Aa1é\u2028\u3002", min_size=1, max_size=300),
)
# Text as it often comes from the web: footnote markers that look like citation markers.
FOOTNOTED = st.lists(
    st.tuples(WORDS, st.sampled_from([" ", ". ", "[1] ", "[3]. ", "[12] ", ".[7] "])),
    min_size=1,
    max_size=40,
).map(lambda pairs: "".join(word + sep for word, sep in pairs))


def scored_sentences(
    document: Document, data: st.DataObject, chunk_chars: int, overlap: int
) -> list[ScoredSentence]:
    """Every sentence of the document's chunks once, with random scores, best first."""
    chunks = chunk_document(document, max_chars=chunk_chars, overlap_sentences=overlap)
    seen: set[tuple[int, int]] = set()
    scored: list[ScoredSentence] = []
    for rank, chunk in enumerate(chunks):
        for i, span in enumerate(chunk.sentences):
            if span in seen:
                continue
            seen.add(span)
            neighbours = [
                chunk.sentences[j] for j in (i - 1, i + 1) if 0 <= j < len(chunk.sentences)
            ]
            neighbour = data.draw(st.sampled_from([None, *neighbours]))
            similarity = data.draw(st.floats(-1.0, 1.0))
            coverage = data.draw(st.floats(0.0, 1.0))
            scored.append(
                ScoredSentence(
                    chunk=chunk,
                    span=span,
                    chunk_rank=rank,
                    similarity=similarity,
                    coverage=coverage,
                    score=data.draw(st.floats(-1.0, 2.0)),
                    context_similarity=data.draw(st.floats(-1.0, 1.0)),
                    neighbour=neighbour,
                )
            )
    scored.sort(key=lambda s: (-s.score, s.chunk_rank, s.span))
    return scored


def answer_for(text: str, data: st.DataObject) -> tuple[str, tuple[Citation, ...]]:
    document = Document("doc", "Doc", "doc.txt", text)
    scored = scored_sentences(
        document, data, data.draw(st.integers(1, 600)), data.draw(st.integers(0, 3))
    )
    chosen = select_sentences(
        scored,
        data.draw(st.integers(1, 10)),
        data.draw(st.floats(0.0, 1.0)),
        data.draw(st.one_of(st.none(), st.floats(-0.5, 0.5))),
    )
    draft = compose_answer(chosen)
    return draft.text, draft.citations


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.data())
def test_composed_citations_are_exact(text: str, data: st.DataObject) -> None:
    answer, citations = answer_for(text, data)
    content = [text[a:b] for a, b in split_sentences(text) if boilerplate_label(text[a:b]) is None]
    if not content:  # nothing, or only boilerplate ("©"): never an answer
        assert citations == () and answer == ""
        return
    assert citations
    assert [c.number for c in citations] == list(range(1, len(citations) + 1))
    for c in citations:
        assert c.quote == text[c.start : c.end]
        assert c.quote.strip() == c.quote and c.quote
        assert " ".join(c.quote.split()) in answer
        assert f"[{c.number}]" in answer
    assert {int(n) for n in MARKER.findall(answer)} <= {c.number for c in citations}
    assert answer == " ".join(f"{' '.join(c.quote.split())} [{c.number}]" for c in citations)


@settings(max_examples=100, deadline=None)
@given(FOOTNOTED, st.data())
def test_every_marker_in_an_answer_refers_to_its_citation(text: str, data: st.DataObject) -> None:
    """A ``[n]`` in the answer text must be a citation marker, never a document's footnote."""
    answer, citations = answer_for(text, data)
    numbers = {c.number for c in citations}
    for c in citations:
        assert c.quote == text[c.start : c.end]
    stray = [m for m in MARKER.findall(answer) if int(m) not in numbers]
    assert stray == [], f"answer {answer!r} has markers {stray} without a citation"
    # Each citation's marker follows its own quote, and only there.
    assert len(MARKER.findall(answer)) == len(citations), answer


# ---- end to end ------------------------------------------------------------------------------
QUESTION_WORDS = st.lists(
    st.sampled_from(["harbour", "rebuilt", "NATO", "café", "東京", "glacier", "the", "1987"]),
    min_size=1,
    max_size=6,
).map(" ".join)


@pytest.mark.slow
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.lists(STRUCTURED, min_size=1, max_size=3), st.lists(QUESTION_WORDS, max_size=3), st.data()
)
def test_end_to_end_citations_match_the_files(
    texts: list[str], questions: list[str], data: st.DataObject
) -> None:
    root = Path(tempfile.mkdtemp(prefix="docqa-prop-"))
    try:
        corpus = root / "corpus"
        corpus.mkdir()
        for i, text in enumerate(texts):
            (corpus / f"doc-{i}.txt").write_bytes(text.encode("utf-8"))
        qa = DocQA(
            corpus_dir=corpus,
            index_dir=root / "index",
            embedder=DeterministicFakeEmbedding(size=384),
            abstain_threshold=0.0,
        )
        report = qa.ingest()
        indexed = set(report.added)
        assert indexed == {f"doc-{i}.txt" for i, t in enumerate(texts) if t.strip()}
        # A sentence copied from a document, asked back, must be answered.
        sentences = [s for t in texts for s in re.split(r"[\n.!?]", t) if s.strip()]
        asked = list(questions)
        if sentences:
            asked.append(data.draw(st.sampled_from(sentences)))
        for question in asked:
            try:
                answer = qa.ask(question)
            except QuestionError:
                assert not question.strip() or not indexed
                continue
            if answer.abstained:
                assert answer.citations == ()
                assert question not in sentences, (question, answer.abstention_reason)
                continue
            assert [c.number for c in answer.citations] == list(range(1, len(answer.citations) + 1))
            for c in answer.citations:
                assert c.source in indexed
                file_text = (corpus / c.source).read_bytes().decode("utf-8")
                assert file_text[c.start : c.end] == c.quote
                assert " ".join(c.quote.split()) in answer.text
    finally:
        shutil.rmtree(root, ignore_errors=True)
