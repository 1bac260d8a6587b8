"""Shared fixtures: the real embedding model and the NATO index, each built once per session.

Tests that change a corpus build their own small one with ``make_qa``; tests that only read use
``nato_qa``, whose index was built once into a session temporary folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings
from langchain_core.embeddings import Embeddings

from docqa import DocQA

# In CI, property tests draw the same examples every run, so a red build is reproducible and
# never flakes; locally they explore new examples each time (and keep failures in .hypothesis/).
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


ROOT = Path(__file__).resolve().parents[1]
NATO_NAME = "nato-iraq-political-dialogue.txt"
NATO_FILE = ROOT / "corpus" / NATO_NAME

# Three short documents with words found nowhere else, for tests that edit a corpus.
SMALL_CORPUS: dict[str, str] = {
    "alpha.txt": (
        "The alpha station monitors glaciers in the northern valley. "
        "Its staff measure the ice thickness every spring.\n"
    ),
    "beta.txt": (
        "The beta laboratory breeds drought-resistant wheat. "
        "Researchers there publish a harvest report every autumn.\n"
    ),
    "notes/gamma.md": (
        "# Gamma notes\n\n"
        "Gamma volunteers restore coral reefs near the island. "
        "They plant coral fragments on steel frames.\n"
    ),
}


@pytest.fixture(autouse=True)
def _no_docqa_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests see only the DOCQA_* variables they set themselves."""
    for key in list(os.environ):
        if key.startswith("DOCQA_"):
            monkeypatch.delenv(key)


@pytest.fixture(scope="session")
def embedder() -> Embeddings:
    """The real all-MiniLM-L6-v2 model, loaded once."""
    from docqa.embeddings import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def nato_dirs(tmp_path_factory: pytest.TempPathFactory, embedder: Embeddings) -> dict[str, Path]:
    """A copy of the NATO corpus and its index, built once (read-only for tests)."""
    root = tmp_path_factory.mktemp("nato")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(NATO_FILE, corpus / NATO_NAME)
    index = root / "index"
    qa = DocQA(corpus_dir=corpus, index_dir=index, embedder=embedder)
    report = qa.ingest()
    assert report.added == (NATO_NAME,)
    return {"corpus": corpus, "index": index}


@pytest.fixture(scope="session")
def nato_qa(nato_dirs: dict[str, Path], embedder: Embeddings) -> DocQA:
    """A ``DocQA`` over the session NATO index (do not ingest through it)."""
    return DocQA(corpus_dir=nato_dirs["corpus"], index_dir=nato_dirs["index"], embedder=embedder)


@pytest.fixture
def small_corpus() -> dict[str, str | bytes]:
    """A fresh copy of ``SMALL_CORPUS`` (relative path -> text) that a test may edit."""
    return dict(SMALL_CORPUS)


@pytest.fixture(scope="session")
def nato_text() -> str:
    """The NATO report exactly as decoded from its bytes (no newline translation)."""
    return NATO_FILE.read_bytes().decode("utf-8")


def write_corpus(folder: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``files`` (relative path -> text or bytes) into ``folder``."""
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
    return folder


MakeQA = Callable[..., DocQA]


@pytest.fixture
def make_qa(tmp_path: Path, embedder: Embeddings) -> Iterator[MakeQA]:
    """Factory: ``make_qa(files=None, **settings)`` -> DocQA over a fresh corpus in tmp_path.

    Without ``files`` the corpus and index folders of the previous call are reused, so a test
    can open a second ``DocQA`` (for example with other settings) on the same index.
    """
    corpus = tmp_path / "corpus"
    index = tmp_path / "index"

    def factory(files: dict[str, str | bytes] | None = None, **settings: object) -> DocQA:
        if files is not None:
            corpus.mkdir(exist_ok=True)
            write_corpus(corpus, files)
        settings.setdefault("corpus_dir", corpus)
        settings.setdefault("index_dir", index)
        return DocQA(embedder=embedder, **settings)

    yield factory


def decoded(path: Path) -> str:
    """A text file's content as docqa sees it: UTF-8, line endings untouched."""
    return path.read_bytes().decode("utf-8")


@pytest.fixture
def read_text() -> Callable[[Path], str]:
    """``read_text(path)``: the file's exact decoded content (CRLF kept)."""
    return decoded
