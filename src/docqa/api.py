"""``DocQA`` and ``ask()``: the one API that the CLI, the UI and the evaluation all call.

A question goes through three stages, each a plain call that a test can make on its own:

1. ``gather`` (``evidence.py``): rewrite a follow-up, embed the question, retrieve, score the
   sentences of the kept chunks -> ``Evidence``;
2. ``decide`` (``abstention.py``): answer or abstain -> ``Decision`` (a code, a message, the
   confidence);
3. the ``Answerer`` (``answerers/``) writes a cited ``Draft``, which ``abstention.review`` checks.

Example:
    >>> from docqa import DocQA
    >>> qa = DocQA(corpus_dir="corpus", index_dir=".docqa")
    >>> report = qa.ingest()
    >>> answer = qa.ask("Who led the Iraqi delegation?")
    >>> answer.text, answer.citations[0].quote
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any

from langchain_core.embeddings import Embeddings

from docqa.abstention import (
    AbstentionModel,
    Decision,
    decide,
    default_model,
    reader_model,
    review,
)
from docqa.answerers import Answerer, Draft, make_answerer
from docqa.conversation import History
from docqa.embeddings import load_embedder, model_identity
from docqa.entities import Tagger, load_tagger
from docqa.evidence import (
    Evidence,
    EvidenceGatherer,
    ReadFunction,
    check_history,
    clean_question,
    closest_citations,
)
from docqa.features import IdfFunction
from docqa.index import Index
from docqa.keyword import KeywordIndex
from docqa.models import ABSTENTION_TEXT, Answer, IngestReport, RetrievedChunk
from docqa.progress import ProgressCallback
from docqa.retrieval import HybridRetriever
from docqa.settings import Settings, load_settings
from docqa.store import ChunkStore

if TYPE_CHECKING:
    # Type-only: importing langchain_core.language_models costs ~0.4 s of every `docqa ask`.
    from langchain_core.language_models import BaseChatModel

    from docqa.langchain_retriever import DocQARetriever


class DocQA:
    """Question answering over one corpus folder and its index.

    Args:
        settings: A full ``Settings``; keyword ``overrides`` are applied on top of it (or of the
            environment when ``settings`` is None), e.g. ``DocQA(corpus_dir="docs", top_k=8)``.
        embedder: Any LangChain ``Embeddings`` (default: the bundled all-MiniLM-L6-v2).
        chroma_client: A ready Chroma client (default: an embedded ``PersistentClient``).
        abstention_model: Overrides the calibrated abstention model.
        chat_model: Any LangChain chat model for ``answerer="llm"`` (default: from settings).
        answerer: A built-in answerer's name (``"extractive"``, ``"llm"``: the ``answerer``
            setting) or any ``Answerer`` object (default: the one the settings name).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        embedder: Embeddings | None = None,
        chroma_client: Any | None = None,
        abstention_model: AbstentionModel | None = None,
        chat_model: BaseChatModel | None = None,
        answerer: Answerer | str | None = None,
        tagger: Tagger | None = None,
        **overrides: Any,
    ) -> None:
        if isinstance(answerer, str):
            overrides["answerer"], answerer = answerer, None
        if settings is not None and overrides:
            settings = load_settings(**{**settings.model_dump(), **overrides})
        self.settings = settings or load_settings(**overrides)
        self._embedder = embedder
        # An injected embedder is recorded as "custom": the index must not mix it with others.
        self._model_identity = (
            model_identity(self.settings.embedding_model) if embedder is None else "custom"
        )
        self._abstention = abstention_model
        self._chat_model = chat_model
        self._answerer = answerer
        self._tagger = tagger
        s = self.settings
        self.index = Index(
            s.index_dir,
            s.collection,
            self._model_identity,
            chroma_url=s.chroma_url,
            chroma_client=chroma_client,
        )
        if answerer is None and self.settings.answerer == "reader" and self.settings.reader_torch:
            from docqa.reader.reading import preload_reader

            preload_reader()

    def sibling(self, settings: Settings) -> DocQA:
        """Another corpus and index (``settings``), sharing this instance's models: a
        workspace of a server loads the embedding model and the answerer once."""
        custom = self._model_identity == "custom"
        other = DocQA(
            settings,
            embedder=self._embedder if custom else None,
            abstention_model=self._abstention,
            chat_model=self._chat_model,
            answerer=self._answerer,
            tagger=self._tagger,
        )
        if not custom and settings.embedding_model == self.settings.embedding_model:
            other._embedder = self.embedder  # loaded once, shared
        return other

    # ---- components, built on first use --------------------------------------------------
    @property
    def embedder(self) -> Embeddings:
        """The embedding model (loaded on first use: a second or so)."""
        if self._embedder is None:
            s = self.settings
            self._embedder = load_embedder(s.embedding_model, s.embedding_batch_size)
        return self._embedder

    @property
    def tagger(self) -> Tagger:
        """The named-entity tagger ingest runs (loaded on first use: a second or two)."""
        if self._tagger is None:
            self._tagger = load_tagger()
        return self._tagger

    @property
    def store(self) -> ChunkStore:
        """The Chroma-backed chunk store (``index.store``)."""
        return self.index.store

    @property
    def chat_model(self) -> BaseChatModel:
        """The chat model of the ``llm`` answerer (built from settings on first use)."""
        if self._chat_model is None:
            from docqa.llm import load_chat_model

            self._chat_model = load_chat_model(self.settings)
        return self._chat_model

    @property
    def abstention(self) -> AbstentionModel:
        """The model deciding whether to answer (the reader's own when the reader reads)."""
        if self._abstention is not None:
            return self._abstention
        return reader_model() if self.uses_reader else default_model()

    @property
    def uses_reader(self) -> bool:
        """Whether questions are read by docqa's trained reader (the ``reader`` answerer)."""
        return self.answerer.name == "reader"

    def reader(self) -> ReadFunction:
        """The shipped reader's ``read`` (loaded on first use): its exported graph, or else torch
        or NumPy as ``reader_torch`` says."""
        from functools import partial

        from docqa.reader.reading import load_reader

        return partial(load_reader().read, use_torch=self.settings.reader_torch)

    @cached_property
    def answerer(self) -> Answerer:
        """The answerer of stage 3 (``settings.answerer`` unless one was injected)."""
        if self._answerer is not None:
            return self._answerer
        return make_answerer(
            self.settings,
            embedder=lambda: self.embedder,
            chat_model=lambda: self.chat_model,
            reader=self.reader,
        )

    def keyword_index(self) -> KeywordIndex:
        """The current keyword (BM25) index, rebuilt from the store when it is stale."""
        return self.index.keyword()

    def _idf(self) -> IdfFunction:
        return self.keyword_index().idf

    @cached_property
    def hybrid(self) -> HybridRetriever:
        """The retriever behind ``ask`` and ``retriever``."""
        s = self.settings
        return HybridRetriever(
            store=self.index.store,
            keyword_index=self.keyword_index,
            mode=s.retrieval_mode,
            method=s.fusion,
            candidates=s.candidates,
            dense_weight=s.dense_weight,
            rrf_k=s.rrf_k,
        )

    @cached_property
    def gatherer(self) -> EvidenceGatherer:
        """Stage 1: rewrite, search and score (see ``evidence.py``)."""
        s = self.settings
        return EvidenceGatherer(
            embed_query=lambda text: self.embedder.embed_query(text),
            retrieve=self.hybrid.retrieve,
            read_vectors=self.index.store.read_vectors,
            keyword_idf=self._idf,
            top_k=s.top_k,
            history_turns=s.history_turns,
            # The reader is loaded with the first question that needs it, not at start-up.
            read=(lambda q, texts: self.reader()(q, texts)) if self.uses_reader else None,
            read_sentences=s.read_sentences,
            expand=lambda question: self.keyword_index().expand_acronyms(question),
        )

    @property
    def retriever(self) -> DocQARetriever:
        """A LangChain ``BaseRetriever`` over the same retrieval as ``ask`` (``retrieve``)."""
        from docqa.langchain_retriever import DocQARetriever

        return DocQARetriever(retrieve=self.retrieve, k=self.settings.top_k)

    # ---- the index -----------------------------------------------------------------------
    def ingest(
        self,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
        *,
        rebuild: bool = False,
    ) -> IngestReport:
        """Sync the index with the corpus folder (incremental) and report what changed.

        With ``rebuild`` the index is emptied first (under the same lock, so no other writer
        ever sees it half gone) and built anew: the fix for an index from an incompatible
        version.
        """
        s = self.settings
        report = self.index.sync(
            s.corpus_dir,
            self.embedder,
            self.tagger,
            chunk_chars=s.chunk_chars,
            overlap=s.chunk_overlap_sentences,
            batch_size=s.embedding_batch_size,
            max_file_bytes=s.max_file_bytes,
            progress=progress,
            on_progress=on_progress,
            rebuild=rebuild,
        )
        if rebuild:  # the stages built on the dropped store must not outlive it
            for name in ("hybrid", "gatherer"):
                self.__dict__.pop(name, None)
        return report

    def is_indexed(self) -> bool:
        """Whether an index has been built for this corpus.

        Raises:
            IndexError_: when the index exists but was built by an incompatible version.
        """
        return self.index.is_built()

    def _ensure_index(self) -> None:
        if not self.is_indexed():
            self.ingest()

    # ---- the question path ---------------------------------------------------------------
    def check_question(self, question: str) -> str:
        """The question cleaned of control characters, or a ``QuestionError`` saying why not."""
        return clean_question(question, self.settings.max_question_chars)

    def retrieve(self, question: str, history: History = ()) -> list[RetrievedChunk]:
        """The chunks ``ask`` would answer from, best first (stage 1 without the scoring)."""
        cleaned = self.check_question(question)
        history = check_history(history, self.settings.max_history_turns)
        self._ensure_index()
        query, _ = self.gatherer.rewrite(cleaned, history)
        return list(self.gatherer.search(query).retrieved)

    def gather(self, question: str, history: History = ()) -> Evidence:
        """Stage 1: the evidence for ``question`` (builds the index first if there is none)."""
        cleaned = self.check_question(question)
        history = check_history(history, self.settings.max_history_turns)
        self._ensure_index()
        return self.gatherer.gather(cleaned, history)

    def decide(self, evidence: Evidence) -> Decision:
        """Stage 2: answer or abstain, with the calibrated model and ``abstain_threshold``."""
        return decide(evidence, self.abstention, self.settings.abstain_threshold)

    def ask(self, question: str, history: History = ()) -> Answer:
        """Answer ``question`` from the documents, citing every sentence, or abstain.

        Args:
            question: The question.
            history: Earlier ``(question, answer)`` turns, oldest first; used to resolve
                follow-ups such as "What did he emphasize?".

        Raises:
            QuestionError: (also a ``ValueError``) for an empty or over-long question.
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
        final ``Answer`` holds only the sentences the grounding guard verified. An answerer that
        writes all at once (and every abstention) streams the final text once.
        """
        started = time.perf_counter()
        evidence = self.gather(question, history)
        t0 = time.perf_counter()
        decision = self.decide(evidence)
        draft: Draft | None = None
        streamed = False
        if decision.answers:
            for item in self.answerer.stream(evidence):
                if isinstance(item, Draft):
                    draft = item
                else:
                    streamed = True
                    yield item
            decision = review(decision, evidence, draft.citations if draft else ())
        finished = time.perf_counter()
        answer = Answer(
            question=question,
            text=draft.text if draft is not None and decision.answers else ABSTENTION_TEXT,
            citations=draft.citations if draft is not None and decision.answers else (),
            abstained=not decision.answers,
            confidence=round(decision.confidence, 4),
            standalone_question=evidence.query,
            timings={
                **evidence.timings,
                "answer": finished - t0,
                "total": finished - started,
            },
            retrieved=evidence.retrieved,
            abstention_reason=decision.reason,
            dropped=draft.dropped if draft is not None else (),
            answerer=self.answerer.name,
            closest=()
            if decision.answers
            else closest_citations(evidence, self.settings.closest_passages),
        )
        if not streamed:
            yield answer.text
        yield answer


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
