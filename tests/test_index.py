"""``Index``: one owner for everything under an index folder (fast lane: fake embeddings, a real
Chroma store and real files)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import write_corpus
from docqa.index import Index
from docqa.layout import IndexPaths
from fakes import HashingEmbeddings

ROOT = Path(__file__).resolve().parents[1]
FILES = {"harbour.txt": "The harbour cranes of Port Ellery were built in 1931.\n"}
MORE = {"orchard.txt": "The orchard at Vell Farm grows quinces and medlars.\n"}


def _no_entities(texts: list[str]) -> list[tuple[()]]:
    return [() for _ in texts]


def _index(root: Path) -> Index:
    return Index(root / "index", "docs", "custom")


def _sync(index: Index, corpus: Path) -> int:
    report = index.sync(
        corpus,
        HashingEmbeddings(),
        _no_entities,
        chunk_chars=1000,
        overlap=1,
        batch_size=16,
        max_file_bytes=1_000_000,
    )
    return len(report.added)


def test_sync_builds_and_clear_empties_every_part(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", FILES)
    index = _index(tmp_path)
    assert not index.is_built()
    assert _sync(index, corpus) == 1
    paths = index.paths
    assert index.is_built() and paths.manifest.is_file() and paths.chroma.is_dir()
    assert index.store.count() == 1
    assert [cid for cid, _ in index.keyword().search("harbour cranes", 3)]
    with index.lock():
        index.clear()
    assert not index.is_built() and not paths.manifest.exists() and not paths.keyword.exists()
    assert index.store.count() == 0 and index.keyword().search("harbour cranes", 3) == []


def test_a_second_index_on_the_folder_sees_the_first_ones_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("docqa.index.GENERATION_CHECK_SECONDS", 0.0)
    corpus = write_corpus(tmp_path / "corpus", FILES)
    writer, reader = _index(tmp_path), _index(tmp_path)
    _sync(writer, corpus)
    assert reader.keyword().search("quinces medlars", 3) == []
    write_corpus(corpus, MORE)
    assert _sync(writer, corpus) == 1
    found = [cid for cid, _ in reader.keyword().search("quinces medlars", 3)]
    sources = {c.chunk_id: c.source for c in reader.store.all_chunks()}
    assert [sources[cid] for cid in found] == ["orchard.txt"]


def test_the_index_folder_layout_is_named_in_one_module() -> None:
    names = re.compile(r"""["'](manifest\.json|users\.json|audit\.jsonl|chroma|\.lock)["']""")
    for path in (ROOT / "src" / "docqa").rglob("*.py"):
        if path.name == "layout.py":
            continue
        code = "\n".join(
            line
            for line in path.read_text(encoding="utf-8").splitlines()
            if not line.lstrip().startswith(("#", ">>>"))
        )
        hits = [m.group(0) for m in names.finditer(code)]
        assert not hits, f"{path.name} names {hits}: ask layout.IndexPaths instead"
    assert IndexPaths(Path("x")).users == Path("x/users.json")
