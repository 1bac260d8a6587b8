"""The light BERT encoder against the real sentence-transformers model it stands in for.

``docqa ask`` must not import sentence-transformers (~3 s), so the bundled model runs on
``docqa.bert_encoder``; these tests hold its vectors to sentence-transformers' own.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from docqa import bert_encoder
from docqa.bert_encoder import BertEncoder, is_plain_bert_folder
from docqa.embeddings import BUNDLED_MODEL, LocalBertEmbeddings, load_embedder, resolve_model_path

pytestmark = pytest.mark.slow

TOLERANCE = 1e-5
BUNDLED = resolve_model_path(BUNDLED_MODEL)

# Mixed lengths: empty, one character, padding-heavy, unicode, and past max_seq_length (256
# word pieces) so truncation is compared too.
TEXTS = [
    "Who led the Iraqi delegation?",
    "",
    "x",
    "  leading and trailing spaces  ",
    "Émigré naïve café — “quotes”, 日本語 and tabs\tand\nnew lines",
    "The dialogue aims at reinforcing Iraq's security capacities through advisory support. " * 3,
    "word " * 254,  # exactly at the limit once [CLS] and [SEP] are added
    "word " * 255,
    "glacier " * 600,
    " ".join(f"token{i}" for i in range(400)),
]


@pytest.fixture(scope="module")
def reference() -> Any:
    """The real sentence-transformers model (what HuggingFaceEmbeddings would run)."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(BUNDLED), device="cpu", local_files_only=True)


def expected(reference: Any, texts: list[str]) -> np.ndarray:
    return np.asarray(reference.encode(texts, normalize_embeddings=True), dtype=np.float32)


def test_bundled_model_takes_the_light_path() -> None:
    emb = load_embedder(BUNDLED_MODEL, 64)
    assert isinstance(emb, LocalBertEmbeddings)
    assert emb.encoder.max_seq_length == 256
    assert emb.encoder.runner is not None  # the exported graph (tests/test_onnx_runtime.py)


@pytest.mark.parametrize("min_tokens", [10**9, 0], ids=["numpy", "torch"])
def test_vectors_match_sentence_transformers(
    reference: Any, monkeypatch: pytest.MonkeyPatch, min_tokens: int
) -> None:
    # Both backends, whatever the batch size: NumPy for questions, torch for ingest batches.
    monkeypatch.setattr(bert_encoder, "TORCH_MIN_TOKENS", min_tokens)
    monkeypatch.setattr(bert_encoder, "TORCH_MIN_TEXTS", min_tokens)
    emb = LocalBertEmbeddings(BUNDLED, batch_size=4)
    want = expected(reference, TEXTS)

    singles = np.array([emb.embed_query(t) for t in TEXTS], dtype=np.float32)
    batched = np.array(emb.embed_documents(TEXTS), dtype=np.float32)

    assert np.abs(singles - want).max() < TOLERANCE
    assert np.abs(batched - want).max() < TOLERANCE


def test_default_routing_matches_on_a_full_ingest_batch(reference: Any) -> None:
    # 64 texts of ~60-200 words: above TORCH_MIN_TOKENS, as a real ingest batch is. Without an
    # exported graph (a plain pip install), ingest runs here.
    rng = np.random.default_rng(7)
    words = (Path(__file__).parents[1] / "corpus" / "nato-iraq-political-dialogue.txt").read_text(
        encoding="utf-8"
    )
    vocab = words.split()
    texts = [" ".join(rng.choice(vocab, size=int(n))) for n in rng.integers(60, 200, size=64)]
    got = np.array(LocalBertEmbeddings(BUNDLED, 64).embed_documents(texts), dtype=np.float32)
    assert np.abs(got - expected(reference, texts)).max() < TOLERANCE


def test_vectors_are_unit_length_384_dims_in_input_order() -> None:
    emb = LocalBertEmbeddings(BUNDLED, batch_size=3)
    vectors = np.array(emb.embed_documents(TEXTS), dtype=np.float64)
    assert vectors.shape == (len(TEXTS), 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    # Internally sorted by length; returned in the caller's order.
    for i in (0, 4, 8):
        assert np.abs(vectors[i] - np.array(emb.embed_query(TEXTS[i]))).max() < TOLERANCE
    assert emb.embed_documents([]) == []
    assert BertEncoder(BUNDLED).encode([]).shape == (0, 384)


def test_the_question_path_imports_neither_sentence_transformers_nor_torch() -> None:
    script = textwrap.dedent(
        """
        import sys
        from docqa.embeddings import load_embedder

        vector = load_embedder().embed_query("Who led the Iraqi delegation?")
        assert len(vector) == 384
        heavy = [m for m in ("sentence_transformers", "transformers", "torch") if m in sys.modules]
        print(heavy)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    assert done.stdout.strip() == "[]"
    assert "Loading weights" not in done.stderr  # no progress bars


def _variant(tmp_path: Path, *, modules: list[dict[str, Any]], pooling: dict[str, Any]) -> Path:
    """A copy of the bundled folder (weights linked, not copied) with other module settings."""
    folder = tmp_path / "model"
    folder.mkdir(parents=True)
    for item in BUNDLED.iterdir():
        if item.is_file() and item.name != "modules.json":
            (folder / item.name).symlink_to(item)
    (folder / "modules.json").write_text(json.dumps(modules), encoding="utf-8")
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps(pooling), encoding="utf-8")
    return folder


MEAN = {"word_embedding_dimension": 384, "pooling_mode_mean_tokens": True}
CLS = {"word_embedding_dimension": 384, "pooling_mode_cls_token": True}


def _modules(*names: str) -> list[dict[str, Any]]:
    paths = {"Transformer": "", "Pooling": "1_Pooling", "Normalize": "2_Normalize", "Dense": "2"}
    return [
        {"idx": i, "name": str(i), "path": paths[n], "type": f"sentence_transformers.models.{n}"}
        for i, n in enumerate(names)
    ]


def test_which_folders_take_the_light_path(tmp_path: Path) -> None:
    assert is_plain_bert_folder(BUNDLED)
    cases = {
        "no-normalize": (_modules("Transformer", "Pooling"), MEAN, True),
        "cls": (_modules("Transformer", "Pooling", "Normalize"), CLS, False),
        "mean+max": (
            _modules("Transformer", "Pooling"),
            {**MEAN, "pooling_mode_max_tokens": True},
            False,
        ),
        "dense": (_modules("Transformer", "Pooling", "Dense", "Normalize"), MEAN, False),
    }
    for name, (modules, pooling, light) in cases.items():
        folder = _variant(tmp_path / name, modules=modules, pooling=pooling)
        assert is_plain_bert_folder(folder) is light, name
    assert not is_plain_bert_folder(tmp_path / "missing")


def test_other_folders_keep_the_general_path(tmp_path: Path, reference: Any) -> None:
    from langchain_huggingface import HuggingFaceEmbeddings

    folder = _variant(tmp_path, modules=_modules("Transformer", "Pooling"), pooling=CLS)
    emb = load_embedder(str(folder), 8)
    assert isinstance(emb, HuggingFaceEmbeddings)
    cls_vector = np.array(emb.embed_query("Who led the Iraqi delegation?"))
    mean_vector = expected(reference, ["Who led the Iraqi delegation?"])[0]
    assert np.abs(cls_vector - mean_vector).max() > 1e-3  # really a different pooling

    # A mean-pooling folder without Normalize still gets unit vectors (as before: the general
    # path normalised too), and the same ones as the bundled model.
    plain = _variant(tmp_path / "plain", modules=_modules("Transformer", "Pooling"), pooling=MEAN)
    light = load_embedder(str(plain), 8)
    assert isinstance(light, LocalBertEmbeddings)
    vector = np.array(light.embed_query("Who led the Iraqi delegation?"))
    assert np.abs(vector - mean_vector).max() < TOLERANCE
