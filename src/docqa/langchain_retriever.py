"""docqa's hybrid retrieval as a LangChain ``BaseRetriever``, to drop into LangChain code."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever

from docqa.models import RetrievedChunk


class DocQARetriever(BaseRetriever):
    """Returns the best chunks as LangChain ``Document``s with offsets in their metadata.

    It calls the same retrieval as ``DocQA.ask`` (``DocQA.retrieve``): question checked,
    follow-up rewriting, hybrid search.

    Example:
        >>> docs = DocQA().retriever.invoke("Who is Tom Goffus?")
        >>> docs[0].metadata["source"], docs[0].metadata["start"]
    """

    retrieve: Callable[[str], Sequence[RetrievedChunk]]
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        hits = self.retrieve(query)[: self.k]
        return [
            LCDocument(
                id=hit.chunk.chunk_id,
                page_content=hit.chunk.text,
                metadata={
                    "chunk_id": hit.chunk.chunk_id,
                    "doc_id": hit.chunk.doc_id,
                    "source": hit.chunk.source,
                    "title": hit.chunk.title,
                    "start": hit.chunk.start,
                    "end": hit.chunk.end,
                    "page": hit.chunk.page,
                    "score": hit.score,
                },
            )
            for hit in hits
        ]
