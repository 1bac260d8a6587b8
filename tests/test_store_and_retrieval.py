"""Fusion, the keyword index, the Chroma chunk store and hybrid retrieval on the NATO index."""

from __future__ import annotations

import json
from pathlib import Path

import chromadb
import numpy as np
import pytest

from conftest import MakeQA
from docqa import DocQA
from docqa.errors import IndexError_
from docqa.keyword import KeywordIndex
from docqa.lexical import TOKENIZER_VERSION
from docqa.models import Chunk
from docqa.retrieval import Ranking, fuse
from docqa.store import ChunkStore, chunk_from_record, chunk_to_record

# --- fuse -------------------------------------------------------------------------------------

RANKING = Ranking(
    dense=[("a", 0.90), ("b", 0.60), ("c", 0.40)],
    keyword=[("c", 12.0), ("d", 6.0), ("a", 3.0)],
)


def ids(fused: list[tuple[str, float]]) -> list[str]:
    return [cid for cid, _ in fused]


def assert_best_first(fused: list[tuple[str, float]]) -> None:
    scores = [s for _, s in fused]
    assert scores == sorted(scores, reverse=True)


def test_fuse_single_modes_return_that_ranking_unchanged() -> None:
    assert fuse(RANKING, "dense") == RANKING.dense
    assert fuse(RANKING, "keyword") == RANKING.keyword
    assert fuse(RANKING, "dense") is not RANKING.dense  # a copy: callers may slice or sort it


@pytest.mark.parametrize("method", ["convex", "rrf"])
def test_fuse_hybrid_keeps_every_chunk_once_best_first(method: str) -> None:
    fused = fuse(RANKING, "hybrid", method, dense_weight=0.5)
    assert sorted(ids(fused)) == ["a", "b", "c", "d"]
    assert_best_first(fused)
    # "d" is only in the keyword list, "b" only in the dense one: both still ranked, above zero.
    scores = dict(fused)
    assert scores["d"] > 0
    assert scores["b"] > 0


def test_fuse_convex_follows_the_documented_formula() -> None:
    w = 0.7
    fused = dict(fuse(RANKING, "hybrid", "convex", dense_weight=w))
    # "a": cosine 0.9, bm25 3/12.  "d": missing from dense -> the dense floor (0.4).
    assert fused["a"] == pytest.approx(w * 0.90 + (1 - w) * 3.0 / 12.0)
    assert fused["c"] == pytest.approx(w * 0.40 + (1 - w) * 1.0)
    assert fused["d"] == pytest.approx(w * 0.40 + (1 - w) * 6.0 / 12.0)
    # "b": missing from keyword -> the keyword floor (the lowest normalised bm25, 3/12).
    assert fused["b"] == pytest.approx(w * 0.60 + (1 - w) * 3.0 / 12.0)


def test_fuse_convex_weight_decides_which_ranking_leads() -> None:
    assert ids(fuse(RANKING, "hybrid", "convex", dense_weight=1.0))[0] == "a"
    assert ids(fuse(RANKING, "hybrid", "convex", dense_weight=0.0))[0] == "c"


def test_fuse_rrf_uses_weighted_reciprocal_ranks() -> None:
    fused = dict(fuse(RANKING, "hybrid", "rrf", dense_weight=0.5, rrf_k=60))
    assert fused["a"] == pytest.approx(0.5 / 61 + 0.5 / 63)
    assert fused["c"] == pytest.approx(0.5 / 63 + 0.5 / 61)
    assert fused["b"] == pytest.approx(0.5 / 62)
    assert fused["d"] == pytest.approx(0.5 / 62)
    # In both lists beats in one list; equal scores are ordered by id, deterministically.
    assert ids(fuse(RANKING, "hybrid", "rrf", dense_weight=0.5)) == ["a", "c", "b", "d"]


def test_fuse_chunk_top_of_both_lists_wins_either_way() -> None:
    ranking = Ranking(dense=[("x", 0.8), ("y", 0.7)], keyword=[("x", 5.0), ("z", 4.0)])
    for method in ("convex", "rrf"):
        assert ids(fuse(ranking, "hybrid", method, dense_weight=0.5))[0] == "x"


def test_fuse_with_one_empty_list_keeps_the_other_order() -> None:
    only_keyword = Ranking(dense=[], keyword=[("k1", 4.0), ("k2", 2.0)])
    only_dense = Ranking(dense=[("d1", 0.9), ("d2", 0.3)], keyword=[])
    for method in ("convex", "rrf"):
        assert ids(fuse(only_keyword, "hybrid", method)) == ["k1", "k2"]
        assert ids(fuse(only_dense, "hybrid", method)) == ["d1", "d2"]
    assert fuse(Ranking([], []), "hybrid") == []


# --- KeywordIndex -----------------------------------------------------------------------------

TEXTS = {
    "c1": "Glaciers in the northern valley are shrinking every year.",
    "c2": "The laboratory breeds drought-resistant wheat for farmers.",
    "c3": "Volunteers restore coral reefs; coral grows slowly.",
}


def build_index(generation: str = "gen-1") -> KeywordIndex:
    return KeywordIndex.build(list(TEXTS), list(TEXTS.values()), generation)


def test_keyword_search_ranks_matching_chunk_first() -> None:
    index = build_index()
    hits = index.search("Which glacier is shrinking?", 3)
    assert hits[0][0] == "c1"
    assert all(score > 0 for _, score in hits)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert index.search("coral", 5)[0][0] == "c3"
    # Hyphenated words are also indexed by their parts.
    assert index.search("drought", 5)[0][0] == "c2"


def test_keyword_search_limits_and_misses() -> None:
    index = build_index()
    assert len(index.search("glaciers wheat coral", 2)) == 2
    assert index.search("submarine", 5) == []
    assert index.search("the of and", 5) == []  # stop words only
    assert index.search("glaciers", 0) == []


def test_keyword_index_save_load_round_trip(tmp_path: Path) -> None:
    index = build_index("gen-42")
    folder = tmp_path / "keyword"
    index.save(folder)
    index.save(folder)  # overwriting an existing copy works too

    loaded = KeywordIndex.load(folder)

    assert loaded is not None
    assert loaded.chunk_ids == list(TEXTS)
    assert loaded.generation == "gen-42"
    for query in ("glaciers", "coral reefs", "wheat farmers"):
        assert loaded.search(query, 3) == index.search(query, 3)
    assert not list(tmp_path.glob(".keyword-*"))  # no staging folder left behind


def test_empty_keyword_index(tmp_path: Path) -> None:
    empty = KeywordIndex.build([], [], "empty")
    assert empty.search("anything", 5) == []
    empty.save(tmp_path / "kw")
    loaded = KeywordIndex.load(tmp_path / "kw")
    assert loaded is not None
    assert loaded.chunk_ids == []
    assert loaded.search("anything", 5) == []


def test_keyword_index_missing_or_corrupt_loads_as_none(tmp_path: Path) -> None:
    assert KeywordIndex.load(tmp_path / "absent") is None
    build_index().save(tmp_path / "kw")
    (tmp_path / "kw" / "docqa-keyword.json").write_text("{not json", encoding="utf-8")
    assert KeywordIndex.load(tmp_path / "kw") is None


def test_keyword_index_from_other_tokenisation_rules_is_rebuilt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_index().save(tmp_path / "kw")
    assert KeywordIndex.load(tmp_path / "kw") is not None
    monkeypatch.setattr("docqa.keyword.TOKENIZER_VERSION", "some-other-rules")
    assert KeywordIndex.load(tmp_path / "kw") is None  # never searched with mismatched tokens


def test_ingest_rebuilds_a_keyword_cache_of_other_rules(
    make_fake_qa: MakeQA, small_corpus: dict[str, str | bytes]
) -> None:
    qa = make_fake_qa(small_corpus)
    qa.ingest()
    meta = qa.settings.index_dir / "keyword" / "docqa-keyword.json"
    data = json.loads(meta.read_text(encoding="utf-8"))
    meta.write_text(json.dumps({**data, "tokenizer": "old-rules"}), encoding="utf-8")
    again = make_fake_qa().ingest()
    assert again.unchanged  # nothing re-embedded ...
    assert json.loads(meta.read_text(encoding="utf-8"))["tokenizer"] == TOKENIZER_VERSION
    hits = make_fake_qa().retrieve("glaciers in the northern valley")
    assert hits[0].chunk.source == "alpha.txt"  # ... and keyword search works again


# --- records and the chunk store ----------------------------------------------------------------


def make_chunk(chunk_id: str, text: str, start: int = 0, page: int | None = None) -> Chunk:
    first = text.index(".") + 1
    second_start = first + 1
    sentences = ((start, start + first), (start + second_start, start + len(text)))
    return Chunk(
        chunk_id, "doc.txt", "doc.txt", "Doc", start, start + len(text), text, sentences, page
    )


@pytest.mark.parametrize("page", [None, 3])
def test_chunk_record_round_trip(page: int | None) -> None:
    chunk = make_chunk("id-1", "First sentence. Second one here.", start=17, page=page)
    meta = chunk_to_record(chunk)
    assert all(isinstance(v, str | int | float | bool) for v in meta.values())
    assert chunk_from_record(chunk.chunk_id, chunk.text, meta) == chunk


def test_chunk_record_round_trip_without_sentences() -> None:
    chunk = Chunk("id-2", "d", "d.txt", "D", 0, 0, "", ())
    assert chunk_from_record("id-2", "", chunk_to_record(chunk)) == chunk


def unit(vector: list[float]) -> list[float]:
    array = np.asarray(vector, dtype=np.float64)
    return list(array / np.linalg.norm(array))


def test_chunk_store_add_query_get_delete(tmp_path: Path) -> None:
    store = ChunkStore(tmp_path, "docqa", "test-model")
    one = make_chunk("one", "Apples are red. Pears are green.")
    two = make_chunk("two", "Cars are fast. Bikes are slow.", start=40)
    store.add(
        [one, two],
        [unit([1, 0, 0]), unit([0, 1, 0])],
        [[unit([1, 0, 0]), unit([1, 1, 0])], [unit([0, 1, 0]), unit([0, 1, 1])]],
    )
    generation = store.generation

    assert store.count() == 2
    assert store.all_ids() == {"one", "two"}
    assert store.existing_ids(["one", "three"]) == {"one"}
    hits = store.nearest(unit([0.1, 1, 0]), 5)
    assert [cid for cid, _ in hits] == ["two", "one"]
    assert hits[0][1] > hits[1][1]
    assert hits[0][1] == pytest.approx(float(np.dot(unit([0.1, 1, 0]), unit([0, 1, 0]))), abs=1e-5)
    assert store.get(["one", "missing"]) == {"one": one}
    vectors = store.sentence_vectors([one, two])
    assert vectors["one"].shape == (2, 3)
    np.testing.assert_allclose(vectors["one"][1], unit([1, 1, 0]), rtol=1e-5)

    store.delete(["one"])
    assert store.all_ids() == {"two"}
    assert set(store.sentence_vectors([one, two])) == {"two"}
    assert store.mark_changed() != generation
    assert store.generation != generation


def test_chunk_store_refuses_an_index_built_with_another_model(tmp_path: Path) -> None:
    ChunkStore(tmp_path, "docqa", "model-a").mark_changed()
    with pytest.raises(IndexError_) as caught:
        ChunkStore(tmp_path, "docqa", "model-b")
    message = str(caught.value)
    assert "--rebuild" in message
    assert "model-a" in message
    assert "model-b" in message
    ChunkStore(tmp_path, "docqa", "model-a")  # the right model still opens it


def test_docqa_with_other_embedder_refuses_the_index(
    make_fake_qa: MakeQA, small_corpus: dict[str, str | bytes]
) -> None:
    built = make_fake_qa(small_corpus)
    built.ingest()
    # That index was built with an injected ("custom") embedder; the bundled identity must not
    # open it. Building the store does not load the model.
    qa = DocQA(corpus_dir=built.settings.corpus_dir, index_dir=built.settings.index_dir)
    with pytest.raises(IndexError_, match="--rebuild"):
        _ = qa.store


def test_chunk_store_refuses_an_other_schema(tmp_path: Path) -> None:
    client = chromadb.PersistentClient(
        path=str(tmp_path / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    client.create_collection(
        "docqa", embedding_function=None, metadata={"docqa_schema": 0, "docqa_model": "m"}
    )
    with pytest.raises(IndexError_) as caught:
        ChunkStore(tmp_path, "docqa", "m", client=client)
    assert "incompatible" in str(caught.value)
    assert "--rebuild" in str(caught.value)


# --- retrieval on the real NATO index -------------------------------------------------------------


@pytest.mark.slow
def test_hybrid_retrieval_ranks_the_goffus_chunk_first(nato_qa: DocQA, nato_text: str) -> None:
    assert nato_qa.settings.retrieval_mode == "hybrid"
    hits = nato_qa.retrieve("Who is Tom Goffus?")
    assert 1 <= len(hits) <= nato_qa.settings.top_k
    assert "Tom Goffus" in hits[0].chunk.text
    assert hits[0].dense_score is not None
    assert hits[0].keyword_score is not None
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    for hit in hits:
        assert nato_text[hit.chunk.start : hit.chunk.end] == hit.chunk.text


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dense", "keyword"])
def test_single_mode_retrieval_on_nato(nato_dirs: dict[str, Path], embedder, mode: str) -> None:
    qa = DocQA(
        corpus_dir=nato_dirs["corpus"],
        index_dir=nato_dirs["index"],
        embedder=embedder,
        retrieval_mode=mode,
    )
    hits = qa.retrieve("What did Javier Colomina note?")
    assert "Javier Colomina" in hits[0].chunk.text
    if mode == "dense":
        assert all(h.keyword_score is None and h.dense_score is not None for h in hits)
    else:
        assert all(h.dense_score is None and h.keyword_score is not None for h in hits)
