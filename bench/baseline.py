"""The pipeline most users would otherwise write: LangChain's RAG tutorial, on ClapNQ.

``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, ``Chroma.from_documents``
with the same embedding model, ``similarity_search(k=4)``. Quality is measured on a ranking of 10
for both pipelines (recall@5 and MRR@10 over distinct passages, as ``docqa eval`` scores them);
latency is each pipeline's retrieval step as it would be used (the tutorial's top 4, docqa's
top 5), on the same questions in the same process: on an idle machine, and again with another
process spinning on one of the two cores (sentence-transformers' torch spreads one question over
both cores and stalls when one is taken; docqa's question encoder uses one).
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import CLAPNQ_DOCS, WORK, clapnq_questions, log, ms_stats, read_jsonl, stopwatch
from bench.ingest_bench import raw_encode_seconds
from docqa.api import DocQA
from docqa.embeddings import BUNDLED_MODEL, resolve_model_path
from docqa.evaluation.metrics import retrieval_scores

RANKING = 10
BUSY_QUESTIONS = 100


def _tutorial_store(directory: Path) -> tuple[Any, dict[str, Any]]:
    import chromadb
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_huggingface import HuggingFaceEmbeddings
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    embeddings = HuggingFaceEmbeddings(
        model_name=str(resolve_model_path(BUNDLED_MODEL)),
        model_kwargs={"device": "cpu", "local_files_only": True},
    )
    embeddings.embed_documents(["warm-up sentence"])
    docs = [
        Document(page_content=r["text"], metadata={"doc_id": r["doc_id"], "title": r["title"]})
        for r in read_jsonl(CLAPNQ_DOCS)
    ]
    shutil.rmtree(directory, ignore_errors=True)
    with stopwatch() as elapsed:
        splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
        splits = splitter.split_documents(docs)
        store = Chroma.from_documents(
            splits,
            embeddings,
            persist_directory=str(directory),
            client_settings=chromadb.Settings(anonymized_telemetry=False),
        )
        seconds = elapsed()
    raw = raw_encode_seconds([d.page_content for d in splits], 32)
    return store, {
        "chunks": len(splits),
        "texts_embedded": len(splits),
        "ingest_seconds": round(seconds, 2),
        "raw_encode_seconds": round(raw, 2),
        "chunks_per_second": round(len(splits) / seconds, 2),
        "overhead": round(seconds / raw - 1, 4),
    }


def _quality(rankings: list[tuple[list[tuple[str, str]], list[str]]]) -> dict[str, float]:
    scores = [retrieval_scores(ranking, (), gold) for ranking, gold in rankings]
    return {
        "recall_at_5": round(statistics.mean(r or 0.0 for r, _ in scores), 3),
        "mrr_at_10": round(statistics.mean(m or 0.0 for _, m in scores), 3),
    }


@contextmanager
def one_core_busy() -> Iterator[None]:
    """Another process spinning on one core, as a browser tab or a second job would."""
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        yield
    finally:
        spinner.kill()
        spinner.wait()


def _time_retrieval(questions: list[str], store: Any, qa: DocQA) -> tuple[list[float], list[float]]:
    """Seconds per question of the tutorial's top-4 search and of docqa's retrieval."""
    tutorial: list[float] = []
    mine: list[float] = []
    for q in questions:
        t0 = time.perf_counter()
        store.similarity_search(q, k=4)
        t1 = time.perf_counter()
        qa.retrieve(q)
        t2 = time.perf_counter()
        tutorial.append(t1 - t0)
        mine.append(t2 - t1)
    return tutorial, mine


def run(clapnq_corpus: Path, clapnq_index: Path) -> dict[str, Any]:
    """Tutorial pipeline and docqa's retrieval, side by side on every ClapNQ question."""
    log("LangChain tutorial pipeline: ingest ClapNQ")
    store, ingest = _tutorial_store(WORK / "langchain-tutorial")
    qa = DocQA(corpus_dir=clapnq_corpus, index_dir=clapnq_index, top_k=RANKING)
    fast = DocQA(corpus_dir=clapnq_corpus, index_dir=clapnq_index)
    items = clapnq_questions()
    questions = [item["question"] for item in items]
    fast.ask(questions[0])
    store.similarity_search(questions[0], k=4)
    log(f"both pipelines on {len(questions)} ClapNQ questions")
    tutorial_ranked, docqa_ranked = [], []
    for item in items:
        if item["answerable"]:
            hits = store.similarity_search(item["question"], k=RANKING)
            gold = list(item["gold_doc_ids"])
            tutorial_ranked.append(([(h.metadata["doc_id"], h.page_content) for h in hits], gold))
            mine = qa.retrieve(item["question"])
            docqa_ranked.append(([(r.chunk.doc_id, r.chunk.text) for r in mine], gold))
    tutorial_idle, docqa_idle = _time_retrieval(questions, store, fast)
    log("again with one core busy")
    with one_core_busy():
        tutorial_busy, docqa_busy = _time_retrieval(questions[:BUSY_QUESTIONS], store, fast)
    return {
        "questions": len(questions),
        "answerable_scored": len(tutorial_ranked),
        "busy_questions": BUSY_QUESTIONS,
        "tutorial": {
            **ingest,
            **_quality(tutorial_ranked),
            "retrieve_ms": ms_stats(tutorial_idle),
            "retrieve_busy_ms": ms_stats(tutorial_busy),
        },
        "docqa": {
            **_quality(docqa_ranked),
            "retrieve_ms": ms_stats(docqa_idle),
            "retrieve_busy_ms": ms_stats(docqa_busy),
        },
    }
