"""The shipped reader: loads offline, checks its hash, reads deterministically, answers through
``DocQA`` with a real store, and lists the closest passages when it abstains."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from docqa import DocQA
from docqa.embeddings import BUNDLED_MODEL, resolve_model_path
from docqa.errors import ConfigurationError
from docqa.fileio import file_sha256
from docqa.reader.reading import CARD_FILE, WEIGHTS_DIR, Reader

pytestmark = pytest.mark.slow

SENTENCES = [
    "The bridge opened in 1932.",
    "It carries six lanes of traffic.",
    "Its designer was Ann Lee, an engineer from Oslo.",
]


def _refuse(*args: object, **kwargs: object) -> None:
    raise OSError("the reader tried to use the network")


def test_the_shipped_reader_loads_offline_and_reads_deterministically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(socket.socket, "connect", _refuse)
    monkeypatch.setattr(socket, "create_connection", _refuse)
    monkeypatch.setattr(socket, "getaddrinfo", _refuse)
    base = resolve_model_path(BUNDLED_MODEL)
    reader = Reader(WEIGHTS_DIR, base)
    weights = WEIGHTS_DIR / reader.card["weights"]
    assert file_sha256(weights) == reader.sha256
    assert weights.stat().st_size < 50 * 2**20

    first = reader.read("Who designed the bridge?", SENTENCES)
    again = Reader(WEIGHTS_DIR, base).read("Who designed the bridge?", SENTENCES)
    assert first == again  # bit for bit: same probabilities, logits and phrases
    best = max(range(len(SENTENCES)), key=lambda i: first[i].probability)
    assert best == 2
    phrase = first[2].phrase
    assert phrase is not None and "Ann Lee" in SENTENCES[2][phrase.start : phrase.end]
    unrelated = reader.read("What is the boiling point of mercury?", SENTENCES)
    assert max(r.probability for r in unrelated) < first[2].probability

    # The NumPy path (one-shot `docqa ask`) reads as the torch path does.
    numpy_read = reader.read("Who designed the bridge?", SENTENCES, use_torch=False)
    for a, b in zip(first, numpy_read, strict=True):
        assert abs(a.logit - b.logit) < 1e-3
        assert a.phrase is not None and b.phrase is not None
        assert (a.phrase.start, a.phrase.end) == (b.phrase.start, b.phrase.end)


def test_a_corrupt_weights_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "weights"
    shutil.copytree(WEIGHTS_DIR, folder)
    reader_card = (folder / CARD_FILE).read_text(encoding="utf-8")
    weights = next(folder.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ConfigurationError, match="SHA-256"):
        Reader(folder, resolve_model_path(BUNDLED_MODEL))
    (folder / CARD_FILE).unlink()
    with pytest.raises(ConfigurationError, match="model card"):
        Reader(folder, resolve_model_path(BUNDLED_MODEL))
    assert "sha256" in reader_card


def test_reader_answers_with_a_phrase_and_lists_closest_passages_when_it_abstains(
    nato_dirs: dict[str, Path], embedder: Embeddings, nato_text: str
) -> None:
    qa = DocQA(
        corpus_dir=nato_dirs["corpus"],
        index_dir=nato_dirs["index"],
        embedder=embedder,
        answerer="reader",
    )
    answer = qa.ask("When was the NATO Mission in Iraq established?")
    assert not answer.abstained and answer.answerer == "reader"
    assert 1 <= len(answer.citations) <= 2
    for c in answer.citations:
        assert nato_text[c.start : c.end] == c.quote
        if c.answer_start is not None:
            assert c.answer_end is not None and c.start <= c.answer_start < c.answer_end <= c.end
            assert nato_text[c.answer_start : c.answer_end] == c.answer_phrase
    assert "2018" in answer.citations[0].quote
    assert "read" in answer.timings and answer.closest == ()

    refused = qa.ask("What is the boiling point of mercury?")
    assert refused.abstained and refused.citations == ()
    assert 1 <= len(refused.closest) <= qa.settings.closest_passages
    for c in refused.closest:
        assert nato_text[c.start : c.end] == c.quote
    data = refused.to_dict()
    assert [c["quote"] for c in data["closest"]] == [c.quote for c in refused.closest]
