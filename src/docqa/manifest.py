"""The manifest: which file produced which chunks, written atomically.

It lets ``ingest`` skip unchanged files without reading them, and replace or remove exactly
the chunks of a changed or deleted file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from docqa.errors import IndexError_

MANIFEST_VERSION = 1


@dataclass
class FileEntry:
    """What one corpus file contributed to the index."""

    sha256: str
    doc_ids: list[str] = field(default_factory=list)
    chunk_ids: list[str] = field(default_factory=list)
    skipped_reason: str | None = None


@dataclass
class Manifest:
    """Index bookkeeping for one corpus folder."""

    chunking: str = ""
    files: dict[str, FileEntry] = field(default_factory=dict)

    def all_chunk_ids(self) -> set[str]:
        """Every chunk id any file contributed."""
        return {cid for entry in self.files.values() for cid in entry.chunk_ids}

    @classmethod
    def load(cls, path: Path) -> Manifest:
        """Read the manifest; a missing one is empty, an unreadable one is an error to fix."""
        if not path.exists():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if raw.get("version") != MANIFEST_VERSION:
                raise ValueError(f"manifest version {raw.get('version')!r}")
            files = {src: FileEntry(**entry) for src, entry in raw["files"].items()}
            return cls(chunking=str(raw["chunking"]), files=files)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexError_(
                f"The index manifest {path} is unreadable or from an incompatible version "
                f"({exc}). Rebuild the index: `docqa ingest --rebuild`."
            ) from None

    def save(self, path: Path) -> None:
        """Write atomically: readers see the old manifest or the new one, never a torn file."""
        payload = {
            "version": MANIFEST_VERSION,
            "chunking": self.chunking,
            "files": {src: asdict(entry) for src, entry in sorted(self.files.items())},
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle)
                handle.flush()
                os.fsync(handle.fileno())
            Path(tmp).replace(path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


@contextlib.contextmanager
def index_lock(index_dir: Path, wait: bool = True) -> Iterator[None]:
    """Hold an exclusive lock on the index while writing it.

    A second writer waits for the first (``wait=True``) or fails with a clear message.
    """
    index_dir.mkdir(parents=True, exist_ok=True)
    with (index_dir / ".lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise IndexError_(
                    f"Another docqa process is writing the index in {index_dir}. "
                    "Wait for it to finish, then try again."
                ) from None
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
