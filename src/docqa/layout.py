"""What lives where inside an index folder: the one module that names those paths.

    <index_dir>/
        chroma/          the embedded Chroma store (absent with a Chroma server)
        manifest.json    which file produced which chunks (``manifest.py``)
        keyword/         the keyword (BM25) cache, derived from the stored chunks (``keyword.py``)
        .lock            held by the one process writing the index (``index.py``)
        docqa.db         the state database (SQLite, unless ``database_url`` names another)
        users.json       users of an earlier version, imported once into the database
        audit.jsonl      the audit log of an earlier version, imported once into the database
        workspaces/NAME/ a workspace's own index (the same parts as above, but no database),
                         and ``corpus/``, its documents unless it was given a corpus folder

Light on purpose (nothing but ``pathlib``): settings, the audit log and the store all read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IndexPaths:
    """The parts of the index in ``root``."""

    root: Path

    @property
    def chroma(self) -> Path:
        return self.root / "chroma"

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def keyword(self) -> Path:
        return self.root / "keyword"

    @property
    def lock(self) -> Path:
        return self.root / ".lock"

    @property
    def users(self) -> Path:
        return self.root / "users.json"

    @property
    def audit(self) -> Path:
        return self.root / "audit.jsonl"

    @property
    def database(self) -> Path:
        return self.root / "docqa.db"

    @property
    def database_lock(self) -> Path:
        return self.root / ".docqa.db.lock"

    def workspace(self, name: str) -> IndexPaths:
        """The index of workspace ``name`` (``default`` is this index itself)."""
        return self if name == "default" else IndexPaths(self.root / "workspaces" / name)

    @property
    def workspace_corpus(self) -> Path:
        """Where a workspace created without a corpus folder keeps its documents."""
        return self.root / "corpus"

    @property
    def leftovers(self) -> tuple[str, ...]:
        """Glob patterns of the temporary files a killed writer can leave behind: an
        atomically written manifest's temporary file, and keyword staging folders."""
        return (".manifest.json.*.tmp", ".manifest-*", ".keyword-*")
