"""Writing files so that a crash never leaves half of one: ``atomic_write``."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

Content = bytes | str | Callable[[BinaryIO], object]


def atomic_write(path: Path, content: Content, *, mode: int = 0o644) -> Path:
    """Write ``content`` to ``path`` so that readers see the old file or the new one, never half.

    The content goes to a temporary file beside ``path``, is flushed to disk, and is renamed over
    ``path`` (a rename within one folder is atomic). An interrupted write leaves no temporary
    file behind, except after a hard kill, whose ``.<name>.*.tmp`` leftovers are harmless.

    Args:
        path: The file to write; its folder is created if missing.
        content: Bytes, text (written as UTF-8), or a function writing to a binary file object
            (e.g. ``lambda fh: figure.savefig(fh, format="png")``).
        mode: Permissions of the new file (a temporary file is private until renamed).

    Returns:
        ``path``.

    Example:
        >>> atomic_write(Path("out/report.json"), json.dumps(data))
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            if isinstance(content, str):
                handle.write(content.encode("utf-8"))
            elif isinstance(content, bytes):
                handle.write(content)
            else:
                content(handle)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file (how shipped and exported model files are checked at load)."""
    import hashlib

    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
