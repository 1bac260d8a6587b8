"""The exported int8 graphs questions and ingest run on: parity with the float models, the same
vector for a text alone or in a batch, thread safety, hash and source checks, the fallback."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from docqa.embeddings import BUNDLED_MODEL, LocalBertEmbeddings, load_embedder, resolve_model_path
from docqa.errors import ConfigurationError
from docqa.onnx_export import export_all
from docqa.onnx_graph import bert_graph
from docqa.onnx_runtime import (
    ENCODER,
    EXPORT_DIR,
    MANIFEST,
    READER,
    OnnxBert,
    encoder_source,
    load_exported,
    read_manifest,
    reader_source,
)
from docqa.reader.reading import WEIGHTS_DIR, Reader, load_reader

pytestmark = pytest.mark.slow

BUNDLED = resolve_model_path(BUNDLED_MODEL)
CORPUS = Path(__file__).parents[1] / "corpus" / "nato-iraq-political-dialogue.txt"
REBUILD = "python -m docqa.onnx_export"


def _texts() -> list[str]:
    """Questions, the corpus's sentences and paragraphs, and texts past 256 word pieces."""
    text = CORPUS.read_text(encoding="utf-8")
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    sentences = [s.strip() for s in text.replace("\n", " ").split(". ") if len(s.strip()) > 3]
    questions = ["Who led the Iraqi delegation?", "When was the NATO Mission in Iraq set up?"]
    return questions + sentences[:40] + paragraphs[:10] + ["glacier " * 600, "x"]


@pytest.fixture(scope="module")
def reference() -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(BUNDLED), device="cpu", local_files_only=True)


def test_the_bundled_model_runs_on_the_exported_graph_within_cosine_099(reference: Any) -> None:
    embeddings = load_embedder()
    assert isinstance(embeddings, LocalBertEmbeddings)
    assert isinstance(embeddings.encoder.runner, OnnxBert)
    texts = _texts()
    got = np.array(embeddings.embed_documents(texts), dtype=np.float64)
    want = np.asarray(reference.encode(texts, normalize_embeddings=True), dtype=np.float64)
    cosines = (got * want).sum(1)
    assert cosines.min() >= 0.99, [texts[i][:40] for i in np.argsort(cosines)[:3]]
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # A question runs on the float graph: sentence-transformers' vector, to float precision.
    for i in (0, 1, 5, len(texts) - 2):
        question = np.array(embeddings.embed_query(texts[i]), dtype=np.float64)
        assert np.abs(question - want[i]).max() < 1e-5
    # In a batch, a text's vector does not depend on the texts beside it.
    again = np.array(embeddings.embed_documents(texts[::-1][:20]), dtype=np.float64)[::-1]
    assert np.array_equal(again, got[-20:])


def test_the_float_graph_is_the_numpy_forward_pass(tmp_path: Path) -> None:
    encoder = LocalBertEmbeddings(BUNDLED).encoder
    path = tmp_path / "float.onnx"
    path.write_bytes(bert_graph(encoder, "float").SerializeToString())
    encoded = encoder.tokenizer.encode_batch(_texts()[:12])
    ids = np.array([e.ids for e in encoded], dtype=np.int64)
    types = np.array([e.type_ids for e in encoded], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encoded], dtype=np.float32)
    got = OnnxBert({"float": path})(ids, types, mask)
    want = encoder._layers_numpy(ids, types, mask)
    keep = mask.astype(bool)
    assert np.abs(got[keep] - want[keep]).max() < 1e-4
    assert not got[~keep].any()  # padding is never computed


def test_concurrent_passes_give_what_a_single_pass_gives() -> None:
    runner = load_exported(ENCODER, encoder_source(BUNDLED))
    assert runner is not None
    encoder = LocalBertEmbeddings(BUNDLED).encoder
    texts = _texts()
    batches = [texts[i : i + 4] for i in range(0, len(texts) - 3, 4)]
    inputs = []
    for batch in batches:
        encoded = encoder.tokenizer.encode_batch(batch)
        inputs.append(
            tuple(
                np.array([getattr(e, field) for e in encoded], dtype=dtype)
                for field, dtype in (
                    ("ids", np.int64),
                    ("type_ids", np.int64),
                    ("attention_mask", np.float32),
                )
            )
        )
    alone = [runner(*args) for args in inputs]
    together: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        for _ in range(3):
            together[i] = runner(*inputs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, want in enumerate(alone):
        assert np.allclose(together[i], want, atol=1e-4)  # one core or two: the same sums


def test_the_reader_graph_keeps_the_float_readers_judgement() -> None:
    exported = load_reader()
    assert isinstance(exported.encoder.runner, OnnxBert)
    float_reader = Reader(WEIGHTS_DIR, BUNDLED)  # no graph: NumPy, the float weights
    sentences = [s for s in _texts()[2:] if len(s) > 30]
    questions = [
        "Who led the Iraqi delegation?",
        "What did the two sides discuss?",
        "Where did the meeting take place?",
        "Which mission supports Iraq's security institutions?",
    ]
    for question in questions:
        for start in range(0, len(sentences) - 1, 6):
            group = sentences[start : start + 6]
            if len(group) < 2:
                continue
            got = exported.read(question, group)
            want = float_reader.read(question, group, use_torch=False)
            assert (
                max(abs(a.probability - b.probability) for a, b in zip(got, want, strict=True))
                < 0.1
            )
            best = max(range(len(group)), key=lambda i: want[i].probability)
            runner_up = sorted((r.probability for r in want), reverse=True)[1]
            if want[best].probability - runner_up > 0.1:  # a clear winner stays the winner
                assert max(range(len(group)), key=lambda i: got[i].probability) == best


def _copy_export(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    shutil.copytree(EXPORT_DIR, folder)
    return folder


def test_a_corrupt_graph_is_refused_with_the_command_that_rebuilds_it(tmp_path: Path) -> None:
    folder = _copy_export(tmp_path)
    graph = folder / read_manifest(folder)[ENCODER].files["int8"]
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    with pytest.raises(ConfigurationError, match="does not match the SHA-256") as caught:
        load_exported(ENCODER, encoder_source(BUNDLED), folder)
    assert REBUILD in str(caught.value)
    graph.unlink()
    with pytest.raises(ConfigurationError, match="is missing"):
        load_exported(ENCODER, encoder_source(BUNDLED), folder)


def test_a_graph_of_other_weights_is_refused(tmp_path: Path) -> None:
    folder = _copy_export(tmp_path)
    with pytest.raises(ConfigurationError, match="exported from other weights") as caught:
        load_exported(READER, reader_source(BUNDLED, "0" * 64), folder)
    assert REBUILD in str(caught.value)


def test_without_an_export_the_models_run_in_numpy_and_say_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="docqa.onnx_runtime"):
        assert load_exported("encoder-elsewhere", encoder_source(BUNDLED), tmp_path) is None
    assert REBUILD in caplog.text and "3x slower" in caplog.text


def test_the_export_is_reproducible_and_the_installed_one_is_current(tmp_path: Path) -> None:
    entries = export_all(tmp_path)
    installed = json.loads((EXPORT_DIR / MANIFEST).read_text(encoding="utf-8"))
    assert entries == installed  # same sources, same bytes: `make install` is up to date
    for entry in entries.values():  # int8: a third of the float model's 90 MB
        assert (tmp_path / entry["files"]["int8"]).stat().st_size < 40 * 2**20
