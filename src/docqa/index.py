"""``Index``: everything under one index folder, owned in one place.

Its layout (``layout.IndexPaths``), the lock its one writer holds, the Chroma store, the
manifest, the keyword cache (with the one check of whether it is still fresh), syncing it with a
corpus folder, and clearing it. ``DocQA`` holds an ``Index`` and asks it; nothing else opens
these files.

Example:
    >>> index = Index(Path(".docqa"), "docqa", model_identity("bundled:all-MiniLM-L6-v2"))
    >>> with index.lock():
    ...     report = index.sync(Path("corpus"), embedder, tagger, chunk_chars=1000, overlap=1,
    ...                         batch_size=64, max_file_bytes=20 * 1024 * 1024)
    >>> index.keyword().search("delegation", 5)
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from langchain_core.embeddings import Embeddings

from docqa.entities import Tagger
from docqa.errors import IndexError_
from docqa.ingest import rebuild_keyword_index, sync_corpus
from docqa.keyword import KeywordIndex
from docqa.layout import IndexPaths
from docqa.manifest import Manifest
from docqa.models import IngestReport
from docqa.progress import ProgressCallback
from docqa.store import ChunkStore, connect, drop_collections

log = logging.getLogger(__name__)

WAITING_MESSAGE = "another docqa process is writing the index in %s; waiting for it to finish"
GENERATION_CHECK_SECONDS = 1.0
"""How often a reader looks whether another instance changed a shared store (a metadata read)."""


@contextlib.contextmanager
def index_lock(index_dir: Path, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on the index while writing it (a ``filelock`` lock file).

    A second writer, in this process or another, waits for the first (``wait=True``) or fails
    with a clear message. The operating system releases the lock when a process dies.
    """
    paths = IndexPaths(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    lock = FileLock(paths.lock)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if not wait:
            raise IndexError_(
                f"Another docqa process is writing the index in {index_dir}. "
                "Wait for it to finish, then try again."
            ) from None
        log.warning(WAITING_MESSAGE, index_dir)
        lock.acquire(timeout=-1)
    try:
        yield
    finally:
        lock.release()


class Index:
    """One index folder (or one collection of a shared Chroma server, with ``chroma_url``).

    Args:
        root: The index folder.
        collection: The Chroma collection's name.
        model_identity: The embedding model's identity, recorded in the store.
        chroma_url: A Chroma server shared by several docqa instances (None: embedded).
        chroma_client: A ready Chroma client (overrides ``chroma_url``).
    """

    def __init__(
        self,
        root: Path,
        collection: str,
        model_identity: str,
        *,
        chroma_url: str | None = None,
        chroma_client: Any | None = None,
    ) -> None:
        self.paths = IndexPaths(root)
        self.collection = collection
        self.model_identity = model_identity
        self.chroma_url = chroma_url
        self._client = chroma_client
        self._store: ChunkStore | None = None
        self._keyword: KeywordIndex | None = None
        self._verified = False
        self._checked_generation = time.monotonic()
        self._keyword_lock = threading.Lock()  # concurrent questions rebuild the cache once

    @property
    def store(self) -> ChunkStore:
        """The Chroma-backed chunk store (opened on first use)."""
        if self._store is None:
            client = self._client or connect(self.paths.root, self.chroma_url)
            self._store = ChunkStore(
                self.paths.root, self.collection, self.model_identity, client=client
            )
        return self._store

    def lock(self, wait: bool = True) -> contextlib.AbstractContextManager[None]:
        """The writer's lock (see ``index_lock``)."""
        return index_lock(self.paths.root, wait)

    def keyword(self) -> KeywordIndex:
        """The current keyword (BM25) index, rebuilt from the store when it is stale."""
        # Another instance may ingest into the same store: look at its generation token now and
        # then (a cheap metadata read) and rebuild the derived keyword cache when it moved.
        with self._keyword_lock:
            now = time.monotonic()
            if now - self._checked_generation > GENERATION_CHECK_SECONDS:
                self.store.refresh()
                self._checked_generation = now
            generation = self.store.generation
            if self._keyword is None or self._keyword.generation != generation:
                loaded = KeywordIndex.load(self.paths.keyword)
                if loaded is None or loaded.generation != generation:
                    loaded = rebuild_keyword_index(self.store, self.paths, generation)
                self._keyword = loaded
            return self._keyword

    def sync(
        self,
        corpus_dir: Path,
        embedder: Embeddings,
        tagger: Tagger,
        *,
        chunk_chars: int,
        overlap: int,
        batch_size: int,
        max_file_bytes: int,
        progress: bool = False,
        on_progress: ProgressCallback | None = None,
        rebuild: bool = False,
    ) -> IngestReport:
        """Bring the index in line with ``corpus_dir`` (incremental) under the writer's lock.

        With ``rebuild`` the index is emptied first, under the same lock, so no other writer
        ever sees it half gone: the fix for an index from an incompatible version.
        """
        with self.lock():
            if rebuild:
                self.clear()
            report, keyword = sync_corpus(
                corpus_dir,
                self.paths,
                self.store,  # opened under the lock: Chroma's first-time set-up must not race
                embedder,
                tagger,
                chunk_chars=chunk_chars,
                overlap=overlap,
                batch_size=batch_size,
                max_file_bytes=max_file_bytes,
                progress=progress,
                on_progress=on_progress,
            )
        self._keyword = keyword
        return report

    def clear(self) -> None:
        """Empty the index: both Chroma collections, the manifest and the keyword cache.

        The caller holds the lock. Collections are dropped through the client (an embedded
        store's files may be open in this process); only a store that cannot even be opened is
        deleted from disk.
        """
        self._store = None
        self._keyword = None
        self._verified = False
        try:
            client = self._client or connect(self.paths.root, self.chroma_url)
        except Exception:  # an unreadable embedded store: nothing in it is worth keeping
            if self.chroma_url or self._client is not None:
                raise
            shutil.rmtree(self.paths.chroma, ignore_errors=True)
            client = connect(self.paths.root)
        drop_collections(client, self.collection)
        self.paths.manifest.unlink(missing_ok=True)
        shutil.rmtree(self.paths.keyword, ignore_errors=True)

    def is_built(self) -> bool:
        """Whether an index has been built here.

        Raises:
            IndexError_: when the index exists but was built by an incompatible version.
        """
        if self._verified:
            return True
        if not self.paths.manifest.exists():
            # With a shared server, another instance may have built the index: it is there when
            # the collection holds chunks, even though this instance has no manifest.
            self._verified = bool(self.chroma_url) and self.store.count() > 0
            return self._verified
        Manifest.load(self.paths.manifest)  # raises, naming `--rebuild`, when incompatible
        self._verified = True  # read once: the manifest can be large, questions many
        return True
