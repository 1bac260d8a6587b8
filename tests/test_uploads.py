"""Upload validation (``docqa.uploads``) and the document library (``docqa.library``)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from langchain_core.embeddings import Embeddings

from docqa import DocQA
from docqa.errors import DocQAError
from docqa.library import add_files, list_documents, remove_document
from docqa.settings import Settings
from docqa.uploads import UploadError, check_upload, safe_name, save_upload
from fixtures_documents import make_docx, make_pdf

LIMIT = Settings().max_file_bytes

SMALL = {
    "alpha.txt": "The alpha station monitors glaciers in the northern valley.\n",
    "beta.txt": "The beta laboratory breeds drought-resistant wheat in the south.\n",
}
NEW_TEXT = (
    "The zeta observatory tracks comets from the desert plateau. Its director is Mira Okonkwo.\n"
)


def _docx_bytes(tmp_path: Path) -> bytes:
    return make_docx(
        tmp_path / "d.docx", ["Docx paragraph about otters."], [["a", "b"]]
    ).read_bytes()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("notes.txt", "notes.txt"),
        ("sub/dir/notes.md", "notes.md"),
        ("Report (final)!.pdf", "Report _final_.pdf"),
        ("été.txt", "_t_.txt"),
    ],
)
def test_safe_name_keeps_a_plain_basename(name: str, expected: str) -> None:
    assert safe_name(name) == expected


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.txt", "'..'"),
        ("..\\evil.txt", "'..'"),
        ("/etc/passwd.txt", "absolute"),
        ("C:\\Windows\\x.txt", "absolute"),
        (".hidden.txt", "hidden"),
        ("bad\x07name.txt", "control characters"),
        ("script.exe", "unsupported file type"),
        ("noext", "unsupported file type"),
        ("", "no name"),
    ],
)
def test_safe_name_rejects_tricks(name: str, reason: str) -> None:
    with pytest.raises(UploadError, match=reason):
        safe_name(name)


def test_check_upload_accepts_good_files(tmp_path: Path) -> None:
    assert check_upload("a.txt", b"Plain text.", max_bytes=LIMIT) == "a.txt"
    assert check_upload("a.md", "# Title\n\nÜmlaut text.".encode(), max_bytes=LIMIT) == "a.md"
    assert (
        check_upload("a.html", b"<html><body><p>Hi</p></body></html>", max_bytes=LIMIT) == "a.html"
    )
    assert (
        check_upload("a.pdf", make_pdf(tmp_path / "a.pdf").read_bytes(), max_bytes=LIMIT) == "a.pdf"
    )
    assert check_upload("a.docx", _docx_bytes(tmp_path), max_bytes=LIMIT) == "a.docx"


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary content"),
        ("latin1.txt", "café".encode("latin-1"), "UTF-8"),
        ("text.pdf", b"just some text, not a PDF", "not a PDF"),
        ("text.docx", b"plain text", "not a DOCX"),
        ("empty.txt", b"", "empty"),
    ],
)
def test_check_upload_rejects_wrong_content(name: str, data: bytes, reason: str) -> None:
    with pytest.raises(UploadError, match=reason):
        check_upload(name, data, max_bytes=LIMIT)


def test_check_upload_rejects_zip_without_word_document() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("other.xml", "<x/>")
    with pytest.raises(UploadError, match="word/document.xml"):
        check_upload("fake.docx", buffer.getvalue(), max_bytes=LIMIT)


def test_check_upload_rejects_oversize() -> None:
    with pytest.raises(UploadError, match="too large"):
        check_upload("big.txt", b"a" * 2001, max_bytes=2000)


def test_save_upload_never_overwrites_a_different_file(tmp_path: Path) -> None:
    first, written = save_upload(tmp_path, "a.txt", b"one")
    same, written_again = save_upload(tmp_path, "a.txt", b"one")
    other, _ = save_upload(tmp_path, "a.txt", b"two")
    assert (first, written, same, written_again) == (tmp_path / "a.txt", True, first, False)
    assert other == tmp_path / "a-2.txt"
    assert first.read_bytes() == b"one" and other.read_bytes() == b"two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-2.txt", "a.txt"]  # no temp files


@pytest.fixture(scope="module")
def library_qa(tmp_path_factory: pytest.TempPathFactory, embedder: Embeddings) -> DocQA:
    root = tmp_path_factory.mktemp("library")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in SMALL.items():
        (corpus / name).write_text(text, encoding="utf-8")
    qa = DocQA(corpus_dir=corpus, index_dir=root / "index", embedder=embedder)
    qa.ingest()
    return qa


def _listing(qa: DocQA) -> list[str]:
    return sorted(p.name for p in Path(qa.settings.corpus_dir).iterdir())


@pytest.mark.slow
def test_add_and_remove_round_trip(library_qa: DocQA, tmp_path: Path) -> None:
    qa = library_qa
    upload = tmp_path / "zeta notes.txt"
    upload.write_text(NEW_TEXT, encoding="utf-8")
    result = add_files(qa, [upload])
    assert result.accepted == ["zeta notes.txt"] and result.rejected == []
    assert result.report is not None and result.report.added == ("zeta notes.txt",)
    docs = {d.source: d for d in list_documents(qa)}
    assert set(docs) == {"alpha.txt", "beta.txt", "zeta notes.txt"}
    assert docs["zeta notes.txt"].chunks == 1
    answer = qa.ask("What does the zeta observatory track?")
    assert not answer.abstained
    assert {c.source for c in answer.citations} == {"zeta notes.txt"}

    report = remove_document(qa, "zeta notes.txt")
    assert report.removed == ("zeta notes.txt",)
    assert {d.source for d in list_documents(qa)} == {"alpha.txt", "beta.txt"}
    assert _listing(qa) == ["alpha.txt", "beta.txt"]


@pytest.mark.slow
def test_rejected_upload_changes_nothing(library_qa: DocQA, tmp_path: Path) -> None:
    qa = library_qa
    before_files, before_ids = _listing(qa), qa.store.all_ids()
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02binary")
    (tmp_path / "fake.pdf").write_text("not a pdf", encoding="utf-8")
    (tmp_path / "blank.pdf").write_bytes(make_pdf(tmp_path / "b.pdf", ("",)).read_bytes())
    (tmp_path / "tool.exe").write_bytes(b"MZ")
    paths = [tmp_path / n for n in ("binary.txt", "fake.pdf", "blank.pdf", "tool.exe")]
    result = add_files(
        qa, [*paths, tmp_path / "binary.txt"], names=[*(p.name for p in paths), "../x.txt"]
    )
    assert result.accepted == [] and result.report is None
    reasons = dict(result.rejected)
    assert "binary" in reasons["binary.txt"]
    assert "not a PDF" in reasons["fake.pdf"]
    assert "no extractable text" in reasons["blank.pdf"]
    assert "unsupported" in reasons["tool.exe"]
    assert "'..'" in reasons["../x.txt"]
    assert _listing(qa) == before_files
    assert qa.store.all_ids() == before_ids


@pytest.mark.slow
@pytest.mark.parametrize("source", ["../corpus/alpha.txt", "/etc/passwd", "missing.txt", "", "."])
def test_remove_document_refuses_paths_outside_the_corpus(library_qa: DocQA, source: str) -> None:
    before = _listing(library_qa)
    with pytest.raises(DocQAError):
        remove_document(library_qa, source)
    assert _listing(library_qa) == before
