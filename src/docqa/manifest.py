"""The manifest: which file produced which chunks, written atomically.

It lets ``ingest`` skip unchanged files without reading them, and replace or remove exactly
the chunks of a changed or deleted file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from docqa.errors import IndexError_
from docqa.fileio import atomic_write

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
        atomic_write(path, json.dumps(payload))
