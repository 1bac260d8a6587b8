"""Incremental ingest against a real Chroma store and the real embedding model (small corpora)."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest

from docqa import DocQA
from docqa.errors import IndexError_
from docqa.index import index_lock
from docqa.keyword import KeywordIndex
from docqa.layout import IndexPaths
from docqa.manifest import Manifest

pytestmark = pytest.mark.slow

LONG_TEXT = " ".join(
    f"Sentence number {n} of the long file describes the {word} harbour in some detail."
    for n, word in enumerate(
        ["north", "south", "east", "west", "old", "new", "quiet", "busy", "small", "large"]
    )
)


def ids_by_source(qa: DocQA) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = defaultdict(set)
    for chunk in qa.store.all_chunks():
        grouped[chunk.source].add(chunk.chunk_id)
    return dict(grouped)


def manifest_of(qa: DocQA) -> Manifest:
    return Manifest.load(IndexPaths(qa.settings.index_dir).manifest)


def test_first_ingest_adds_every_file_with_consistent_counts(make_qa, small_corpus) -> None:
    qa = make_qa(small_corpus)
    assert not qa.is_indexed()

    report = qa.ingest()

    assert set(report.added) == set(small_corpus)
    assert report.updated == report.removed == report.unchanged == report.skipped == ()
    assert qa.is_indexed()
    stored = qa.store.all_ids()
    assert report.chunks == len(stored) == qa.store.count() >= len(small_corpus)
    assert report.chunks_embedded == report.chunks
    assert manifest_of(qa).all_chunk_ids() == stored
    assert set(ids_by_source(qa)) == set(small_corpus)
    assert report.seconds >= 0
    assert f"added {len(small_corpus)}," in report.summary()


def test_second_ingest_without_changes_embeds_nothing(make_qa, small_corpus) -> None:
    qa = make_qa(small_corpus)
    first = qa.ingest()
    ids_before = qa.store.all_ids()
    generation = qa.store.generation

    again = make_qa().ingest()  # a fresh DocQA on the same folders, as a second CLI run

    assert set(again.unchanged) == set(small_corpus)
    assert again.added == again.updated == again.removed == again.skipped == ()
    assert again.chunks_embedded == 0
    assert again.chunks == first.chunks
    assert qa.store.all_ids() == ids_before
    assert make_qa().store.generation == generation  # nothing changed: keyword cache still valid


def test_modified_file_replaces_exactly_its_own_chunks(make_qa, small_corpus) -> None:
    qa = make_qa(small_corpus)
    qa.ingest()
    before = ids_by_source(qa)
    new_sentence = "The beta laboratory now also grows salt-tolerant barley."

    qa = make_qa({"beta.txt": small_corpus["beta.txt"] + new_sentence + "\n"})
    report = qa.ingest()

    assert report.updated == ("beta.txt",)
    assert set(report.unchanged) == {"alpha.txt", "notes/gamma.md"}
    assert report.added == report.removed == ()
    after = ids_by_source(qa)
    stored = qa.store.all_ids()
    gone = before["beta.txt"] - after["beta.txt"]
    assert gone, "editing a file must give at least one chunk a new id"
    assert not gone & stored
    assert after["beta.txt"] <= stored
    assert report.chunks_embedded == len(after["beta.txt"] - before["beta.txt"]) > 0
    assert after["alpha.txt"] == before["alpha.txt"]
    assert after["notes/gamma.md"] == before["notes/gamma.md"]
    beta_text = " ".join(c.text for c in qa.store.all_chunks() if c.source == "beta.txt")
    assert new_sentence in beta_text


def test_deleted_file_is_removed_with_its_chunks(make_qa, small_corpus, tmp_path: Path) -> None:
    qa = make_qa(small_corpus)
    qa.ingest()
    beta_ids = ids_by_source(qa)["beta.txt"]

    (tmp_path / "corpus" / "beta.txt").unlink()
    report = qa.ingest()

    assert report.removed == ("beta.txt",)
    assert set(report.unchanged) == {"alpha.txt", "notes/gamma.md"}
    assert report.chunks_embedded == 0
    assert "beta.txt" not in ids_by_source(qa)
    assert not beta_ids & qa.store.all_ids()
    assert "beta.txt" not in manifest_of(qa).files
    assert qa.store.count() == report.chunks == len(manifest_of(qa).all_chunk_ids())


def test_bad_files_are_skipped_with_a_reason_and_the_rest_indexed(make_qa, small_corpus) -> None:
    files: dict[str, str | bytes] = {
        **small_corpus,
        "table.csv": "a,b\n1,2\n",
        "empty.txt": b"",
        "latin1.txt": "Caf\u00e9 cr\u00e8me au lait.".encode("latin-1"),
    }
    qa = make_qa(files)

    report = qa.ingest()

    reasons = {s.source: s.reason for s in report.skipped}
    assert set(reasons) == {"table.csv", "empty.txt", "latin1.txt"}
    assert "unsupported" in reasons["table.csv"]
    assert ".csv" in reasons["table.csv"]
    assert "empty" in reasons["empty.txt"]
    assert "UTF-8" in reasons["latin1.txt"]
    assert set(report.added) == set(small_corpus)
    assert set(ids_by_source(qa)) == set(small_corpus)

    again = qa.ingest()  # skipped files stay reported, and are not retried or counted as added
    assert {s.source for s in again.skipped} == set(reasons)
    assert again.added == ()
    assert again.chunks_embedded == 0


def test_fixed_file_that_was_skipped_is_then_added(make_qa, small_corpus) -> None:
    qa = make_qa({**small_corpus, "late.txt": b""})
    assert [s.source for s in qa.ingest().skipped] == ["late.txt"]

    qa = make_qa({"late.txt": "The late file finally talks about lighthouses.\n"})
    report = qa.ingest()

    assert report.added == ("late.txt",)
    assert report.skipped == ()
    assert "late.txt" in ids_by_source(qa)


def test_repeated_ingests_never_duplicate_chunks(make_qa, small_corpus) -> None:
    qa = make_qa(small_corpus)
    for round_number in range(3):
        make_qa({"alpha.txt": small_corpus["alpha.txt"] + f"Visit {round_number} went well.\n"})
        qa.ingest()
        qa.ingest()
        chunks = qa.store.all_chunks()
        manifest_ids = manifest_of(qa).all_chunk_ids()
        assert qa.store.count() == len(chunks) == len(manifest_ids)
        assert {c.chunk_id for c in chunks} == manifest_ids
        # No two stored chunks cover the same span of the same file.
        assert len({(c.source, c.start, c.end) for c in chunks}) == len(chunks)
        vectors = qa.store.sentence_vectors(chunks)
        assert set(vectors) == manifest_ids
        assert all(vectors[c.chunk_id].shape == (len(c.sentences), 384) for c in chunks)


def test_keyword_index_is_rebuilt_and_finds_a_new_files_word(make_qa, small_corpus) -> None:
    qa = make_qa(small_corpus)
    qa.ingest()
    keyword_dir = IndexPaths(qa.settings.index_dir).keyword
    before = KeywordIndex.load(keyword_dir)
    assert before is not None
    assert before.search("zanzibarite", 5) == []

    qa = make_qa({"delta.txt": "Delta miners extract zanzibarite from the hills.\n"})
    report = qa.ingest()

    assert report.added == ("delta.txt",)
    on_disk = KeywordIndex.load(keyword_dir)
    assert on_disk is not None
    assert on_disk.generation != before.generation
    assert on_disk.generation == qa.store.generation
    hits = on_disk.search("zanzibarite", 5)
    assert hits
    delta_ids = ids_by_source(qa)["delta.txt"]
    assert hits[0][0] in delta_ids
    # A new DocQA reading the saved index finds the word through keyword retrieval too.
    retrieved = make_qa(retrieval_mode="keyword").retrieve("Where is zanzibarite extracted?")
    assert retrieved[0].chunk.source == "delta.txt"


def test_stored_chunk_offsets_slice_the_file_text(
    make_qa, small_corpus, tmp_path: Path, read_text: Callable[[Path], str]
) -> None:
    files: dict[str, str | bytes] = {
        **small_corpus,
        "unicode.txt": "Caf\u00e9 owners \u2014 \u201cthe best\u201d \u2014 met on Monday.\r\n"
        "They\u2019re planning na\u00efve art shows.\r\n\r\nA second paragraph ends here.\r\n",
        "long.txt": LONG_TEXT,
    }
    qa = make_qa(files)
    qa.ingest()
    corpus = tmp_path / "corpus"

    chunks = qa.store.all_chunks()
    assert {c.source for c in chunks} == set(files)
    for chunk in chunks:
        text = read_text(corpus / chunk.source)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.sentences
        for start, end in chunk.sentences:
            assert chunk.start <= start < end <= chunk.end
            assert chunk.sentence_text((start, end)) == text[start:end]


def test_nato_index_offsets_slice_the_file_text(nato_qa: DocQA, nato_text: str) -> None:
    chunks = nato_qa.store.all_chunks()
    assert chunks
    for chunk in chunks:
        assert nato_text[chunk.start : chunk.end] == chunk.text
    covered = "".join(nato_text[c.start : c.end] for c in chunks)
    assert "Tom Goffus" in covered
    assert "Original Source" in covered  # the last line is indexed too


def test_changing_chunk_chars_rechunks_every_file(make_qa, small_corpus) -> None:
    files = {**small_corpus, "long.txt": LONG_TEXT}
    qa = make_qa(files, chunk_chars=1000)
    qa.ingest()
    old_signature = manifest_of(qa).chunking
    old_long = [c for c in qa.store.all_chunks() if c.source == "long.txt"]

    small = make_qa(chunk_chars=200)
    report = small.ingest()

    assert set(report.updated) == set(files)
    assert report.unchanged == report.added == ()
    assert manifest_of(small).chunking != old_signature
    chunks = small.store.all_chunks()
    new_long = [c for c in chunks if c.source == "long.txt"]
    assert len(new_long) > len(old_long)
    assert all(len(c.text) <= 200 or len(c.sentences) == 1 for c in chunks)
    assert small.store.all_ids() == manifest_of(small).all_chunk_ids()
    assert not {c.chunk_id for c in old_long} & small.store.all_ids()
    assert report.chunks_embedded > 0


def test_interrupted_ingest_is_completed_by_the_next_run(
    make_qa, small_corpus, tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    qa = make_qa(small_corpus)
    qa.ingest()
    final_files = {
        "beta.txt": small_corpus["beta.txt"] + "A new greenhouse opened in March.\n",
        "delta.txt": "Delta miners extract zanzibarite from the hills.\n",
    }
    make_qa(final_files)
    (tmp_path / "corpus" / "alpha.txt").unlink()

    original_save = Manifest.save
    calls = []

    def crash_once(self: Manifest, path: Path) -> None:
        calls.append(path)
        if len(calls) == 1:
            raise RuntimeError("simulated crash before the manifest was written")
        original_save(self, path)

    monkeypatch.setattr(Manifest, "save", crash_once)
    with pytest.raises(RuntimeError, match="simulated crash"):
        qa.ingest()

    recovered = make_qa().ingest()

    assert len(calls) == 2
    assert recovered.chunks_embedded == 0  # the crashed run already stored the new chunks
    assert recovered.removed == ("alpha.txt",)
    assert set(recovered.updated) == {"beta.txt"}
    assert set(recovered.added) == {"delta.txt"}
    scratch_corpus = tmp_path / "scratch-corpus"
    scratch_corpus.mkdir()
    for source in ("beta.txt", "notes/gamma.md", "delta.txt"):
        target = scratch_corpus / source
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((tmp_path / "corpus" / source).read_bytes())
    scratch = DocQA(corpus_dir=scratch_corpus, index_dir=tmp_path / "scratch", embedder=embedder)
    scratch.ingest()
    reopened = make_qa()
    assert reopened.store.all_ids() == scratch.store.all_ids()
    assert manifest_of(reopened).all_chunk_ids() == reopened.store.all_ids()
    keyword = KeywordIndex.load(IndexPaths(reopened.settings.index_dir).keyword)
    assert keyword is not None
    assert set(keyword.chunk_ids) == reopened.store.all_ids()


def test_second_writer_is_refused_while_the_index_is_locked(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with index_lock(index, wait=False):
        with pytest.raises(IndexError_) as caught, index_lock(index, wait=False):
            pass
        message = str(caught.value)
        assert "Another docqa process" in message
        assert str(index) in message
    with index_lock(index, wait=False):  # released: a later writer gets it
        assert (index / ".lock").exists()


def test_waiting_writer_gets_the_lock_once_it_is_released(tmp_path: Path) -> None:
    index = tmp_path / "index"
    acquired = threading.Event()
    order: list[str] = []

    def second_writer() -> None:
        with index_lock(index, wait=True):
            order.append("second")
            acquired.set()

    with index_lock(index):
        thread = threading.Thread(target=second_writer)
        thread.start()
        assert not acquired.wait(0.3)
        order.append("first done")
    thread.join(timeout=10)
    assert acquired.is_set()
    assert order == ["first done", "second"]
