"""The audit log of a shared server: one JSON line per upload, delete and user change.

``<index_dir>/audit.jsonl``, appended to and never rewritten: each line is written with one
``write`` call on a file opened for appending, which POSIX keeps whole even when several
processes log at once.

Example:
    >>> record(Path(".docqa"), "ana", "upload", "memo.md", "added")
    >>> latest(Path(".docqa"), 5)[-1]["action"]
    'upload'
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from docqa.layout import IndexPaths


def audit_path(index_dir: Path) -> Path:
    """Where the audit log of the index in ``index_dir`` lives."""
    return IndexPaths(index_dir).audit


def record(
    index_dir: Path, user: str | None, action: str, file: str | None, outcome: str
) -> dict[str, Any]:
    """Append one entry (time in UTC, user, action, file, outcome) and return it."""
    entry = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user or "-",
        "action": action,
        "file": file,
        "outcome": outcome,
    }
    path = audit_path(index_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)
    return entry


def latest(index_dir: Path, count: int = 20) -> list[dict[str, Any]]:
    """The last ``count`` entries, oldest first (a damaged line is skipped, not fatal)."""
    path = audit_path(index_dir)
    if not path.is_file():
        return []
    entries: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines()[-count:]:
        try:
            entries.append(dict(json.loads(line)))
        except ValueError:
            continue
    return entries
