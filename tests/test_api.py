"""The ``DocQA`` API: overrides, question checks, timings, auto-ingest, LangChain, ``ask()``."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import pytest
from langchain_core.documents import Document as LCDocument
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.retrievers import BaseRetriever

import docqa
import docqa.api
from docqa import DocQA, Settings
from docqa.errors import ConfigurationError, QuestionError

NATO_NAME = "nato-iraq-political-dialogue.txt"

# --- construction (no model, no store: both are built on first use) ----------------------------


def test_keyword_overrides_become_settings(tmp_path: Path) -> None:
    qa = DocQA(corpus_dir=tmp_path / "c", index_dir=tmp_path / "i", top_k=7, fusion="rrf")
    assert qa.settings.corpus_dir == tmp_path / "c"
    assert qa.settings.index_dir == tmp_path / "i"
    assert qa.settings.top_k == 7
    assert qa.settings.fusion == "rrf"
    assert qa.settings.candidates == Settings().candidates


def test_overrides_apply_on_top_of_a_settings_object(tmp_path: Path) -> None:
    base = Settings(corpus_dir=tmp_path, top_k=8, dense_weight=0.3)
    qa = DocQA(base, candidates=12)
    assert (qa.settings.top_k, qa.settings.dense_weight, qa.settings.candidates) == (8, 0.3, 12)
    assert qa.settings.corpus_dir == tmp_path
    assert base.candidates != 12  # the caller's object is left alone
    assert DocQA(base).settings is base


def test_invalid_override_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="top_k"):
        DocQA(index_dir=tmp_path, top_k=0)
    with pytest.raises(ConfigurationError, match="no_such_setting"):
        DocQA(index_dir=tmp_path, no_such_setting=1)


def test_injected_embedder_is_used_without_loading_a_model(tmp_path: Path) -> None:
    fake = DeterministicFakeEmbedding(size=384)
    qa = DocQA(corpus_dir=tmp_path, index_dir=tmp_path / "i", embedder=fake)
    assert qa.embedder is fake


# --- question checks ----------------------------------------------------------------------------


@pytest.fixture
def unindexed(tmp_path: Path) -> DocQA:
    """A DocQA whose corpus does not exist: any ingest attempt would fail loudly."""
    fake = DeterministicFakeEmbedding(size=384)
    return DocQA(
        corpus_dir=tmp_path / "missing",
        index_dir=tmp_path / "index",
        embedder=fake,
        max_question_chars=50,
    )


@pytest.mark.parametrize("question", ["", "   ", "\n\t ", "\x00\x07"])
def test_empty_question_is_refused(unindexed: DocQA, question: str) -> None:
    with pytest.raises(QuestionError, match="empty") as caught:
        unindexed.ask(question)
    assert "type a question" in str(caught.value)
    assert not unindexed.is_indexed()


def test_too_long_question_is_refused_with_the_limit(unindexed: DocQA) -> None:
    with pytest.raises(QuestionError) as caught:
        unindexed.ask("Why " * 20)
    message = str(caught.value)
    assert "50" in message
    assert "DOCQA_MAX_QUESTION_CHARS" in message
    assert not unindexed.is_indexed()


def test_an_overlong_conversation_is_refused_with_the_limit(tmp_path: Path) -> None:
    fake = DeterministicFakeEmbedding(size=384)
    qa = DocQA(
        corpus_dir=tmp_path / "missing",
        index_dir=tmp_path / "index",
        embedder=fake,
        max_history_turns=4,
    )
    turns = [("Who came?", "Ana came.")] * 5
    with pytest.raises(QuestionError) as caught:
        qa.ask("And then?", history=turns)
    assert "5 earlier turns" in str(caught.value) and "DOCQA_MAX_HISTORY_TURNS" in str(caught.value)
    with pytest.raises(QuestionError):
        qa.retrieve("And then?", history=turns)
    assert not qa.is_indexed()  # refused before any work


def test_non_text_question_is_refused(unindexed: DocQA) -> None:
    with pytest.raises(QuestionError, match="text"):
        unindexed.ask(42)  # type: ignore[arg-type]


def test_retrieve_checks_the_question_too(unindexed: DocQA) -> None:
    with pytest.raises(QuestionError):
        unindexed.retrieve("  ")


@pytest.mark.slow
def test_control_characters_are_removed(nato_qa: DocQA) -> None:
    raw = "\x1b[31mWho is Tom\x00 Goffus?\x07\u200b"
    answer = nato_qa.ask(raw)

    assert answer.question == raw
    assert not any(unicodedata.category(ch)[0] == "C" for ch in answer.standalone_question), repr(
        answer.standalone_question
    )
    assert "Goffus" in answer.standalone_question
    assert "Goffus" in answer.retrieved[0].chunk.text


# --- ask ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_answer_reports_stage_timings(nato_qa: DocQA) -> None:
    answer = nato_qa.ask("Who led the Iraqi delegation?")
    timings = answer.timings
    assert set(timings) == {"embed", "retrieve", "score", "answer", "total"}
    assert all(value >= 0 for value in timings.values())
    parts = timings["embed"] + timings["retrieve"] + timings["score"] + timings["answer"]
    assert timings["total"] >= parts
    assert timings["total"] < 30


@pytest.mark.slow
def test_ask_builds_a_missing_index_first(make_qa, small_corpus, read_text, tmp_path) -> None:
    qa = make_qa(small_corpus)
    assert not qa.is_indexed()

    answer = qa.ask("How often do the staff measure the ice thickness?")

    assert qa.is_indexed()
    assert qa.store.count() > 0
    assert answer.retrieved
    top = answer.retrieved[0].chunk
    assert top.source == "alpha.txt"
    for citation in answer.citations:
        assert (
            citation.quote
            == read_text(tmp_path / "corpus" / citation.source)[citation.start : citation.end]
        )


@pytest.mark.slow
def test_retrieve_returns_top_k_best_first(nato_dirs, embedder) -> None:
    qa = DocQA(
        corpus_dir=nato_dirs["corpus"], index_dir=nato_dirs["index"], embedder=embedder, top_k=2
    )
    hits = qa.retrieve("Who is Tom Goffus?")
    assert len(hits) == 2
    assert hits[0].score >= hits[1].score
    assert "Tom Goffus" in hits[0].chunk.text


# --- LangChain retriever ------------------------------------------------------------------------


@pytest.mark.slow
def test_langchain_retriever_returns_documents_with_exact_offsets(
    nato_qa: DocQA, nato_text: str
) -> None:
    retriever = nato_qa.retriever
    assert isinstance(retriever, BaseRetriever)

    docs = retriever.invoke("Who is Tom Goffus?")

    assert 1 <= len(docs) <= nato_qa.settings.top_k
    assert all(isinstance(d, LCDocument) for d in docs)
    assert "Tom Goffus" in docs[0].page_content
    for doc in docs:
        meta = doc.metadata
        assert meta["source"] == NATO_NAME
        assert nato_text[meta["start"] : meta["end"]] == doc.page_content
        assert doc.id == meta["chunk_id"]
    scores = [d.metadata["score"] for d in docs]
    assert scores == sorted(scores, reverse=True)


# --- module-level ask() -------------------------------------------------------------------------


@pytest.mark.slow
def test_module_ask_uses_docqa_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder, nato_text: str
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(Path(__file__).resolve().parents[1] / "corpus" / NATO_NAME, corpus / NATO_NAME)
    index = tmp_path / "env-index"
    monkeypatch.setenv("DOCQA_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("DOCQA_INDEX_DIR", str(index))
    monkeypatch.setenv("DOCQA_TOP_K", "3")
    monkeypatch.setattr(docqa.api, "_default", None)
    # The same model load_embedder would load; injected here to load it only once per session.
    monkeypatch.setattr(docqa.api, "load_embedder", lambda *args, **kwargs: embedder)

    answer = docqa.ask("When was the NATO Mission in Iraq established?")

    default = docqa.api._default
    assert default is not None
    assert default.settings.index_dir == index
    assert default.settings.top_k == 3
    assert (index / "manifest.json").is_file()
    assert 1 <= len(answer.retrieved) <= 3
    assert all(r.chunk.source == NATO_NAME for r in answer.retrieved)
    assert not answer.abstained
    assert "2018" in answer.text
    assert answer.citations
    for citation in answer.citations:
        assert nato_text[citation.start : citation.end] == citation.quote
    # The default instance is reused by later calls.
    docqa.ask("Who is Tom Goffus?")
    assert docqa.api._default is default
