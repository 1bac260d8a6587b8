"""Crash safety: an ingest killed (SIGKILL) at random points is finished by the next run.

The index left after a series of killed runs and one complete run must equal an index built from
scratch: same chunk ids, same manifest, same keyword results, same answers. The manifest is
written atomically, so after every kill it is either absent or a complete, loadable file.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from docqa import DocQA
from docqa.index import index_lock
from docqa.keyword import KeywordIndex
from docqa.layout import IndexPaths
from docqa.manifest import Manifest
from servers import docqa_script

pytestmark = pytest.mark.slow

DOCS_JSONL = Path(__file__).resolve().parents[1] / "eval/data/clapnq/docs.jsonl"
FILES = 10
PASSAGES_PER_FILE = 2
# Fractions of one full run's duration at which to kill: from "still importing / loading the
# model" through "mid-embedding" to "near the end" (store writes, keyword index, manifest).
KILL_WINDOWS: tuple[tuple[float, float], ...] = (
    (0.02, 0.10),
    (0.15, 0.30),
    (0.35, 0.50),
    (0.55, 0.70),
    (0.70, 0.80),
)
MIN_KILLS = 4
ATTEMPTS_PER_WINDOW = 3
QUESTIONS = (
    "What is the highest mountain in Canada?",
    "Which cells produce insulin?",
    "What is the main purpose of a myelin sheath?",
)
KEYWORD_QUERIES = ("highest mountain Canada", "insulin beta cells", "myelin sheath impulses")
RUN_TIMEOUT = 300.0


def subprocess_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCQA_")}
    # Many small embedding batches: kills land between (and inside) writes, not only in imports.
    env["DOCQA_EMBEDDING_BATCH_SIZE"] = "8"
    env["TOKENIZERS_PARALLELISM"] = "false"
    env["PYTHONWARNINGS"] = "ignore"
    return env


def ingest_command(corpus: Path, index: Path) -> list[str]:
    # `--index` is an option of the `docqa` command itself (README: `docqa --corpus DIR
    # --index DIR <command>`); `ingest` accepts only `--corpus`.
    return [str(docqa_script()), "--index", str(index), "ingest", "--corpus", str(corpus)]


def build_corpus(folder: Path) -> Path:
    """FILES text files, each made of PASSAGES_PER_FILE consecutive ClapNQ passages."""
    folder.mkdir(parents=True)
    with DOCS_JSONL.open(encoding="utf-8") as handle:
        texts = [json.loads(next(handle))["text"] for _ in range(FILES * PASSAGES_PER_FILE)]
    for n in range(FILES):
        passages = texts[n * PASSAGES_PER_FILE : (n + 1) * PASSAGES_PER_FILE]
        (folder / f"doc{n:02d}.txt").write_text("\n\n".join(passages) + "\n", encoding="utf-8")
    return folder


@dataclass(frozen=True)
class RunResult:
    returncode: int
    seconds: float
    stderr: str


def run_ingest(corpus: Path, index: Path, log: Path, kill_after: float | None = None) -> RunResult:
    """Run `docqa ingest`; with ``kill_after``, SIGKILL it after that many seconds."""
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as err:
        process = subprocess.Popen(
            ingest_command(corpus, index),
            env=subprocess_env(),
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            try:
                process.wait(timeout=RUN_TIMEOUT if kill_after is None else kill_after)
            except subprocess.TimeoutExpired:
                if kill_after is None:
                    raise
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=30)
    return RunResult(
        process.returncode, time.perf_counter() - started, log.read_text(encoding="utf-8")
    )


def assert_manifest_absent_or_whole(index: Path) -> None:
    """The manifest is written atomically: never a torn file."""
    path = IndexPaths(index).manifest
    if not path.exists():
        return
    raw = json.loads(path.read_text(encoding="utf-8"))  # raises on a torn file
    assert isinstance(raw, dict)
    Manifest.load(path)  # and it is loadable, not merely JSON


def assert_lock_released(index: Path) -> None:
    """A killed writer never leaves the index locked (flock dies with the process)."""
    if index.exists():
        with index_lock(index, wait=False):
            pass


def manifest_entries(index: Path) -> dict[str, tuple[str, list[str], list[str], str | None]]:
    manifest = Manifest.load(IndexPaths(index).manifest)
    return {
        source: (entry.sha256, sorted(entry.doc_ids), sorted(entry.chunk_ids), entry.skipped_reason)
        for source, entry in manifest.files.items()
    }


def keyword_results(index: Path) -> tuple[str, dict[str, list[tuple[str, float]]]]:
    keyword = KeywordIndex.load(IndexPaths(index).keyword)
    assert keyword is not None, f"no readable keyword index in {index}"
    results = {
        q: sorted(
            ((cid, round(score, 6)) for cid, score in keyword.search(q, 10)),
            key=lambda item: (-item[1], item[0]),
        )
        for q in KEYWORD_QUERIES
    }
    return keyword.generation, results


AnswerKey = tuple[str, bool, tuple[tuple[str, int, int, str], ...]]


def answers(qa: DocQA) -> dict[str, AnswerKey]:
    out: dict[str, AnswerKey] = {}
    for question in QUESTIONS:
        answer = qa.ask(question)
        cites = tuple((c.source, c.start, c.end, c.quote) for c in answer.citations)
        out[question] = (answer.text, answer.abstained, cites)
    return out


def test_killed_ingests_are_completed_by_the_next_run(tmp_path: Path) -> None:
    corpus = build_corpus(tmp_path / "corpus")
    reference = tmp_path / "reference"
    crashed = tmp_path / "crashed"

    full = run_ingest(corpus, reference, tmp_path / "reference.log")
    assert full.returncode == 0, full.stderr
    duration = full.seconds

    rng = random.Random(1234)
    outcomes: list[tuple[float, int]] = []
    killed = 0
    for n, (low, high) in enumerate(KILL_WINDOWS):
        for attempt in range(ATTEMPTS_PER_WINDOW):
            delay = rng.uniform(low, high) * duration
            log = tmp_path / f"kill-{n}-{attempt}.log"
            result = run_ingest(corpus, crashed, log, kill_after=delay)
            outcomes.append((round(delay, 2), result.returncode))
            # A run that beat its kill must still have succeeded; a killed one died of SIGKILL.
            assert result.returncode in (0, -signal.SIGKILL), (delay, result.stderr)
            assert_manifest_absent_or_whole(crashed)
            assert_lock_released(crashed)
            if result.returncode == -signal.SIGKILL:
                killed += 1
                break
            # The machine got faster than during the reference run and the kill came too
            # late. That run recovered the earlier kills: check, then start afresh with the
            # shorter duration so the remaining kills still land mid-run.
            assert manifest_entries(crashed) == manifest_entries(reference)
            duration = min(duration, result.seconds)
            shutil.rmtree(crashed)
    assert killed >= MIN_KILLS, f"only {killed} runs were killed mid-way: {outcomes}"

    final = run_ingest(corpus, crashed, tmp_path / "final.log")
    assert final.returncode == 0, final.stderr
    assert "Traceback" not in final.stderr

    assert manifest_entries(crashed) == manifest_entries(reference)
    assert not list(crashed.glob(".manifest-*")), "temporary manifest files were left behind"

    # Opened without an injected embedder: the CLI indexed with the bundled model.
    ref_qa = DocQA(corpus_dir=corpus, index_dir=reference)
    got_qa = DocQA(corpus_dir=corpus, index_dir=crashed)
    ref_ids = ref_qa.store.all_ids()
    got_ids = got_qa.store.all_ids()
    assert got_ids == ref_ids
    assert (
        got_qa.store.count()
        == len(got_ids)
        == len(Manifest.load(IndexPaths(crashed).manifest).all_chunk_ids())
    )
    assert sorted(c.chunk_id for c in got_qa.store.all_chunks()) == sorted(ref_ids)
    # Every stored chunk still has its sentence vectors (sentences are written first).
    chunks = got_qa.store.all_chunks()
    vectors = got_qa.store.sentence_vectors(chunks)
    assert set(vectors) == {c.chunk_id for c in chunks}

    # The persisted keyword index is in step with the store and finds the same chunks.
    got_generation, got_keyword = keyword_results(crashed)
    _, ref_keyword = keyword_results(reference)
    assert got_generation == got_qa.store.generation
    assert got_keyword == ref_keyword
    assert all(got_keyword.values()), got_keyword

    got_answers = answers(got_qa)
    assert got_answers == answers(ref_qa)
    assert not all(abstained for _, abstained, _ in got_answers.values()), got_answers


def test_temporary_files_of_an_interrupted_save_do_not_accumulate(
    tmp_path: Path, embedder: Embeddings
) -> None:
    """A process killed inside ``Manifest.save`` / ``KeywordIndex.save`` leaves its temporary
    file or staging folder behind; the next complete ingest must not keep them forever."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "The alpha station monitors glaciers in the northern valley.\n", encoding="utf-8"
    )
    index = tmp_path / "index"
    qa = DocQA(corpus_dir=corpus, index_dir=index, embedder=embedder)
    qa.ingest()
    # Exactly what a SIGKILL between mkstemp/mkdtemp and the final rename leaves behind.
    (index / ".manifest-k1ll3d").write_text('{"version": 1, "chunk', encoding="utf-8")
    (index / ".keyword-k1ll3d").mkdir()
    (index / ".keyword-k1ll3d" / "params.index.json").write_text("{", encoding="utf-8")
    # Left by a run killed minutes ago (fresh ones may belong to a reader saving right now).
    stale = time.time() - 600
    for leftover in (index / ".manifest-k1ll3d", index / ".keyword-k1ll3d"):
        os.utime(leftover, (stale, stale))
    (corpus / "b.txt").write_text(
        "The beta laboratory breeds drought-resistant wheat.\n", encoding="utf-8"
    )

    report = DocQA(corpus_dir=corpus, index_dir=index, embedder=embedder).ingest()

    assert report.added == ("b.txt",)
    leftovers = sorted(
        p.name for p in index.iterdir() if p.name.startswith((".manifest-", ".keyword-"))
    )
    assert leftovers == [], f"temporary files of an interrupted save remain: {leftovers}"
