"""Shared fixtures: the real embedding model and the NATO index, each built once per session.

Tests that change a corpus build their own small one with ``make_qa``; tests that only read use
``nato_qa``, whose index was built once into a session temporary folder. Those fixtures load the
real model, so only ``slow`` tests may use them; the fast lane (``make test-fast``) uses
``fake_embedder`` and ``make_fake_qa`` (deterministic hashed bag-of-words vectors).
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
from fakes import HashingEmbeddings

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


# Fixtures that load the real model: a test that uses one (directly or through another fixture)
# must be marked slow, so the fast lane never loads it.
REAL_MODEL_FIXTURES = frozenset({"embedder", "nato_dirs", "nato_qa", "make_qa"})


def pytest_runtest_setup(item: pytest.Item) -> None:
    uses = REAL_MODEL_FIXTURES.intersection(getattr(item, "fixturenames", ()))
    if uses and item.get_closest_marker("slow") is None:
        pytest.fail(
            f"{item.nodeid} loads the real embedding model (through {', '.join(sorted(uses))}) "
            "but is not marked slow: mark it @pytest.mark.slow, or use fake_embedder / make_fake_qa"
        )


@pytest.fixture(autouse=True)
def _fast_lane_loads_no_model(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In tests not marked slow, loading the real model in-process fails loudly."""
    if request.node.get_closest_marker("slow") is not None:
        return

    def refuse(*_args: object, **_kwargs: object) -> Embeddings:
        raise AssertionError(
            f"{request.node.nodeid} loads the real embedding model but is not marked slow"
        )

    monkeypatch.setattr("docqa.embeddings.load_embedder", refuse)
    monkeypatch.setattr("docqa.api.load_embedder", refuse)


@pytest.fixture(scope="session")
def embedder() -> Embeddings:
    """The real all-MiniLM-L6-v2 model, loaded once (slow tests only)."""
    from docqa.embeddings import load_embedder

    return load_embedder()


@pytest.fixture
def fake_embedder() -> HashingEmbeddings:
    """Deterministic bag-of-words embeddings: no model, for wiring tests in the fast lane."""
    return HashingEmbeddings()


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


def _qa_factory(tmp_path: Path, embedder: Embeddings) -> MakeQA:
    corpus = tmp_path / "corpus"
    index = tmp_path / "index"

    def factory(files: dict[str, str | bytes] | None = None, **settings: object) -> DocQA:
        if files is not None:
            corpus.mkdir(exist_ok=True)
            write_corpus(corpus, files)
        settings.setdefault("corpus_dir", corpus)
        settings.setdefault("index_dir", index)
        return DocQA(embedder=embedder, **settings)

    return factory


@pytest.fixture
def make_qa(tmp_path: Path, embedder: Embeddings) -> Iterator[MakeQA]:
    """Factory: ``make_qa(files=None, **settings)`` -> DocQA over a fresh corpus in tmp_path.

    Without ``files`` the corpus and index folders of the previous call are reused, so a test
    can open a second ``DocQA`` (for example with other settings) on the same index. Real model:
    slow tests only.
    """
    yield _qa_factory(tmp_path, embedder)


@pytest.fixture
def make_fake_qa(tmp_path: Path, fake_embedder: HashingEmbeddings) -> Iterator[MakeQA]:
    """``make_qa`` with the deterministic fake embeddings: for the fast lane."""
    yield _qa_factory(tmp_path, fake_embedder)


def decoded(path: Path) -> str:
    """A text file's content as docqa sees it: UTF-8, line endings untouched."""
    return path.read_bytes().decode("utf-8")


@pytest.fixture
def read_text() -> Callable[[Path], str]:
    """``read_text(path)``: the file's exact decoded content (CRLF kept)."""
    return decoded
