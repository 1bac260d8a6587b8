"""What lives where inside an index folder: the one module that names those paths.

    <index_dir>/
        chroma/          the embedded Chroma store (absent with a Chroma server)
        manifest.json    which file produced which chunks (``manifest.py``)
        keyword/         the keyword (BM25) cache, derived from the stored chunks (``keyword.py``)
        .lock            held by the one process writing the index (``index.py``)
        users.json       users and roles of the web server (unless ``users_file`` says otherwise)
        audit.jsonl      the audit log of a shared server (``audit.py``)

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
    def leftovers(self) -> tuple[str, ...]:
        """Glob patterns of the temporary files a killed writer can leave behind: an
        atomically written manifest's temporary file, and keyword staging folders."""
        return (".manifest.json.*.tmp", ".manifest-*", ".keyword-*")
