"""The documents of a ``DocQA`` corpus: list them, add uploaded files, remove one.

Every change goes through the corpus folder and an incremental ``qa.ingest()``, so the index
always mirrors the folder. A refused upload changes neither.

Example:
    >>> result = add_files(qa, [Path("/tmp/upload/notes.txt")])
    >>> result.accepted, result.rejected
    >>> [d.source for d in list_documents(qa)]
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from docqa.api import DocQA
from docqa.documents import SUPPORTED_SUFFIXES, CorpusFile, load_file
from docqa.errors import DocQAError, DocumentError
from docqa.layout import IndexPaths
from docqa.models import IngestReport
from docqa.progress import ProgressCallback
from docqa.settings import Settings
from docqa.store import connect
from docqa.uploads import UploadError, check_upload, read_upload
from docqa.uploads import save_upload as _save


@dataclass(frozen=True)
class DocumentInfo:
    """One indexed file: its path in the corpus folder, its title and its number of chunks."""

    source: str
    title: str
    chunks: int


@dataclass(frozen=True)
class AddResult:
    """What ``add_files`` did.

    Attributes:
        accepted: Corpus file names (sources) that were saved, or already present identically.
        rejected: ``(uploaded name, reason)`` for each refused file.
        report: The ingest report, or None when nothing was accepted (no ingest ran).
    """

    accepted: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    report: IngestReport | None = None


def list_documents(qa: DocQA) -> list[DocumentInfo]:
    """The indexed files of ``qa``'s corpus, sorted by source, with their chunk counts."""
    counts: Counter[str] = Counter()
    titles: dict[str, str] = {}
    for chunk in qa.store.all_chunks():
        counts[chunk.source] += 1
        titles.setdefault(chunk.source, chunk.title)
    return [DocumentInfo(s, titles[s], counts[s]) for s in sorted(counts)]


def _trial_load(name: str, data: bytes) -> None:
    """Extract the file as ingest would (from a private copy), refusing what ingest would skip."""
    with tempfile.TemporaryDirectory(prefix="docqa-upload-") as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            documents = load_file(CorpusFile(path=path, source=name, sha256="", size=len(data)))
        except DocumentError as exc:
            raise UploadError(f"{exc}; check that the file opens and holds text") from None
    if not documents:
        raise UploadError("no valid records in the file; check its content")


def add_files(
    qa: DocQA,
    paths: Sequence[Path | str],
    *,
    names: Sequence[str] | None = None,
    max_bytes: int | None = None,
    on_progress: ProgressCallback | None = None,
) -> AddResult:
    """Validate uploaded files, save the good ones into the corpus folder and index them.

    Args:
        qa: The corpus and index to add to.
        paths: Where the uploaded files are now (e.g. Gradio's upload cache).
        names: The names the user gave the files (default: each path's file name).
        max_bytes: Size limit of one file (default: the ``max_file_mb`` setting).
        on_progress: ``(done, total)`` callback during embedding.

    Returns:
        Accepted names, rejected ``(name, reason)`` pairs and the ingest report.
    """
    given = list(names) if names is not None else [Path(p).name for p in paths]
    if len(given) != len(paths):
        raise ValueError("names must have one entry per path")
    result = AddResult()
    limit = qa.settings.max_file_bytes if max_bytes is None else max_bytes
    staged: list[tuple[str, bytes]] = []
    for path, name in zip(paths, given, strict=True):
        try:
            data = read_upload(Path(path), max_bytes=limit)
            safe = check_upload(name, data, max_bytes=limit)
            _trial_load(safe, data)
        except UploadError as exc:
            result.rejected.append((name, str(exc)))
            continue
        staged.append((safe, data))
    corpus = Path(qa.settings.corpus_dir)
    saved: list[Path] = []
    for safe, data in staged:
        target, _written = _save(corpus, safe, data)
        saved.append(target)
        result.accepted.append(target.name)
    if not staged:
        return result
    report = qa.ingest(on_progress=on_progress)
    skipped = {s.source: s.reason for s in report.skipped}
    for target in saved:
        if target.name in skipped:  # extraction passed the trial but ingest still refused it
            target.unlink(missing_ok=True)
            result.accepted.remove(target.name)
            result.rejected.append((target.name, skipped[target.name]))
    return AddResult(result.accepted, result.rejected, report)


def resolve_source(qa: DocQA, source: str) -> Path:
    """The path of corpus file ``source``, refusing anything outside the corpus folder.

    Raises:
        DocQAError: when ``source`` is absolute, contains ``..``, leaves the folder, or is not
            an existing supported file.
    """
    root = Path(qa.settings.corpus_dir).resolve()
    rel = PurePosixPath(source)
    if not source or rel.is_absolute() or ".." in rel.parts or "\\" in source:
        raise DocQAError(f"{source!r} is not a document of the corpus; pick one from the list")
    path = (root / rel).resolve()
    if not path.is_relative_to(root) or path == root:
        raise DocQAError(f"{source!r} is outside the corpus folder; pick one from the list")
    if not path.is_file() or path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise DocQAError(f"{source!r} is not a file of the corpus; refresh the document list")
    return path


def remove_document(
    qa: DocQA, source: str, on_progress: ProgressCallback | None = None
) -> IngestReport:
    """Delete corpus file ``source`` and re-ingest so that its chunks leave the index.

    Raises:
        DocQAError: when ``source`` is not a file inside the corpus folder.
    """
    resolve_source(qa, source).unlink()
    return qa.ingest(on_progress=on_progress)


def remove_workspace_index(settings: Settings) -> tuple[list[Path], list[Path]]:
    """Delete a workspace's index: its Chroma collections (dropped through a client, under the
    index lock, so that a shared Chroma server loses them too) and its index folder, with the
    uploaded documents in it. A corpus folder outside the index folder is left in place.

    ``settings`` are one workspace's (``workspaces.workspace_settings``); the main index is
    refused, since its folder holds the state database and every other workspace.

    Returns:
        ``(deleted, kept)``: the folders deleted, and the corpus folder kept (if any).

    Raises:
        DocQAError: ``settings`` are not a workspace's, or its corpus folder lies inside its
            index folder without being the uploads folder (nothing is deleted then).
    """
    paths = IndexPaths(settings.index_dir)
    root = paths.root.resolve()
    holds_workspaces = paths.workspace("any").root.parent.exists()  # the main index does
    if paths.database.exists() or holds_workspaces:
        raise DocQAError(
            f"{root} holds the state database or other workspaces, so it is not one "
            "workspace's index; nothing was deleted. Pass that workspace's settings."
        )
    corpus = Path(settings.corpus_dir).resolve()
    uploads = paths.workspace_corpus.resolve()
    if corpus != uploads and corpus.is_relative_to(root):
        raise DocQAError(
            f"The corpus folder {corpus} lies inside the index folder {root}; move it out "
            "first, then remove the workspace again. Nothing was deleted."
        )
    if settings.chroma_url or paths.chroma.exists():
        try:
            client = connect(root, settings.chroma_url)
        except Exception:  # an unreadable embedded store: deleting its folder removes it
            if settings.chroma_url:
                raise
            client = None
        if client is not None:
            # The extractive answerer: clearing an index must not load the reader's model.
            index = DocQA(settings, chroma_client=client, answerer="extractive").index
            with index.lock():
                index.clear()
            # Closed, so that a workspace created again under this name gets a fresh store.
            getattr(client, "close", lambda: None)()
    deleted = [p for p in (root, uploads) if p.exists()]
    if root.exists():
        shutil.rmtree(root)
    kept = [corpus] if corpus != uploads and corpus.exists() else []
    return deleted, kept
