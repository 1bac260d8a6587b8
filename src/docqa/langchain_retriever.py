"""docqa's hybrid retrieval as a LangChain ``BaseRetriever``, to drop into LangChain code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document as LCDocument
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

if TYPE_CHECKING:
    from docqa.api import DocQA


class DocQARetriever(BaseRetriever):
    """Returns the best chunks as LangChain ``Document``s with offsets in their metadata.

    Example:
        >>> docs = DocQA().retriever.invoke("Who is Tom Goffus?")
        >>> docs[0].metadata["source"], docs[0].metadata["start"]
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    qa: Any
    k: int = 5

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[LCDocument]:
        qa: DocQA = self.qa
        hits = qa.retrieve(query)[: self.k]
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
