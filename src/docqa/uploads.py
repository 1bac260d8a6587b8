"""Check uploaded files before they enter the corpus folder, and save them safely.

An upload is accepted only when its name is safe, its size is within the limit and its content
matches its suffix (a ``.pdf`` starts with ``%PDF-``, a ``.docx`` is a zip holding
``word/document.xml``, text formats are UTF-8 without NUL bytes). Saving never overwrites a
different file: a name already taken by other content gets a numeric suffix (``report-2.txt``),
and the same content under the same name is recognised as already present.

Example:
    >>> name = check_upload("notes.txt", b"Plain text.", max_bytes=settings.max_file_bytes)
    >>> save_upload(Path("corpus"), name, b"Plain text.")
"""

from __future__ import annotations

import io
import os
import re
import unicodedata
import uuid
import zipfile
from pathlib import Path, PurePosixPath, PureWindowsPath

from docqa.documents import SUPPORTED_SUFFIXES
from docqa.errors import DocQAError

_TEXT_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm", ".jsonl"})
_UNSAFE_CHARS = re.compile(r"[^A-Za-z0-9._ -]+")
_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))
_MAX_NAME_CHARS = 150


class UploadError(DocQAError):
    """An uploaded file was refused; the message says why and how to fix it."""


def safe_name(name: str) -> str:
    """Turn a client-supplied file name into a safe corpus file name.

    Directories are stripped (``"sub/a.txt"`` becomes ``"a.txt"``); characters outside
    ``[A-Za-z0-9._ -]`` become ``_``.

    Raises:
        UploadError: for an empty, absolute, ``..``-containing, hidden or control-character name,
            or an unsupported suffix.
    """
    if not name or not name.strip():
        raise UploadError("the file has no name; give it a name such as 'notes.txt'")
    if any(unicodedata.category(ch) == "Cc" for ch in name):
        raise UploadError("the file name contains control characters; rename the file")
    posix, windows = PurePosixPath(name), PureWindowsPath(name)
    if (
        posix.is_absolute()
        or windows.is_absolute()
        or windows.drive
        or name.startswith(("/", "\\"))
    ):
        raise UploadError("the file name is an absolute path; upload the file by its name only")
    parts = re.split(r"[\\/]+", name)
    if ".." in parts:
        raise UploadError("the file name contains '..'; rename the file without '..'")
    base = parts[-1].strip()
    if not base:
        raise UploadError("the file name ends with a folder separator; upload a file")
    if base.startswith("."):
        raise UploadError("hidden file names (starting with '.') are not indexed; rename the file")
    cleaned = _UNSAFE_CHARS.sub("_", base).strip(" ")
    suffix = Path(cleaned).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = f"'{suffix}'" if suffix else "no extension"
        raise UploadError(f"unsupported file type ({shown}); upload one of {_SUPPORTED_LIST}")
    stem = Path(cleaned).stem[: _MAX_NAME_CHARS - len(suffix)].rstrip(" .") or "document"
    return stem + suffix


def check_content(name: str, data: bytes) -> None:
    """Check that ``data`` really is a file of the type its name's suffix says.

    Raises:
        UploadError: naming what the content looks like instead.
    """
    suffix = Path(name).suffix.lower()
    if not data:
        raise UploadError("the file is empty; upload a file with text in it")
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise UploadError("not a PDF (it does not start with '%PDF-'); check the file type")
        return
    if suffix == ".docx":
        _check_docx(data)
        return
    if suffix in _TEXT_SUFFIXES:
        if b"\x00" in data:
            raise UploadError(f"binary content in a {suffix} file; upload a text file")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise UploadError(
                f"a {suffix} file must be UTF-8 text; re-save it as UTF-8 and upload it again"
            ) from None
        if suffix in {".html", ".htm"} and text.lstrip().startswith("%PDF-"):
            raise UploadError("this is a PDF named .html; rename it to .pdf")
        return
    raise UploadError(f"unsupported file type '{suffix}'; upload one of {_SUPPORTED_LIST}")


def _check_docx(data: bytes) -> None:
    if not data.startswith(b"PK"):
        raise UploadError("not a DOCX (not a zip archive); save the document as .docx in Word")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UploadError("the DOCX archive is corrupt; re-save the document and retry") from None
    if "word/document.xml" not in names:
        raise UploadError("not a DOCX (no word/document.xml inside); save it as .docx in Word")


def _too_large(size: int, max_bytes: int) -> UploadError:
    return UploadError(
        f"the file is too large ({size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.1f} MB); "
        "split it, or raise the limit (the max_file_mb setting, DOCQA_MAX_FILE_MB)"
    )


def check_upload(name: str, data: bytes, *, max_bytes: int) -> str:
    """Validate one upload (name, size, content) and return its safe file name.

    Raises:
        UploadError: with a one-line reason that says how to fix the file.
    """
    safe = safe_name(name)
    if len(data) > max_bytes:
        raise _too_large(len(data), max_bytes)
    check_content(safe, data)
    return safe


def read_upload(path: Path, *, max_bytes: int) -> bytes:
    """Read an uploaded file, refusing it before reading when it is over ``max_bytes``.

    Raises:
        UploadError: when the file is too large or cannot be read.
    """
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise _too_large(size, max_bytes)
        return path.read_bytes()
    except OSError as exc:
        raise UploadError(
            f"the upload could not be read ({exc.strerror}); upload it again"
        ) from None


def save_upload(corpus_dir: Path, name: str, data: bytes) -> tuple[Path, bool]:
    """Save ``data`` as ``corpus_dir/name`` atomically, never replacing a different file.

    The bytes go to a hidden temporary file (ignored by ingest) that is then hard-linked to its
    final name, which fails instead of overwriting when the name is taken. A taken name gets a
    numeric suffix: ``report.txt``, ``report-2.txt``, ``report-3.txt``...

    Returns:
        The final path, and False when an identical file was already there (nothing written).
    """
    if safe_name(name) != name:
        # The writer checks too, not only its callers: a path never escapes the corpus folder.
        raise UploadError(f"unsafe file name {name!r}; upload the file by its plain name")
    corpus_dir.mkdir(parents=True, exist_ok=True)
    stem, suffix = Path(name).stem, Path(name).suffix
    temp = corpus_dir / f".upload-{uuid.uuid4().hex}{suffix}.part"
    temp.write_bytes(data)
    try:
        for n in range(1, 1000):
            target = corpus_dir / (name if n == 1 else f"{stem}-{n}{suffix}")
            if target.is_file() and target.read_bytes() == data:
                return target, False
            try:
                os.link(temp, target)
            except FileExistsError:
                continue
            return target, True
    finally:
        temp.unlink(missing_ok=True)
    raise UploadError(f"too many files named like {name!r}; rename the file")
