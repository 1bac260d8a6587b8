"""Ingest throughput: docqa's whole ingest against the bare embedding model on the same texts.

docqa embeds every chunk, every sentence of every chunk and every part of a long sentence
(precomputed so that answering only embeds the question); the raw figure is
``SentenceTransformer.encode`` on exactly those texts, in the same process, so the difference is
docqa's own overhead: reading, chunking, tagging entities, Chroma writes, the keyword index and
the manifest.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.common import ROOT, log, stopwatch
from docqa.api import DocQA
from docqa.chunking import sentence_parts
from docqa.embeddings import resolve_model_path


def embedded_texts(qa: DocQA) -> list[str]:
    """The distinct texts ingest embedded: each chunk's text, each of its sentences and each
    part of a long sentence."""
    texts: dict[str, None] = {}
    for chunk in qa.store.all_chunks():
        texts[chunk.text] = None
        for span in chunk.sentences:
            sentence = chunk.sentence_text(span)
            texts[sentence] = None
            texts.update((sentence[a:b], None) for a, b in sentence_parts(sentence))
    return list(texts)


def raw_encode_seconds(texts: list[str], batch_size: int) -> float:
    """Seconds ``SentenceTransformer.encode`` takes for ``texts`` (model loaded beforehand)."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(resolve_model_path(DocQA().settings.embedding_model)))
    model.encode(["warm-up sentence"], normalize_embeddings=True)
    with stopwatch() as elapsed:
        model.encode(texts, batch_size=batch_size, normalize_embeddings=True)
        return elapsed()


def run(corpus: Path, index: Path) -> dict[str, Any]:
    """Build ``index`` from scratch, time it against the raw model, then re-ingest unchanged."""
    shutil.rmtree(index, ignore_errors=True)
    qa = DocQA(corpus_dir=corpus, index_dir=index)
    qa.embedder.embed_documents(["warm-up sentence"])  # model load is cold start, not ingest
    log(f"ingest {corpus.name} from scratch")
    report = qa.ingest()
    texts = embedded_texts(qa)
    log(f"raw SentenceTransformer.encode on the same {len(texts):,} texts")
    raw = raw_encode_seconds(texts, qa.settings.embedding_batch_size)

    log("re-ingest, unchanged")
    with stopwatch() as elapsed:
        again = DocQA(corpus_dir=corpus, index_dir=index).ingest()
        reingest = elapsed()
    with stopwatch() as elapsed:
        subprocess.run(
            [sys.executable, "-m", "docqa.cli", "--corpus", str(corpus), "--index", str(index)]
            + ["ingest"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        reingest_cli = elapsed()
    return {
        "corpus": str(corpus.relative_to(ROOT)),
        "chunks": report.chunks,
        "texts_embedded": len(texts),
        "docqa_seconds": round(report.seconds, 2),
        "raw_encode_seconds": round(raw, 2),
        "docqa_chunks_per_second": round(report.chunks / report.seconds, 2),
        "raw_chunks_per_second": round(report.chunks / raw, 2),
        "overhead": round(report.seconds / raw - 1, 4),
        "reingest_unchanged_seconds": round(reingest, 3),
        "reingest_unchanged_chunks_embedded": again.chunks_embedded,
        "reingest_cli_seconds": round(reingest_cli, 2),
    }
