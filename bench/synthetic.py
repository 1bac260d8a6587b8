"""Synthetic corpora of 10,000 and 100,000 chunks, recombined from ClapNQ sentences.

Each synthetic passage is 4-8 random ClapNQ sentences (seeded, so every run builds the same
corpus) under a random ClapNQ title, short enough to be one chunk; the real ClapNQ passages are
included too, so ClapNQ's questions keep their gold passages among the distractors.

Vectors: embedding 100,000 chunks on two cores takes over an hour, so no text is embedded here.
Every sentence vector is the real one, copied from the ClapNQ index (the synthetic passages reuse
its sentences verbatim); every synthetic chunk vector is synthesised as the normalised mean of its
sentences' real vectors. Real ClapNQ chunks keep their real vectors. Everything else — chunking,
Chroma writes, the keyword index, the manifest — is docqa's normal ingest.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from bench.common import CLAPNQ_DOCS, WORK, log, stopwatch
from docqa.api import DocQA
from docqa.chunking import sentence_parts, split_sentences
from docqa.embeddings import BUNDLED_MODEL, model_identity
from docqa.index import index_lock
from docqa.ingest import sync_corpus
from docqa.layout import IndexPaths
from docqa.store import ChunkStore

PASSAGES_PER_FILE = 5000  # keeps each .jsonl file far under docqa's per-file size limit


class RecombinedEmbeddings(Embeddings):
    """Looks texts up among known real vectors; a text made of known sentences gets the
    normalised mean of their vectors. Anything else is embedded for real, and counted."""

    def __init__(self, known: dict[str, np.ndarray], fallback: Embeddings) -> None:
        self.known = known
        self.fallback = fallback
        self.synthesised = 0
        self.embedded = 0

    def _vector(self, text: str) -> np.ndarray | None:
        if text in self.known:
            return self.known[text]
        parts = [self.known.get(text[s:e]) for s, e in split_sentences(text)]
        if not parts or any(p is None for p in parts):
            return None
        mean = np.mean(np.asarray(parts), axis=0)
        self.synthesised += 1
        return np.asarray(mean / np.linalg.norm(mean), dtype=np.float32)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = [self._vector(t) for t in texts]
        missing = [t for t, v in zip(texts, vectors, strict=True) if v is None]
        if missing:
            self.embedded += len(missing)
            real = iter(self.fallback.embed_documents(missing))
            vectors = [v if v is not None else np.asarray(next(real)) for v in vectors]
        return [np.asarray(v, dtype=float).tolist() for v in vectors if v is not None]

    def embed_query(self, text: str) -> list[float]:
        return self.fallback.embed_query(text)


def known_vectors(clapnq: DocQA) -> tuple[dict[str, np.ndarray], list[str], list[str]]:
    """Real vectors of every ClapNQ chunk, sentence and sentence-part text, the sentences and
    the titles."""
    chunks = clapnq.store.all_chunks()
    known: dict[str, np.ndarray] = {}
    chunk_vectors = clapnq.store.chunk_vectors([c.chunk_id for c in chunks])
    for i in range(0, len(chunks), 200):
        batch = chunks[i : i + 200]
        sentence_vectors, part_vectors = clapnq.store.read_vectors(batch)
        for chunk in batch:
            known[chunk.text] = chunk_vectors[chunk.chunk_id]
            for span, vector in zip(chunk.sentences, sentence_vectors[chunk.chunk_id], strict=True):
                known[chunk.sentence_text(span)] = vector
            # The parts of long sentences: a synthetic passage reuses whole sentences, so their
            # parts are these very texts (``chunking.sentence_parts``).
            parts = part_vectors.get(chunk.chunk_id)
            if parts is not None:
                texts = [
                    chunk.sentence_text(span)[a:b]
                    for span in chunk.sentences
                    for a, b in sentence_parts(chunk.sentence_text(span))
                ]
                known.update(zip(texts, parts.vectors, strict=True))
    sentences = sorted({c.sentence_text(s) for c in chunks for s in c.sentences})
    titles = sorted({c.title for c in chunks})
    return known, sentences, titles


def write_corpus(folder: Path, passages: int, sentences: list[str], titles: list[str]) -> int:
    """Write the ClapNQ passages plus ``passages`` synthetic ones; returns how many written."""
    rng = random.Random(passages)  # the size is the seed: the same corpus on every run
    # Whole sentences only (capital first, stop last), so that re-splitting the passage gives
    # back exactly these sentences and their real vectors.
    usable = [s for s in sentences if 40 <= len(s) <= 240 and s[0].isupper() and s[-1] in ".!?"]
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    shutil.copyfile(CLAPNQ_DOCS, folder / "clapnq.jsonl")
    records: list[dict[str, Any]] = []
    for i in range(passages):
        picked: list[str] = []
        while len(picked) < 8 and len(" ".join([*picked, "x" * 240])) <= 950:
            picked.append(rng.choice(usable))
            if len(picked) >= 4 and rng.random() < 0.3:
                break
        records.append(
            {"doc_id": f"synthetic-{i:06d}", "title": rng.choice(titles), "text": " ".join(picked)}
        )
    for n, start in enumerate(range(0, len(records), PASSAGES_PER_FILE)):
        lines = (
            json.dumps(r, ensure_ascii=False) for r in records[start : start + PASSAGES_PER_FILE]
        )
        (folder / f"synthetic-{n:03d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(records)


def build(target_chunks: int, clapnq: DocQA) -> dict[str, Any]:
    """Corpus and index of about ``target_chunks`` chunks under ``.docqa-bench/synthetic-N``."""
    root = WORK / f"synthetic-{target_chunks}"
    corpus, index = root / "corpus", root / "index"
    known, sentences, titles = known_vectors(clapnq)
    real_chunks = clapnq.store.count()
    passages = write_corpus(corpus, target_chunks - real_chunks, sentences, titles)
    shutil.rmtree(index, ignore_errors=True)
    embedder = RecombinedEmbeddings(known, clapnq.embedder)
    settings = clapnq.settings
    log(f"synthetic corpus: {passages:,} passages + ClapNQ; indexing")
    paths = IndexPaths(index)
    with stopwatch() as elapsed, index_lock(index):
        store = ChunkStore(index, settings.collection, model_identity(BUNDLED_MODEL))
        report, _ = sync_corpus(
            corpus,
            paths,
            store,
            embedder,
            # Sentences drawn from ClapNQ: tagging 100,000 recombined chunks would measure spaCy,
            # not the question path this corpus is for, so its chunks carry no entities.
            lambda texts: [() for _ in texts],
            chunk_chars=settings.chunk_chars,
            overlap=settings.chunk_overlap_sentences,
            batch_size=1000,
            max_file_bytes=settings.max_file_bytes,
        )
        seconds = elapsed()
    if report.skipped:
        raise RuntimeError(f"synthetic corpus files were skipped: {report.skipped}")
    return {
        "corpus": str(corpus),
        "index": str(index),
        "chunks": report.chunks,
        "synthetic_passages": passages,
        "chunk_vectors_synthesised": embedder.synthesised,
        "texts_embedded_for_real": embedder.embedded,
        "index_seconds": round(seconds, 1),
    }
