"""Find the files of a corpus folder and extract their text as ``Document`` objects.

Text of ``.txt``/``.md`` files is kept byte-for-byte (decoded), because citations are checked
character-for-character against the file. Every failure to read one file is a ``DocumentError``
whose message says what is wrong, so ingest can skip the file and tell the user why.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from docqa.errors import CorpusError, DocumentError
from docqa.models import Document, SkippedFile

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".jsonl"}
)
MAX_FILE_BYTES = 100 * 1024 * 1024
DOCX_MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
DOCX_MAX_RATIO = 100
# Small parts (styles, settings) can legitimately compress very well; only big ones can hurt.
DOCX_RATIO_MIN_BYTES = 1024 * 1024

_MB = 1024 * 1024
_SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))


@dataclass(frozen=True)
class CorpusFile:
    """A supported file found in the corpus folder.

    Attributes:
        path: Absolute path of the file.
        source: Path relative to the corpus folder, POSIX style (e.g. ``"reports/a.pdf"``).
        sha256: Hex digest of the file's bytes, to detect changes between ingests.
        size: Size in bytes.
    """

    path: Path
    source: str
    sha256: str
    size: int


def scan_corpus(corpus_dir: Path) -> tuple[list[CorpusFile], list[SkippedFile]]:
    """List the supported files of a corpus folder, recursively, sorted by ``source``.

    Hidden files and folders (name starting with ``.``) are ignored silently; unsupported file
    types, symbolic links leaving the folder and unreadable files are returned as skipped.

    Raises:
        CorpusError: If ``corpus_dir`` does not exist or is not a folder.
    """
    if not corpus_dir.exists():
        raise CorpusError(
            f"corpus folder {str(corpus_dir)!r} does not exist; create it and put your documents "
            "there, or pass the right folder"
        )
    if not corpus_dir.is_dir():
        raise CorpusError(f"corpus path {str(corpus_dir)!r} is not a folder; pass a folder")
    root = corpus_dir.resolve()
    files: list[CorpusFile] = []
    skipped: list[SkippedFile] = []
    for path in _walk(root, root, skipped):
        source = path.relative_to(root).as_posix()
        suffix = path.suffix.lower()
        if suffix not in SUPPORTED_SUFFIXES:
            shown = f"'{suffix}'" if suffix else "without an extension"
            reason = f"unsupported file type {shown} (supported: {_SUPPORTED_LIST})"
            skipped.append(SkippedFile(source, reason))
            continue
        try:
            digest, size = _hash_file(path)
        except OSError as exc:
            skipped.append(SkippedFile(source, _os_reason(exc)))
            continue
        files.append(CorpusFile(path=path, source=source, sha256=digest, size=size))
    return sorted(files, key=lambda f: f.source), sorted(skipped, key=lambda s: s.source)


def _walk(folder: Path, root: Path, skipped: list[SkippedFile]) -> Iterator[Path]:
    try:
        entries = sorted(folder.iterdir(), key=lambda p: p.name)
    except OSError as exc:
        skipped.append(SkippedFile(folder.relative_to(root).as_posix(), _os_reason(exc, "folder")))
        return
    for path in entries:
        if path.name.startswith("."):
            continue
        source = path.relative_to(root).as_posix()
        problem = _symlink_problem(path, root) if path.is_symlink() else None
        if problem:
            skipped.append(SkippedFile(source, problem))
        elif path.is_dir():
            yield from _walk(path, root, skipped)
        elif path.is_file():
            yield path
        else:  # FIFOs and sockets would block or fail on read.
            skipped.append(SkippedFile(source, "not a regular file"))


def _symlink_problem(path: Path, root: Path) -> str | None:
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # RuntimeError: symlink loop on Python 3.11
        return "symbolic link loop"
    if not target.is_relative_to(root):
        return f"symbolic link points outside the corpus folder (to {target})"
    if not target.exists():
        return "broken symbolic link"
    if target.is_dir():  # its files are found at their real place; following would duplicate
        return "symbolic link to a folder; not followed"
    return None


def _os_reason(exc: OSError, what: str = "file") -> str:
    return f"cannot read {what}: {exc.strerror or exc}"


def _hash_file(path: Path) -> tuple[str, int]:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest(), handle.tell()


def load_file(file: CorpusFile, *, max_file_bytes: int = MAX_FILE_BYTES) -> list[Document]:
    """Extract the documents of one corpus file: one, or one per valid line of a ``.jsonl``.

    Args:
        file: The file, as found by ``scan_corpus``.
        max_file_bytes: Files larger than this are refused.

    Raises:
        DocumentError: If the file is unreadable, corrupt, too large, or has no text.
    """
    try:
        size = file.path.stat().st_size
        if size > max_file_bytes:
            raise DocumentError(
                f"file is too large ({size:,} bytes; the limit is {max_file_bytes:,})"
            )
        data = file.path.read_bytes()
    except OSError as exc:
        raise DocumentError(_os_reason(exc)) from exc
    if not data:
        raise DocumentError("empty file")
    suffix = file.path.suffix.lower()
    if suffix == ".jsonl":
        return _load_jsonl(file, data)
    if suffix not in _EXTRACTORS:
        raise DocumentError(f"unsupported file type '{suffix}' (supported: {_SUPPORTED_LIST})")
    title, text, pages = _EXTRACTORS[suffix](data, file.path)
    if not text.strip():
        raise DocumentError(
            "empty file (whitespace only)" if suffix in {".txt", ".md"} else "no extractable text"
        )
    return [Document(file.source, title, file.source, text, pages)]


def load_corpus(corpus_dir: Path) -> tuple[list[Document], list[SkippedFile]]:
    """Scan a corpus folder and load every supported file, skipping the ones that fail.

    Raises:
        CorpusError: If ``corpus_dir`` does not exist or is not a folder.
    """
    files, skipped = scan_corpus(corpus_dir)
    documents: list[Document] = []
    for file in files:
        try:
            documents.extend(load_file(file))
        except DocumentError as exc:
            skipped.append(SkippedFile(file.source, str(exc)))
    return documents, sorted(skipped, key=lambda s: s.source)


Extracted = tuple[str, str, tuple[tuple[int, int, int], ...]]


def _stem_title(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip() or path.stem


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise DocumentError("looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError("not valid UTF-8 text; re-save the file as UTF-8") from exc


def _extract_text(data: bytes, path: Path) -> Extracted:
    text = _decode(data)
    is_md = path.suffix.lower() == ".md"
    heading = re.search(r"^#[ \t]+(.+?)[ \t#]*$", text, re.MULTILINE) if is_md else None
    return (heading.group(1).strip() if heading else _stem_title(path)), text, ()


_BLOCK_TAGS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog"}
    | {"div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr"}
    | {"h1", "h2", "h3", "h4", "h5", "h6", "html", "li", "main", "nav", "ol", "p", "pre"}
    | {"section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"}
)
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head"})
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)


class _VisibleText(HTMLParser):
    """Collect an HTML page's visible text as blocks of lines, and its ``<title>``."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[list[str]] = [[""]]
        self.title = ""
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_title = self._in_title or tag == "title"
        self._hidden += tag in _HIDDEN_TAGS
        if tag == "br":
            self.blocks[-1].append("")
        elif tag in _BLOCK_TAGS:
            self.blocks.append([""])

    def handle_endtag(self, tag: str) -> None:
        self._in_title = self._in_title and tag != "title"
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self.blocks.append([""])

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data
        elif not self._hidden:
            self.blocks[-1][-1] += data

    def text(self) -> str:
        blocks = (
            "\n".join(line for line in (" ".join(raw.split()) for raw in block) if line)
            for block in self.blocks
        )
        return "\n\n".join(block for block in blocks if block)


def _extract_html(data: bytes, path: Path) -> Extracted:
    try:
        markup = _decode(data)
    except DocumentError as exc:
        match = _META_CHARSET.search(data[:4096])
        if match is None or b"\x00" in data:
            raise
        charset = match.group(1).decode("ascii")
        try:
            markup = data.decode(codecs.lookup(charset).name)
        except (LookupError, UnicodeDecodeError):
            raise DocumentError(
                f"not valid UTF-8 or {charset} text; re-save the file as UTF-8"
            ) from exc
    parser = _VisibleText()
    parser.feed(markup)
    parser.close()
    return " ".join(parser.title.split()) or _stem_title(path), parser.text(), ()


# A PDF line break inside a sentence (the next line goes on in lower case) is layout, not
# structure; a space of the same length keeps every offset while letting sentences span it.
_SOFT_BREAK = re.compile(r"(?<=[^\s.!?:;])\n(?=[a-z])")


def _unwrap_lines(page_text: str) -> str:
    return _SOFT_BREAK.sub(" ", page_text)


def _extract_pdf(data: bytes, path: Path) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    # pypdf logs a warning per recoverable defect; what matters reaches the user as DocumentError.
    pypdf_logger = logging.getLogger("pypdf")
    level = pypdf_logger.level
    pypdf_logger.setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("PDF is encrypted")
        page_texts = [_unwrap_lines(page.extract_text()) for page in reader.pages]
        title = str((reader.metadata.title if reader.metadata else None) or "")
    except DocumentError:
        raise
    except DependencyError as exc:  # AES needs the optional 'cryptography' package
        raise DocumentError("PDF is encrypted (AES, which needs 'cryptography')") from exc
    except Exception as exc:  # pypdf raises many exception types for damaged files
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
        raise DocumentError(f"corrupt or truncated PDF: {reason}") from exc
    finally:
        pypdf_logger.setLevel(level)
    text, pages = "", []
    for number, page_text in enumerate(page_texts, start=1):
        if page_text.strip():
            text += "\n\n" if text else ""
            pages.append((number, len(text), len(text) + len(page_text)))
            text += page_text
    return title.strip() or _stem_title(path), text, tuple(pages)


def _check_zip(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise DocumentError("not a valid .docx file (it is not a Word zip package)") from exc
    total = sum(member.file_size for member in members)
    if total > DOCX_MAX_UNCOMPRESSED_BYTES:
        raise DocumentError(
            f"refusing a .docx whose contents expand to {total / _MB:.0f} MB "
            f"(limit {DOCX_MAX_UNCOMPRESSED_BYTES / _MB:.0f} MB; zip bomb?)"
        )
    for member in members:
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= DOCX_RATIO_MIN_BYTES and ratio > DOCX_MAX_RATIO:
            raise DocumentError(
                f"refusing a .docx whose contents expand to {ratio:.0f} times their compressed "
                f"size ({member.filename}; zip bomb?)"
            )


def _extract_docx(data: bytes, path: Path) -> Extracted:
    import docx
    from docx.table import Table

    _check_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
        blocks: list[str] = []
        for item in document.iter_inner_content():
            if isinstance(item, Table):
                for row in item.rows:
                    cells = row.cells  # a merged cell repeats once per grid column it spans
                    blocks.extend(
                        c.text
                        for i, c in enumerate(cells)
                        if all(c._tc is not p._tc for p in cells[:i])
                    )
            else:
                blocks.append(item.text)
        title = document.core_properties.title or ""
    except Exception as exc:  # python-docx raises KeyError, ValueError, lxml errors, ...
        raise DocumentError(f"not a valid .docx file ({type(exc).__name__}: {exc})") from exc
    text = "\n\n".join(block.strip() for block in blocks if block.strip())
    return title.strip() or _stem_title(path), text, ()


_EXTRACTORS: dict[str, Callable[[bytes, Path], Extracted]] = {
    ".txt": _extract_text,
    ".md": _extract_text,
    ".html": _extract_html,
    ".htm": _extract_html,
    ".pdf": _extract_pdf,
    ".docx": _extract_docx,
}


def _load_jsonl(file: CorpusFile, data: bytes) -> list[Document]:
    documents: dict[str, Document] = {}
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and other line separators.
    for number, line in enumerate(_decode(data).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            problem = _record_problem(record)
        except json.JSONDecodeError as exc:
            problem = f"invalid JSON ({exc.msg})"
        if problem is None and record["doc_id"] in documents:
            problem = f"duplicate doc_id {record['doc_id']!r} (the first is kept)"
        if problem:
            logger.warning("%s line %d: %s; skipped", file.source, number, problem)
            continue
        doc_id = record["doc_id"]
        title = record.get("title") or doc_id
        documents[doc_id] = Document(doc_id, title, file.source, record["text"])
    if not documents:
        raise DocumentError(
            "no valid records (each line needs a JSON object with string 'doc_id' and 'text')"
        )
    return list(documents.values())


def _record_problem(record: object) -> str | None:
    if not isinstance(record, dict):
        return "not a JSON object"
    for key in ("doc_id", "text"):
        value = record.get(key)
        if not isinstance(value, str):
            return f"'{key}' is missing or not a string"
        if not value.strip():
            return f"'{key}' is empty"
    if not isinstance(record.get("title", ""), str | None):
        return "'title' is not a string"
    return None
