"""The vector store: chunks and their sentence vectors in Chroma, the source of truth.

Two collections: ``<name>`` holds one record per chunk (text, offsets, sentence spans, chunk
vector); ``<name>-sentences`` holds one vector per sentence of each chunk, computed at ingest so
that answering only ever embeds the question.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from docqa.chunking import sentence_parts
from docqa.entities import decode_entities, encode_entities
from docqa.errors import IndexError_
from docqa.layout import IndexPaths
from docqa.models import Chunk, Span
from docqa.store_cache import (
    EXACT_SEARCH_MAX_CHUNKS,
    ChunkMatrix,
    GenerationCache,
    GenerationValue,
)

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

SCHEMA_VERSION = 1
_BATCH = 1000  # Chroma caps the size of one write; stay well under it.


def _encode_spans(spans: Sequence[Span]) -> str:
    return ";".join(f"{s},{e}" for s, e in spans)


def _decode_spans(value: str) -> tuple[Span, ...]:
    if not value:
        return ()
    pairs = (item.split(",") for item in value.split(";"))
    return tuple((int(s), int(e)) for s, e in pairs)


@dataclass(frozen=True, eq=False)
class PartVectors:
    """The stored vectors of the parts of a chunk's long sentences.

    Attributes:
        vectors: ``(n_parts, dim)`` unit vectors.
        owners: ``(n_parts,)``: the index, in the chunk's ``sentences``, of each part's sentence.
    """

    vectors: np.ndarray
    owners: np.ndarray


def connect(index_dir: Path, chroma_url: str | None = None) -> Any:
    """A Chroma client: embedded (``PersistentClient`` in ``index_dir/chroma``) or, given a URL,
    the HTTP client of a Chroma server shared by many docqa instances.

    Raises:
        IndexError_: when the server cannot be reached, naming the URL to check.
    """
    import chromadb

    settings = chromadb.Settings(anonymized_telemetry=False, allow_reset=False)
    if not chroma_url:
        return chromadb.PersistentClient(path=str(IndexPaths(index_dir).chroma), settings=settings)
    url = urlparse(chroma_url if "://" in chroma_url else f"http://{chroma_url}")
    if not url.hostname:
        raise IndexError_(f"DOCQA_CHROMA_URL={chroma_url!r} is not a URL like http://host:8000.")
    try:
        client = chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=settings,
        )
        client.heartbeat()
    except Exception as exc:  # connection errors come in many types
        raise IndexError_(
            f"Cannot reach the Chroma server at {chroma_url} ({type(exc).__name__}). Start it "
            "(`chroma run --path DIR --port 8000`) or fix DOCQA_CHROMA_URL."
        ) from None
    return client


def drop_collections(client: Any, collection: str) -> None:
    """Delete the chunk and sentence collections named after ``collection``, where they exist."""
    existing = {getattr(c, "name", c) for c in client.list_collections()}
    for name in (collection, f"{collection}-sentences"):
        if name in existing:
            client.delete_collection(name)


def chunk_to_record(chunk: Chunk) -> dict[str, Any]:
    """Chroma metadata for a chunk (Chroma accepts only flat scalar values)."""
    return {
        "doc_id": chunk.doc_id,
        "source": chunk.source,
        "title": chunk.title,
        "start": chunk.start,
        "end": chunk.end,
        "sentences": _encode_spans(chunk.sentences),
        "page": chunk.page if chunk.page is not None else -1,
        **({"entities": encode_entities(chunk.entities)} if chunk.entities is not None else {}),
    }


def chunk_from_record(chunk_id: str, text: str, meta: dict[str, Any]) -> Chunk:
    """Rebuild a ``Chunk`` from what Chroma stored."""
    page = int(meta.get("page", -1))
    return Chunk(
        chunk_id=chunk_id,
        doc_id=str(meta["doc_id"]),
        source=str(meta["source"]),
        title=str(meta["title"]),
        start=int(meta["start"]),
        end=int(meta["end"]),
        text=text,
        sentences=_decode_spans(str(meta["sentences"])),
        page=page if page >= 0 else None,
        entities=decode_entities(str(meta["entities"])) if "entities" in meta else None,
    )


class ChunkStore:
    """Chunks, chunk vectors and sentence vectors in a Chroma database.

    Args:
        index_dir: Folder of the embedded (``PersistentClient``) database.
        collection: Collection name; sentence vectors go to ``<collection>-sentences``.
        model_identity: Recorded in the collection; opening it with another model is refused.
        client: An already-built Chroma client (tests, server mode); overrides ``index_dir``.
        exact_search_max_chunks: Up to this many chunks, ``nearest`` searches every chunk
            vector in memory instead of querying Chroma (``store_cache``).
    """

    def __init__(
        self,
        index_dir: Path,
        collection: str,
        model_identity: str,
        client: Any | None = None,
        exact_search_max_chunks: int = EXACT_SEARCH_MAX_CHUNKS,
    ) -> None:
        if client is None:
            client = connect(index_dir)
        self._client = client
        meta = {"docqa_schema": SCHEMA_VERSION, "docqa_model": model_identity}
        # embedding_function=None: Chroma's default embedder downloads a model; we always
        # hand it vectors ourselves.
        self._chunks = client.get_or_create_collection(
            collection,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=meta,
        )
        # Sentence vectors are only ever fetched by id, never searched: the cheapest HNSW graph
        # makes writing them ~5x faster. (An existing collection keeps its own configuration.)
        self._sentences = client.get_or_create_collection(
            f"{collection}-sentences",
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine", "ef_construction": 8, "max_neighbors": 2}},
            metadata=meta,
        )
        # Answering reads the same few chunks by id again and again (see store_cache).
        self._chunk_cache: GenerationCache[Chunk] = GenerationCache()
        self._vector_cache: GenerationCache[tuple[np.ndarray, PartVectors | None]] = (
            GenerationCache()
        )
        self._matrix: GenerationValue[ChunkMatrix | None] = GenerationValue()
        self._exact_search_max_chunks = exact_search_max_chunks
        stored = self._chunks.metadata or {}
        if stored.get("docqa_schema") != SCHEMA_VERSION:
            raise IndexError_(
                f"The index in {index_dir} was built by an incompatible docqa version "
                f"(schema {stored.get('docqa_schema')!r}, expected {SCHEMA_VERSION}). "
                "Rebuild it: `docqa ingest --rebuild`."
            )
        if stored.get("docqa_model") != model_identity:
            raise IndexError_(
                f"The index in {index_dir} was built with embedding model "
                f"{stored.get('docqa_model')!r}, not {model_identity!r}. "
                "Rebuild it: `docqa ingest --rebuild`, or use another DOCQA_INDEX_DIR."
            )

    # ---- writing -------------------------------------------------------------------------
    def existing_ids(self, chunk_ids: Iterable[str]) -> set[str]:
        """Which of ``chunk_ids`` are already stored."""
        ids = list(dict.fromkeys(chunk_ids))
        found: set[str] = set()
        for i in range(0, len(ids), _BATCH):
            found.update(self._chunks.get(ids=ids[i : i + _BATCH], include=[])["ids"])
        return found

    def add(
        self,
        chunks: Sequence[Chunk],
        chunk_vectors: Sequence[Sequence[float]],
        sentence_vectors: Sequence[Sequence[Sequence[float]]],
        part_vectors: Sequence[Sequence[Sequence[Sequence[float]]]] | None = None,
    ) -> None:
        """Upsert chunks with their vectors. Sentences (and the parts of long sentences, as
        ``<chunk>/<sentence>/<part>``) first, so a chunk never lacks them."""
        self._forget()
        sent_ids: list[str] = []
        sent_vecs: list[Sequence[float]] = []
        sent_meta: list[dict[str, Any]] = []
        parts = part_vectors if part_vectors is not None else [[] for _ in chunks]
        for chunk, vectors, chunk_parts in zip(chunks, sentence_vectors, parts, strict=True):
            for i, vector in enumerate(vectors):
                sent_ids.append(f"{chunk.chunk_id}/{i}")
                sent_vecs.append(vector)
                sent_meta.append({"chunk_id": chunk.chunk_id})
            for i, vectors_of_parts in enumerate(chunk_parts):
                for j, vector in enumerate(vectors_of_parts):
                    sent_ids.append(f"{chunk.chunk_id}/{i}/{j}")
                    sent_vecs.append(vector)
                    sent_meta.append({"chunk_id": chunk.chunk_id})
        for i in range(0, len(sent_ids), _BATCH):
            self._sentences.upsert(
                ids=sent_ids[i : i + _BATCH],
                embeddings=np.asarray(sent_vecs[i : i + _BATCH], dtype=np.float32),
                metadatas=sent_meta[i : i + _BATCH],
            )
        for i in range(0, len(chunks), _BATCH):
            batch = chunks[i : i + _BATCH]
            self._chunks.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=np.asarray(chunk_vectors[i : i + _BATCH], dtype=np.float32),
                documents=[c.text for c in batch],
                metadatas=[chunk_to_record(c) for c in batch],
            )

    def delete(self, chunk_ids: Iterable[str]) -> None:
        """Remove chunks and their sentence vectors. Unknown ids are ignored."""
        self._forget()
        ids = list(chunk_ids)
        for i in range(0, len(ids), _BATCH):
            batch = ids[i : i + _BATCH]
            self._chunks.delete(ids=batch)
            where: Any = {"chunk_id": {"$in": batch}}
            self._sentences.delete(where=where)

    def mark_changed(self) -> str:
        """Record a new generation token so every keyword cache knows to rebuild."""
        self._forget()
        token = uuid.uuid4().hex
        meta = dict(self._chunks.metadata or {})
        meta["docqa_generation"] = token
        self._chunks.modify(metadata=meta)
        return token

    def _forget(self) -> None:
        self._chunk_cache.clear()
        self._vector_cache.clear()
        self._matrix.clear()

    # ---- reading -------------------------------------------------------------------------
    @property
    def generation(self) -> str:
        """Token that changes whenever the stored chunks change."""
        return str((self._chunks.metadata or {}).get("docqa_generation", "empty"))

    def refresh(self) -> None:
        """Re-read collection metadata (another process may have ingested)."""
        self._chunks = self._client.get_collection(self._chunks.name, embedding_function=None)

    def count(self) -> int:
        """Number of chunks stored."""
        return int(self._chunks.count())

    def _every_chunk(self, include: list[str]) -> Iterator[Any]:
        """Every stored chunk's ``include`` fields, one Chroma page of ``_BATCH`` at a time."""
        for offset in range(0, self.count(), _BATCH):
            yield self._chunks.get(include=include, limit=_BATCH, offset=offset)

    def all_ids(self) -> set[str]:
        """Ids of every stored chunk."""
        return {cid for got in self._every_chunk([]) for cid in got["ids"]}

    def all_chunks(self) -> list[Chunk]:
        """Every stored chunk (used to rebuild the keyword index and list documents)."""
        chunks: list[Chunk] = []
        for got in self._every_chunk(["documents", "metadatas"]):
            chunks.extend(
                chunk_from_record(cid, text or "", dict(meta or {}))
                for cid, text, meta in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
                )
            )
        return chunks

    def get(self, chunk_ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunks by id (missing ids are absent from the result)."""
        if not chunk_ids:
            return {}
        generation = self.generation
        found = self._chunk_cache.get_many(generation, chunk_ids)
        missing = [cid for cid in chunk_ids if cid not in found]
        if missing:
            got = self._chunks.get(ids=missing, include=["documents", "metadatas"])
            read = {
                cid: chunk_from_record(cid, text or "", dict(meta or {}))
                for cid, text, meta in zip(
                    got["ids"], got["documents"] or [], got["metadatas"] or [], strict=True
                )
            }
            self._chunk_cache.put_many(generation, read)
            found.update(read)
        return found

    def nearest(self, vector: Sequence[float] | np.ndarray, limit: int) -> list[tuple[str, float]]:
        """Ids of the nearest chunks to ``vector`` with their cosine similarity, best first.

        A small store is searched exactly in memory (``store_cache.ChunkMatrix``); a larger one
        asks Chroma for ids and distances only: the caller fetches the few chunks it keeps
        (``get``), several times cheaper than reading every candidate's text and metadata.
        """
        matrix = self._matrix.get(self.generation, self._read_matrix)
        if matrix is not None:
            return matrix.nearest(vector, limit)
        got = self._chunks.query(
            query_embeddings=np.asarray([vector], dtype=np.float32),
            n_results=limit,  # Chroma returns fewer when the collection holds fewer
            include=["distances"],
        )
        dists = (got["distances"] or [[]])[0]
        return [(cid, 1.0 - float(d)) for cid, d in zip(got["ids"][0], dists, strict=True)]

    def _read_matrix(self) -> ChunkMatrix | None:
        """Every chunk vector, where the store is small enough to search them all exactly."""
        if self.count() > self._exact_search_max_chunks:
            return None
        vectors: dict[str, np.ndarray] = {}
        for got in self._every_chunk(["embeddings"]):
            embeddings: Any = got["embeddings"]
            vectors.update(zip(got["ids"], np.asarray(embeddings, dtype=np.float32), strict=True))
        return ChunkMatrix.of(vectors)

    def chunk_vectors(self, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vector of each chunk (missing ids are absent from the result)."""
        out: dict[str, np.ndarray] = {}
        ids = list(chunk_ids)
        for i in range(0, len(ids), _BATCH):
            got = self._chunks.get(ids=ids[i : i + _BATCH], include=["embeddings"])
            embeddings: Any = got["embeddings"]
            out.update(zip(got["ids"], np.asarray(embeddings, dtype=np.float32), strict=True))
        return out

    def sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """The stored sentence vectors of each chunk, as a ``(n_sentences, dim)`` array."""
        return self.read_vectors(chunks, parts=False)[0]

    def read_vectors(
        self, chunks: Sequence[Chunk], *, parts: bool = True
    ) -> tuple[dict[str, np.ndarray], dict[str, PartVectors]]:
        """Sentence vectors (as ``sentence_vectors``) and, with ``parts``, the vectors of the
        parts of long sentences (``chunking.sentence_parts``), in one read.

        A chunk whose sentence vectors are incomplete is left out of both; one stored without
        part vectors (by an older version) has none. The arrays are read-only (they are cached).
        """
        generation = self.generation
        found = self._vector_cache.get_many(generation, (c.chunk_id for c in chunks))
        missing = [c for c in chunks if c.chunk_id not in found]
        if missing:
            read = self._read_vectors(missing)
            self._vector_cache.put_many(generation, read)
            found.update(read)
        sentences = {c.chunk_id: found[c.chunk_id][0] for c in chunks if c.chunk_id in found}
        found_parts: dict[str, PartVectors] = {}
        if parts:
            for chunk_id in sentences:
                stored = found[chunk_id][1]
                if stored is not None:
                    found_parts[chunk_id] = stored
        return sentences, found_parts

    def _read_vectors(
        self, chunks: Sequence[Chunk]
    ) -> dict[str, tuple[np.ndarray, PartVectors | None]]:
        sentence_ids = {
            c.chunk_id: [f"{c.chunk_id}/{i}" for i in range(len(c.sentences))] for c in chunks
        }
        part_ids = {
            c.chunk_id: [
                (i, f"{c.chunk_id}/{i}/{j}")
                for i, span in enumerate(c.sentences)
                for j in range(len(sentence_parts(c.sentence_text(span))))
            ]
            for c in chunks
        }
        ids = [i for rows in sentence_ids.values() for i in rows]
        ids += [i for rows in part_ids.values() for _, i in rows]
        if not ids:
            return {}
        got = self._sentences.get(ids=ids, include=["embeddings"])
        embeddings: Any = got["embeddings"]
        by_id = dict(zip(got["ids"], embeddings, strict=True))
        out: dict[str, tuple[np.ndarray, PartVectors | None]] = {}
        for c in chunks:
            rows = [by_id.get(i) for i in sentence_ids[c.chunk_id]]
            if not all(row is not None for row in rows):
                continue
            stored = [(owner, by_id[i]) for owner, i in part_ids[c.chunk_id] if i in by_id]
            found_parts = (
                PartVectors(
                    _frozen(np.asarray([v for _, v in stored], dtype=np.float32)),
                    _frozen(np.asarray([owner for owner, _ in stored], dtype=np.int64)),
                )
                if stored
                else None
            )
            out[c.chunk_id] = (_frozen(np.asarray(rows, dtype=np.float32)), found_parts)
        return out


def _frozen(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array
