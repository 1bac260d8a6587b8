"""Two writers on one index: the second waits for the first (or fails fast), never corrupts it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.embeddings import Embeddings

from conftest import SMALL_CORPUS, write_corpus
from docqa import DocQA
from docqa.errors import IndexError_
from docqa.index import index_lock
from docqa.keyword import KeywordIndex
from docqa.layout import IndexPaths
from docqa.manifest import Manifest
from servers import docqa_script

pytestmark = pytest.mark.slow

RUN_TIMEOUT = 300.0
HOLD_SECONDS = 3.0
CORPUS: dict[str, str | bytes] = {
    **SMALL_CORPUS,
    "delta.txt": (
        "The delta observatory counts migrating cranes every October. "
        "Its volunteers publish the tallies on the village notice board.\n"
    ),
}
QUESTION = "What does the alpha station monitor?"

_HOLD_LOCK = """
import sys
from pathlib import Path
from docqa.index import index_lock
with index_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    sys.stdin.read()
"""


def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCQA_")}
    env["TOKENIZERS_PARALLELISM"] = "false"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def start_ingest(corpus: Path, index: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w", encoding="utf-8") as err:
        return subprocess.Popen(
            [str(docqa_script()), "--index", str(index), "ingest", "--corpus", str(corpus)],
            env=subprocess_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )


def stop(process: subprocess.Popen[Any]) -> None:
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


@contextmanager
def lock_held_by_other_process(index: Path) -> Iterator[subprocess.Popen[str]]:
    """A separate Python process holding ``index_lock(index)`` until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(index)],
        env=subprocess_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "locked"
        yield process
    finally:
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        try:
            process.wait(timeout=30)
        finally:
            if process.stdout is not None:
                process.stdout.close()
            stop(process)


def waiting_for_lock(log: Path) -> bool:
    """Whether the ``docqa ingest`` writing ``log`` has said it waits for the index lock."""
    return "waiting for it to finish" in log.read_text(encoding="utf-8", errors="replace")


def make_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return write_corpus(folder, CORPUS)


def manifest_entries(index: Path) -> dict[str, tuple[str, list[str], list[str]]]:
    manifest = Manifest.load(IndexPaths(index).manifest)
    return {
        source: (entry.sha256, sorted(entry.doc_ids), sorted(entry.chunk_ids))
        for source, entry in manifest.files.items()
    }


def test_lock_without_waiting_names_the_other_writer(tmp_path: Path) -> None:
    index = tmp_path / "index"
    with (
        lock_held_by_other_process(index),
        pytest.raises(IndexError_) as caught,
        index_lock(index, wait=False),
    ):
        pytest.fail("acquired a lock another process holds")
    message = str(caught.value)
    assert message.startswith("Another docqa process is writing the index")
    assert str(index) in message
    # Released with its holder: now it is free.
    with index_lock(index, wait=False):
        pass


def test_ingest_waits_while_another_process_holds_the_lock(
    tmp_path: Path, embedder: Embeddings
) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    process: subprocess.Popen[bytes] | None = None
    try:
        with index_lock(index):
            process = start_ingest(corpus, index, tmp_path / "ingest.log")
            # Wait until the ingest is really queued on the lock (imports take seconds) ...
            deadline = time.monotonic() + RUN_TIMEOUT
            while not waiting_for_lock(tmp_path / "ingest.log"):
                assert process.poll() is None, (tmp_path / "ingest.log").read_text()
                assert time.monotonic() < deadline, "ingest never reached the index lock"
                time.sleep(0.1)
            # ... then keep it waiting: it must not write anything while the lock is held.
            time.sleep(HOLD_SECONDS)
            assert process.poll() is None, "ingest finished while another writer held the lock"
            assert not IndexPaths(index).manifest.exists()
        assert process.wait(timeout=RUN_TIMEOUT) == 0, (tmp_path / "ingest.log").read_text()
    finally:
        if process is not None:
            stop(process)

    reference = DocQA(corpus_dir=corpus, index_dir=tmp_path / "reference", embedder=embedder)
    reference.ingest()
    assert manifest_entries(index) == manifest_entries(tmp_path / "reference")


def test_two_simultaneous_ingests_both_finish_and_agree(
    tmp_path: Path, embedder: Embeddings
) -> None:
    corpus = make_corpus(tmp_path / "corpus")
    index = tmp_path / "index"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(2):
            processes.append(start_ingest(corpus, index, tmp_path / f"ingest-{n}.log"))
        codes = [p.wait(timeout=RUN_TIMEOUT) for p in processes]
    finally:
        for process in processes:
            stop(process)
    logs = [(tmp_path / f"ingest-{n}.log").read_text(encoding="utf-8") for n in range(2)]
    assert codes == [0, 0], logs
    assert not any("Traceback" in log for log in logs), logs

    ref_dir = tmp_path / "reference"
    reference = DocQA(corpus_dir=corpus, index_dir=ref_dir, embedder=embedder)
    reference.ingest()
    ref_ids = reference.store.all_ids()

    # Opened without an injected embedder: the CLI indexed with the bundled model.
    qa = DocQA(corpus_dir=corpus, index_dir=index)
    ids = qa.store.all_ids()
    assert ids == ref_ids
    manifest = Manifest.load(IndexPaths(index).manifest)
    assert qa.store.count() == len(ids) == len(manifest.all_chunk_ids())
    assert manifest_entries(index) == manifest_entries(ref_dir)
    chunks = qa.store.all_chunks()
    assert len(chunks) == len({c.chunk_id for c in chunks}) == len(ids)
    assert set(qa.store.sentence_vectors(chunks)) == ids

    # The persisted keyword index describes the store as it is now.
    keyword = KeywordIndex.load(IndexPaths(index).keyword)
    assert keyword is not None
    assert sorted(keyword.chunk_ids) == sorted(ids)
    assert keyword.generation == qa.store.generation, (
        "the keyword index on disk was saved with a generation token the store no longer has"
    )

    answer = qa.ask(QUESTION)
    expected = reference.ask(QUESTION)
    assert not answer.abstained
    assert answer.text == expected.text
    assert [(c.source, c.start, c.end) for c in answer.citations] == [
        (c.source, c.start, c.end) for c in expected.citations
    ]
