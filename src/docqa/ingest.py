"""Incremental sync of a corpus folder into the index.

Unchanged files (same SHA-256) are not even read; a changed file's chunks are replaced; a deleted
file's chunks are removed. New chunks are written before stale ones are deleted and before the
manifest moves on, so a crash at any point leaves an index the next run completes.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from langchain_core.embeddings import Embeddings
from tqdm import tqdm

from docqa.chunking import PART_STRIDE, PART_WORDS, chunk_document, sentence_parts
from docqa.documents import CorpusFile, load_file, scan_corpus
from docqa.entities import ENTITIES_VERSION, Tagger
from docqa.errors import DocumentError
from docqa.keyword import KeywordIndex
from docqa.layout import IndexPaths
from docqa.manifest import FileEntry, Manifest
from docqa.models import Chunk, IngestReport, SkippedFile
from docqa.progress import ProgressCallback, ProgressEstimate, format_duration
from docqa.store import ChunkStore

log = logging.getLogger(__name__)


def chunking_signature(chunk_chars: int, overlap: int) -> str:
    """Identifies what ingest stores for a chunk (sentences, their parts, entities); a change
    re-reads and re-embeds every file, so an index built by an older version is brought up to
    date by the next ingest."""
    return (
        f"sentences-v1/{chunk_chars}/{overlap}/parts-{PART_WORDS}-{PART_STRIDE}/{ENTITIES_VERSION}"
    )


def tag_chunks(chunks: Sequence[Chunk], tagger: Tagger) -> list[Chunk]:
    """The chunks with their named entities (``entities.py``), in document coordinates."""
    found = tagger([c.text for c in chunks]) if chunks else []
    return [
        replace(c, entities=tuple(e.shifted(c.start) for e in entities))
        for c, entities in zip(chunks, found, strict=True)
    ]


def _embed_chunks(
    chunks: Sequence[Chunk],
    embedder: Embeddings,
    batch_size: int,
    progress: bool,
    on_progress: ProgressCallback | None,
) -> tuple[list[list[float]], list[list[list[float]]], list[list[list[list[float]]]]]:
    """Vectors for each chunk, each of its sentences and each part of a long sentence
    (``chunking.sentence_parts``); identical texts are embedded once."""
    texts: set[str] = set()
    for chunk in chunks:
        texts.add(chunk.text)
        for span in chunk.sentences:
            sentence = chunk.sentence_text(span)
            texts.add(sentence)
            texts.update(sentence[a:b] for a, b in sentence_parts(sentence))
    # Length-sorted batches pad far less: several times faster than document order on CPU.
    ordered = sorted(texts, key=len)
    vectors_by_text: dict[str, list[float]] = {}
    estimate = ProgressEstimate(ordered)
    bar = tqdm(
        total=len(ordered),
        desc="Embedding",
        unit="text",
        disable=not progress,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} texts{postfix}",
    )
    with bar:
        for i in range(0, len(ordered), batch_size):
            batch = ordered[i : i + batch_size]
            vectors_by_text.update(zip(batch, embedder.embed_documents(batch), strict=True))
            state = estimate.advance(len(batch))
            if state.seconds_left is not None:  # tqdm's own estimate assumes equal texts
                bar.set_postfix_str(f"about {format_duration(state.seconds_left)} left", False)
            bar.update(len(batch))
            if on_progress is not None:
                on_progress(state)
    chunk_vectors = [vectors_by_text[c.text] for c in chunks]
    sentence_vectors = [
        [vectors_by_text[c.sentence_text(span)] for span in c.sentences] for c in chunks
    ]
    part_vectors = [
        [
            [vectors_by_text[text[a:b]] for a, b in sentence_parts(text)]
            for text in (c.sentence_text(span) for span in c.sentences)
        ]
        for c in chunks
    ]
    return chunk_vectors, sentence_vectors, part_vectors


def _load_and_chunk(
    file: CorpusFile,
    chunk_chars: int,
    overlap: int,
    claimed: dict[str, str],
    max_file_bytes: int,
) -> tuple[list[str], list[Chunk]]:
    """Documents and chunks of one file; doc ids already claimed by another file are skipped."""
    documents = load_file(file, max_file_bytes=max_file_bytes)
    doc_ids: list[str] = []
    chunks: list[Chunk] = []
    for document in documents:
        owner = claimed.get(document.doc_id)
        if owner is not None and owner != file.source:
            log.warning(
                "%s: document id %r is already used by %s; skipped",
                file.source,
                document.doc_id,
                owner,
            )
            continue
        claimed[document.doc_id] = file.source
        doc_ids.append(document.doc_id)
        chunks.extend(chunk_document(document, max_chars=chunk_chars, overlap_sentences=overlap))
    if not chunks:
        raise DocumentError("no extractable text")
    return doc_ids, chunks


def sync_corpus(
    corpus_dir: Path,
    paths: IndexPaths,
    store: ChunkStore,
    embedder: Embeddings,
    tagger: Tagger,
    *,
    chunk_chars: int,
    overlap: int,
    batch_size: int = 64,
    max_file_bytes: int,
    progress: bool = False,
    on_progress: ProgressCallback | None = None,
) -> tuple[IngestReport, KeywordIndex]:
    """Bring the index in line with ``corpus_dir`` and return what changed.

    The caller holds ``index_lock(paths.root)`` (see ``DocQA.ingest``): the store must be opened
    under the lock too, since a first-time Chroma set-up races with another writer's.
    """
    started = time.perf_counter()
    store.refresh()  # another writer may have changed the store while we waited for the lock
    remove_leftovers(paths)
    files, skipped = scan_corpus(corpus_dir)
    manifest = Manifest.load(paths.manifest)
    signature = chunking_signature(chunk_chars, overlap)
    rechunk_all = manifest.chunking != signature
    new_manifest = Manifest(chunking=signature)
    claimed = {d: src for src, e in manifest.files.items() for d in e.doc_ids}
    added: list[str] = []
    updated: list[str] = []
    unchanged: list[str] = []
    pending: list[Chunk] = []
    present = {f.source for f in files}
    for source in manifest.files.keys() - present:
        for doc_id in manifest.files[source].doc_ids:
            claimed.pop(doc_id, None)

    for file in tqdm(files, desc="Reading", unit="file", disable=not progress, leave=False):
        old = manifest.files.get(file.source)
        if old is not None and old.sha256 == file.sha256 and not rechunk_all:
            new_manifest.files[file.source] = old
            if old.skipped_reason is not None:
                skipped.append(SkippedFile(file.source, old.skipped_reason))
            else:
                unchanged.append(file.source)
            continue
        try:
            doc_ids, chunks = _load_and_chunk(file, chunk_chars, overlap, claimed, max_file_bytes)
        except DocumentError as exc:
            log.warning("skipped %s: %s", file.source, exc)
            skipped.append(SkippedFile(file.source, str(exc)))
            new_manifest.files[file.source] = FileEntry(file.sha256, skipped_reason=str(exc))
            continue
        new_manifest.files[file.source] = FileEntry(
            file.sha256, doc_ids, [c.chunk_id for c in chunks]
        )
        (updated if old is not None and old.skipped_reason is None else added).append(file.source)
        pending.extend(chunks)

    # Content-derived ids: a chunk already stored (from an earlier or interrupted run)
    # costs no embedding work.
    unique = list({c.chunk_id: c for c in pending}.values())
    existing = store.existing_ids(c.chunk_id for c in unique)
    to_embed = [c for c in unique if rechunk_all or c.chunk_id not in existing]
    if to_embed:
        # The tagger (spaCy, one thread) works beside the encoder (its products fill the cores
        # less than fully): ClapNQ's ingest took 50.7 s so, against ~54 s one after the other.
        with ThreadPoolExecutor(1, "docqa-tagger") as background:
            tagged = background.submit(tag_chunks, to_embed, tagger)
            chunk_vecs, sentence_vecs, part_vecs = _embed_chunks(
                to_embed, embedder, batch_size, progress, on_progress
            )
            to_embed = tagged.result()
        store.add(to_embed, chunk_vecs, sentence_vecs, part_vecs)

    live = new_manifest.all_chunk_ids()
    # Orphans of an interrupted run are in the store but in no manifest: they go too.
    stale = (manifest.all_chunk_ids() | store.all_ids()) - live
    if stale:
        store.delete(sorted(stale))
    removed = sorted(manifest.files.keys() - present)
    changed = bool(to_embed or stale or added or updated or removed)
    keyword = KeywordIndex.load(paths.keyword)
    if changed or keyword is None or keyword.generation != store.generation:
        generation = store.mark_changed() if changed else store.generation
        keyword = rebuild_keyword_index(store, paths, generation)
    new_manifest.save(paths.manifest)

    report = IngestReport(
        added=tuple(added),
        updated=tuple(updated),
        removed=tuple(removed),
        unchanged=tuple(unchanged),
        skipped=tuple(skipped),
        chunks=len(live),
        chunks_embedded=len(to_embed),
        seconds=time.perf_counter() - started,
    )
    return report, keyword


def remove_leftovers(paths: IndexPaths, min_age_seconds: float = 60.0) -> None:
    """Delete temporary files a killed process left behind (half-written manifests, keyword
    staging folders). Only old ones: a reader may be saving a keyword cache right now."""
    now = time.time()
    found = [path for pattern in paths.leftovers for path in paths.root.glob(pattern)]
    for leftover in found:
        try:
            if now - leftover.stat().st_mtime < min_age_seconds:
                continue
            if leftover.is_dir():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)
        except OSError:
            continue


def rebuild_keyword_index(store: ChunkStore, paths: IndexPaths, generation: str) -> KeywordIndex:
    """Derive the keyword index from the stored chunks and persist it."""
    chunks = store.all_chunks()
    keyword = KeywordIndex.build(
        [c.chunk_id for c in chunks], [f"{c.title}\n{c.text}" for c in chunks], generation
    )
    keyword.save(paths.keyword)
    return keyword
