"""Server mode: one real `chroma run` server, one docqa instance that ingests and another that
only knows the URL and answers — and notices when the collection changes under it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

import servers
from docqa import DocQA
from docqa.errors import IndexError_
from servers import free_port

ROOT = Path(__file__).resolve().parents[1]
NATO = ROOT / "corpus" / "nato-iraq-political-dialogue.txt"


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`chroma run` on a free loopback port, its data in a temporary folder."""
    with servers.chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


@pytest.mark.slow
def test_a_second_instance_answers_from_the_server_and_sees_new_chunks(
    chroma_server: str, tmp_path: Path, embedder: Embeddings, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(NATO, corpus / NATO.name)
    writer = DocQA(
        corpus_dir=corpus, index_dir=tmp_path / "writer", embedder=embedder,
        chroma_url=chroma_server, collection="shared-docs",
    )  # fmt: skip
    report = writer.ingest()
    assert report.chunks > 0

    reader = DocQA(
        corpus_dir=tmp_path / "no-corpus-here", index_dir=tmp_path / "reader",
        embedder=embedder, chroma_url=chroma_server, collection="shared-docs",
    )  # fmt: skip
    answer = reader.ask("Who led the Iraqi delegation?")
    assert not answer.abstained
    text = NATO.read_text(encoding="utf-8")
    assert all(c.quote == text[c.start : c.end] for c in answer.citations)
    assert any("al-Araji" in c.quote for c in answer.citations)
    assert (tmp_path / "reader" / "keyword").is_dir()  # its own derived cache
    assert not (tmp_path / "reader" / "chroma").exists()  # no embedded store

    # The writer adds a document; the reader's keyword cache notices and rebuilds.
    (corpus / "aviary.txt").write_text(
        "The falcon aviary in Brussels feeds its birds at dawn. Its keeper is Ines Duarte.\n",
        encoding="utf-8",
    )
    writer.ingest()
    monkeypatch.setattr("docqa.index.GENERATION_CHECK_SECONDS", 0.0)
    hits = reader.hybrid.keyword_index().search("falcon aviary keeper", 3)
    assert hits, "the reader's keyword index did not pick up the new chunk"
    followup = reader.ask("Who is the keeper of the falcon aviary?")
    assert any(c.source == "aviary.txt" for c in followup.citations)


def test_an_unreachable_server_is_one_clear_error(
    tmp_path: Path, fake_embedder: Embeddings
) -> None:
    qa = DocQA(
        corpus_dir=tmp_path, index_dir=tmp_path / "i", embedder=fake_embedder,
        chroma_url=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    with pytest.raises(IndexError_, match="Cannot reach the Chroma server"):
        qa.ingest()
