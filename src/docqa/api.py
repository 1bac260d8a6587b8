"""``DocQA`` and ``ask()``: the one API that the CLI, the UI and the evaluation all call.

Example:
    >>> from docqa import DocQA
    >>> qa = DocQA(corpus_dir="corpus", index_dir=".docqa")
    >>> report = qa.ingest()
    >>> answer = qa.ask("Who led the Iraqi delegation?")
    >>> answer.text, answer.citations[0].quote
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from docqa.abstention import (
    AbstentionModel,
    default_model,
    extract_features,
    missing_answer_type,
    unsupported_names,
)
from docqa.answering import ABSTENTION_TEXT, compose_answer, score_sentences, select_sentences
from docqa.conversation import Turn, standalone_question
from docqa.embeddings import load_embedder, model_identity
from docqa.errors import QuestionError
from docqa.generative import compose_verified, stream_generation, verify
from docqa.ingest import IndexPaths, ProgressCallback, rebuild_keyword_index, sync_corpus
from docqa.keyword import KeywordIndex
from docqa.manifest import Manifest, index_lock
from docqa.models import Answer, Citation, DroppedSentence, IngestReport, RetrievedChunk
from docqa.retrieval import HybridRetriever
from docqa.settings import Settings, load_settings
from docqa.store import ChunkStore, connect

if TYPE_CHECKING:
    # Type-only: importing langchain_core.language_models costs ~0.4 s of every `docqa ask`.
    from langchain_core.language_models import BaseChatModel

    from docqa.langchain_retriever import DocQARetriever

History = Sequence[tuple[str, "str | Answer"]]

_GENERATION_CHECK_SECONDS = 1.0


class DocQA:
    """Question answering over one corpus folder and its index.

    Args:
        settings: A full ``Settings``; keyword ``overrides`` are applied on top of it (or of the
            environment when ``settings`` is None), e.g. ``DocQA(corpus_dir="docs", top_k=8)``.
        embedder: Any LangChain ``Embeddings`` (default: the bundled all-MiniLM-L6-v2).
        chroma_client: A ready Chroma client (default: an embedded ``PersistentClient``).
        abstention_model: Overrides the calibrated abstention model.
        chat_model: Any LangChain chat model for ``answerer="llm"`` (default: from settings).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embeddings | None = None,
        chroma_client: Any | None = None,
        abstention_model: AbstentionModel | None = None,
        chat_model: BaseChatModel | None = None,
        **overrides: Any,
    ) -> None:
        if settings is not None and overrides:
            settings = load_settings(**{**settings.model_dump(), **overrides})
        self.settings = settings or load_settings(**overrides)
        self._embedder = embedder
        # An injected embedder is recorded as "custom": the index must not mix it with others.
        self._model_identity = (
            model_identity(self.settings.embedding_model) if embedder is None else "custom"
        )
        self._chroma_client = chroma_client
        self._abstention = abstention_model
        self._chat_model = chat_model
        self._paths = IndexPaths(self.settings.index_dir)
        self._keyword: KeywordIndex | None = None
        self._index_verified = False
        self._checked_generation = time.monotonic()
        self._keyword_lock = threading.Lock()  # concurrent questions rebuild the cache once

    # ---- components, built on first use --------------------------------------------------
    @property
    def embedder(self) -> Embeddings:
        """The embedding model (loaded on first use: a second or so)."""
        if self._embedder is None:
            s = self.settings
            self._embedder = load_embedder(s.embedding_model, s.embedding_batch_size)
        return self._embedder

    @cached_property
    def store(self) -> ChunkStore:
        """The Chroma-backed chunk store."""
        s = self.settings
        client = self._chroma_client or connect(s.index_dir, s.chroma_url)
        return ChunkStore(s.index_dir, s.collection, self._model_identity, client=client)

    @property
    def chat_model(self) -> BaseChatModel:
        """The chat model of the ``llm`` answerer (built from settings on first use)."""
        if self._chat_model is None:
            from docqa.llm import load_chat_model

            self._chat_model = load_chat_model(self.settings)
        return self._chat_model

    @property
    def abstention(self) -> AbstentionModel:
        """The model deciding whether to answer."""
        return self._abstention or default_model()

    def _keyword_index(self) -> KeywordIndex:
        # Another instance may ingest into the same store: look at its generation token now and
        # then (a cheap metadata read) and rebuild the derived keyword cache when it moved.
        with self._keyword_lock:
            now = time.monotonic()
            if now - self._checked_generation > _GENERATION_CHECK_SECONDS:
                self.store.refresh()
                self._checked_generation = now
            generation = self.store.generation
            if self._keyword is None or self._keyword.generation != generation:
                loaded = KeywordIndex.load(self._paths.keyword)
                if loaded is None or loaded.generation != generation:
                    loaded = rebuild_keyword_index(self.store, self._paths, generation)
                self._keyword = loaded
            return self._keyword

    @cached_property
    def hybrid(self) -> HybridRetriever:
        """The retriever behind ``ask`` and ``retriever``."""
        s = self.settings
        return HybridRetriever(
            store=self.store,
            keyword_index=self._keyword_index,
            mode=s.retrieval_mode,
            method=s.fusion,
            candidates=s.candidates,
            dense_weight=s.dense_weight,
            rrf_k=s.rrf_k,
        )

    @property
    def retriever(self) -> DocQARetriever:
        """A LangChain ``BaseRetriever`` over the same hybrid retrieval."""
        from docqa.langchain_retriever import DocQARetriever

        return DocQARetriever(qa=self, k=self.settings.top_k)

    # ---- operations ----------------------------------------------------------------------
    def ingest(
        self,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
    ) -> IngestReport:
        """Sync the index with the corpus folder (incremental) and report what changed."""
        s = self.settings
        with index_lock(self._paths.root):
            report, keyword = sync_corpus(
                s.corpus_dir,
                self._paths,
                self.store,  # opened under the lock: Chroma's first-time set-up must not race
                self.embedder,
                chunk_chars=s.chunk_chars,
                overlap=s.chunk_overlap_sentences,
                batch_size=s.embedding_batch_size,
                max_file_bytes=int(s.max_file_mb * 1024 * 1024),
                progress=progress,
                on_progress=on_progress,
            )
        self._keyword = keyword
        return report

    def is_indexed(self) -> bool:
        """Whether an index has been built for this corpus.

        Raises:
            IndexError_: when the index exists but was built by an incompatible version.
        """
        if self._index_verified:
            return True
        if not self._paths.manifest.exists():
            # With a shared server, another instance may have built the index: it is there when
            # the collection holds chunks, even though this instance has no manifest.
            self._index_verified = bool(self.settings.chroma_url) and self.store.count() > 0
            return self._index_verified
        Manifest.load(self._paths.manifest)  # raises, naming `--rebuild`, when incompatible
        self._index_verified = True  # read once: the manifest can be large, questions many
        return True

    def check_question(self, question: str) -> str:
        """The question cleaned of control characters, or a ``QuestionError`` saying why not."""
        if not isinstance(question, str):
            raise QuestionError("The question must be text (a str).")
        # Control characters carry no meaning here and upset tokenisers and terminals alike.
        cleaned = "".join(
            ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in question
        ).strip()
        if not cleaned:
            raise QuestionError("The question is empty: type a question about your documents.")
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            raise QuestionError(
                f"The question is {len(cleaned):,} characters long; the limit is {limit:,}. "
                "Shorten it, or raise DOCQA_MAX_QUESTION_CHARS."
            )
        return cleaned

    def retrieve(self, question: str, history: History = ()) -> list[RetrievedChunk]:
        """The chunks ``ask`` would answer from, best first."""
        query = standalone_question(self.check_question(question), _turns(history))
        vector = self.embedder.embed_query(query)
        return self.hybrid.retrieve(vector, query, self.settings.top_k)

    def ask(self, question: str, history: History = ()) -> Answer:
        """Answer ``question`` from the documents, citing every sentence, or abstain.

        Args:
            question: The question.
            history: Earlier ``(question, answer)`` turns, oldest first; used to resolve
                follow-ups such as "What did he emphasize?".
        """
        final: Answer | None = None
        for item in self.ask_stream(question, history):
            if isinstance(item, Answer):
                final = item
        assert final is not None  # ask_stream always ends with the Answer
        return final

    def ask_stream(self, question: str, history: History = ()) -> Iterator[str | Answer]:
        """Like ``ask``, but yields text as it is written, then the final ``Answer``.

        With the ``llm`` answerer the streamed text is the model's raw, unverified output; the
        final ``Answer`` holds only the sentences the grounding guard verified.
        """
        started = time.perf_counter()
        cleaned = self.check_question(question)
        if not self.is_indexed():
            self.ingest()
        s = self.settings
        turns = _turns(history)[-s.history_turns :] if s.history_turns else []
        query = standalone_question(cleaned, turns)
        t0 = time.perf_counter()
        vector = self.embedder.embed_query(query)
        t1 = time.perf_counter()
        retrieved = self.hybrid.retrieve(vector, query, s.top_k)
        vectors = self.store.sentence_vectors([r.chunk for r in retrieved])
        t2 = time.perf_counter()
        scored = score_sentences(query, vector, retrieved, vectors)
        features = extract_features(query, retrieved, scored, self._keyword_index().idf)
        model = self.abstention
        confidence = model.probability(features)
        threshold = s.abstain_threshold if s.abstain_threshold is not None else model.threshold
        missing = unsupported_names(query, " ".join(r.chunk.text for r in retrieved))
        reason: str | None = None
        if not scored:
            reason = "no evidence"
        elif missing:
            reason = "not named in the documents: " + ", ".join(missing)
        elif confidence < threshold:
            reason = "low confidence"
        text = ABSTENTION_TEXT
        citations: tuple[Citation, ...] = ()
        dropped: tuple[DroppedSentence, ...] = ()
        if reason is None and s.answerer == "llm":
            sources = [r.chunk for r in retrieved[: s.llm_sources]]
            pieces: list[str] = []
            for piece in stream_generation(self.chat_model, query, sources, turns):
                pieces.append(piece)
                yield piece
            result = verify("".join(pieces), sources, vectors, self.embedder)
            text, citations, dropped = compose_verified(result)
            if not citations:
                reason = "no generated sentence is supported by the documents"
        elif reason is None:
            chosen = select_sentences(
                scored, s.max_answer_sentences, s.sentence_keep_ratio, s.pair_margin
            )
            text, citations = compose_answer(chosen)
        if reason is None:
            lacking = missing_answer_type(query, " ".join(c.quote for c in citations))
            if lacking is not None:
                reason = f"the question asks for {lacking}; the evidence has none"
        if reason is not None:
            text, citations = ABSTENTION_TEXT, ()
        if s.answerer == "extractive":
            yield text
        t3 = time.perf_counter()
        yield Answer(
            question=question,
            text=text,
            citations=citations,
            abstained=reason is not None,
            confidence=round(confidence, 4),
            standalone_question=query,
            timings={
                "embed": t1 - t0,
                "retrieve": t2 - t1,
                "answer": t3 - t2,
                "total": t3 - started,
            },
            retrieved=tuple(retrieved),
            abstention_reason=reason,
            dropped=dropped,
            answerer=s.answerer,
        )


def _turns(history: History) -> list[Turn]:
    turns: list[Turn] = []
    for question, answer in history:
        turns.append((question, answer if isinstance(answer, str) else answer.text))
    return turns


_default: DocQA | None = None


def ask(question: str, history: History = ()) -> Answer:
    """Ask the default corpus (settings from ``DOCQA_*``), building its index if missing.

    Example:
        >>> ask("When was the NATO Mission in Iraq established?").text
    """
    global _default
    if _default is None:
        _default = DocQA()
    return _default.ask(question, history)
