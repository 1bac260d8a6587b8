"""Tests of corpus scanning and text extraction (no model, all files built in tmp_path)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import docx
import pytest

from docqa import documents
from docqa.documents import (
    SUPPORTED_SUFFIXES,
    CorpusFile,
    load_corpus,
    load_file,
    scan_corpus,
)
from docqa.errors import CorpusError, DocumentError
from docqa.models import Document, SkippedFile
from fixtures_documents import (
    PAGE_ONE,
    PAGE_TWO,
    make_docx,
    make_encrypted_pdf,
    make_pdf,
    make_zip_bomb,
    zip_bytes,
)

CLAPNQ_DOCS = Path(__file__).resolve().parents[1] / "eval/data/clapnq/docs.jsonl"


def corpus_file(path: Path, root: Path | None = None) -> CorpusFile:
    """Find ``path`` through ``scan_corpus`` so the tests exercise the real pipeline."""
    files, _ = scan_corpus(root or path.parent)
    matches = [f for f in files if f.path == path.resolve()]
    assert len(matches) == 1, f"{path} not found by scan_corpus"
    return matches[0]


def load_one(path: Path) -> Document:
    docs = load_file(corpus_file(path))
    assert len(docs) == 1
    return docs[0]


def reason_for(path: Path) -> str:
    with pytest.raises(DocumentError) as caught:
        load_file(corpus_file(path))
    return str(caught.value)


# --- good files ---------------------------------------------------------------------------------


def test_txt_keeps_exact_decoded_content_with_crlf(tmp_path: Path) -> None:
    raw = "It’s a café.\r\nSecond line — done.\r\n\r\n  indented\ttab\r\n".encode()
    path = tmp_path / "nato-iraq_political-dialogue.txt"
    path.write_bytes(raw)

    doc = load_one(path)

    assert doc.text == raw.decode("utf-8")
    assert "\r\n" in doc.text
    assert doc.doc_id == doc.source == "nato-iraq_political-dialogue.txt"
    assert doc.title == "nato iraq political dialogue"
    assert doc.pages == ()
    assert doc.page_at(0) is None


def test_txt_strips_only_a_leading_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.txt"
    path.write_bytes(b"\xef\xbb\xbf  Hello\n")
    assert load_one(path).text == "  Hello\n"


def test_md_title_is_first_level_one_heading(tmp_path: Path) -> None:
    content = "Intro line\n\n## Not this\n\n# Harvest Report #\n\nBody text.\n"
    path = tmp_path / "sub" / "harvest_2024.md"
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8", newline="")

    doc = load_file(corpus_file(path, tmp_path))[0]

    assert doc.title == "Harvest Report"
    assert doc.text == content
    assert doc.doc_id == doc.source == "sub/harvest_2024.md"


def test_md_without_heading_uses_stem(tmp_path: Path) -> None:
    path = tmp_path / "release-notes.md"
    path.write_text("No heading here.\n", encoding="utf-8")
    assert load_one(path).title == "release notes"


def test_html_visible_text_only(tmp_path: Path) -> None:
    html = """<!DOCTYPE html>
<html><head><title> Fish &amp; Chips </title>
<style>body { color: red }</style>
<script>alert(1)</script><meta charset="utf-8"></head>
<body>
  <noscript>Enable JavaScript</noscript>
  <div><h1>Menu</h1>
    <div><p>Fish   &amp;
       <b>chips</b> for &pound;5.</p>
      <ul><li>Peas</li><li>Vinegar</li></ul>
    </div>
  </div>
  <p>Line one<br>Line two</p>
  <template><p>hidden template</p></template>
</body></html>"""
    path = tmp_path / "menu.html"
    path.write_text(html, encoding="utf-8")

    doc = load_one(path)

    assert doc.title == "Fish & Chips"
    assert doc.text == "Menu\n\nFish & chips for £5.\n\nPeas\n\nVinegar\n\nLine one\nLine two"
    for hidden in ("alert", "color", "Enable JavaScript", "hidden template", "Fish & Chips"):
        assert hidden not in doc.text


def test_html_falls_back_to_meta_charset(tmp_path: Path) -> None:
    path = tmp_path / "old.htm"
    path.write_bytes('<meta charset="iso-8859-1"><p>Caf\xe9</p>'.encode("latin-1"))
    doc = load_one(path)
    assert doc.text == "Café"
    assert doc.title == "old"


def test_pdf_pages_slice_exactly(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "fruit-report.pdf")

    doc = load_one(path)

    assert doc.title == "fruit report"
    assert [number for number, _, _ in doc.pages] == [1, 2]
    page_texts = [doc.text[start:end] for _, start, end in doc.pages]
    assert PAGE_ONE in page_texts[0]
    assert PAGE_TWO in page_texts[1]
    assert doc.text == "\n\n".join(page_texts)
    assert doc.page_at(doc.text.index("apples")) == 1
    assert doc.page_at(doc.text.index("pears")) == 2
    assert doc.page_at(len(doc.text)) is None


def test_pdf_title_from_metadata(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "x.pdf", title="Fruit Annual")
    assert load_one(path).title == "Fruit Annual"


def test_docx_paragraphs_and_table(tmp_path: Path) -> None:
    path = make_docx(
        tmp_path / "memo.docx",
        ["First paragraph.", "", "Second paragraph."],
        [["Name", "Qty"], ["Apple", "3"]],
        title="Stock Memo",
    )

    doc = load_one(path)

    assert doc.text == "First paragraph.\n\nSecond paragraph.\n\nName\n\nQty\n\nApple\n\n3"
    assert doc.title == "Stock Memo"
    assert doc.doc_id == "memo.docx"


def test_docx_merged_cell_appears_once(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "merged.docx", ["Intro."], [["wide", "", "c"], ["1", "2", "3"]])
    document = docx.Document(str(path))
    table = document.tables[0]
    table.cell(0, 0).merge(table.cell(0, 1))
    document.save(str(path))

    text = load_one(path).text

    assert text.count("wide") == 1
    assert text.endswith("wide\n\nc\n\n1\n\n2\n\n3")


def test_docx_title_defaults_to_stem(tmp_path: Path) -> None:
    path = make_docx(tmp_path / "my_memo.docx", ["Hello."], [["a"]])
    assert load_one(path).title == "my memo"


def test_jsonl_skips_broken_lines_and_duplicates(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [
        json.dumps({"doc_id": "a", "title": "Alpha", "text": "Apples are red."}),
        json.dumps({"doc_id": "b", "text": "Bananas\u2028are yellow."}),
        "{not json",
        json.dumps({"doc_id": "a", "title": "Again", "text": "Duplicate."}),
        json.dumps({"doc_id": "c", "title": "Gamma", "text": "Cherries."}),
        json.dumps({"doc_id": "d", "title": "Empty", "text": "  "}),
        json.dumps({"doc_id": 5, "text": "numeric id"}),
        "",
    ]
    path = tmp_path / "docs.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")

    with caplog.at_level(logging.WARNING, logger="docqa.documents"):
        docs = load_file(corpus_file(path))

    assert [(d.doc_id, d.title, d.text) for d in docs] == [
        ("a", "Alpha", "Apples are red."),
        ("b", "b", "Bananas\u2028are yellow."),
        ("c", "Gamma", "Cherries."),
    ]
    assert {d.source for d in docs} == {"docs.jsonl"}
    messages = caplog.text
    assert "docs.jsonl line 3: invalid JSON" in messages
    assert "docs.jsonl line 4: duplicate doc_id 'a'" in messages
    assert "docs.jsonl line 6: 'text' is empty" in messages
    assert "docs.jsonl line 7: 'doc_id' is missing or not a string" in messages


def test_clapnq_bench_corpus_loads() -> None:
    assert CLAPNQ_DOCS.is_file(), f"bench corpus missing: expected {CLAPNQ_DOCS}"
    docs = load_file(corpus_file(CLAPNQ_DOCS))
    assert len(docs) == 596
    assert len({d.doc_id for d in docs}) == 596
    assert all(d.text.strip() and d.title for d in docs)


# --- bad files ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "empty file"),
        ("blank.md", b" \n\t\r\n", "empty file (whitespace only)"),
        (
            "binary.txt",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "looks like a binary file, not text",
        ),
        ("latin.txt", "café".encode("latin-1"), "not valid UTF-8 text; re-save the file as UTF-8"),
        ("scripts.html", b"<script>var x = 1;</script><p> </p>", "no extractable text"),
        ("notzip.docx", b"this is plain text", "not a valid .docx file (it is not a Word zip"),
        ("blank.pdf", None, "no extractable text"),
        ("broken.jsonl", b"{oops\n[1, 2]\n", "no valid records"),
        ("empty.docx", b"", "empty file"),
        ("latin.html", "<p>caf\xe9</p>".encode("latin-1"), "not valid UTF-8 text"),
    ],
)
def test_bad_file_reasons(tmp_path: Path, name: str, content: bytes | None, reason: str) -> None:
    path = tmp_path / name
    if content is None:
        make_pdf(path, pages=("",))
    else:
        path.write_bytes(content)
    assert reason_for(path).startswith(reason)


def test_truncated_pdf(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "full.pdf").read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[:200])
    assert reason_for(path).startswith("corrupt or truncated PDF: ")


def test_encrypted_pdf(tmp_path: Path) -> None:
    source = make_pdf(tmp_path / "plain.pdf")
    path = make_encrypted_pdf(tmp_path / "locked.pdf", source)
    assert reason_for(path) == "PDF is encrypted"


def test_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    path = tmp_path / "other.docx"
    path.write_bytes(zip_bytes({"hello.txt": b"hi"}))
    assert reason_for(path).startswith("not a valid .docx file")


def test_docx_zip_bomb_total_size(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "DOCX_MAX_UNCOMPRESSED_BYTES", 2 * 1024 * 1024)
    path = make_zip_bomb(tmp_path / "bomb.docx", megabytes=3)
    reason = reason_for(path)
    assert reason.startswith("refusing a .docx whose contents expand to 3 MB")
    assert "zip bomb?" in reason


def test_docx_zip_bomb_ratio(tmp_path: Path) -> None:
    path = make_zip_bomb(tmp_path / "bomb.docx", megabytes=2)
    reason = reason_for(path)
    assert reason.startswith("refusing a .docx whose contents expand to")
    assert "times their compressed size (word/document.xml; zip bomb?)" in reason


def test_file_over_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 3000, encoding="utf-8")
    with pytest.raises(
        DocumentError, match=r"^file is too large \(3,000 bytes; the limit is 1,000\)$"
    ):
        load_file(corpus_file(path), max_file_bytes=1000)


def test_unreadable_file(tmp_path: Path) -> None:
    path = tmp_path / "gone.txt"
    path.write_text("hello", encoding="utf-8")
    file = corpus_file(path)
    path.unlink()
    with pytest.raises(DocumentError, match="^cannot read file: No such file or directory$"):
        load_file(file)


# --- scanning -----------------------------------------------------------------------------------


def test_scan_corpus(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret", encoding="utf-8")
    root = tmp_path / "corpus"
    (root / "reports" / "2024").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config.txt").write_text("hidden dir", encoding="utf-8")
    (root / ".hidden.txt").write_text("hidden file", encoding="utf-8")
    (root / "b.txt").write_text("bee", encoding="utf-8")
    (root / "a.md").write_text("# A\n", encoding="utf-8")
    (root / "reports" / "2024" / "Q1.PDF").write_bytes(b"%PDF-")
    (root / "reports" / "data.xyz").write_text("?", encoding="utf-8")
    (root / "README").write_text("no suffix", encoding="utf-8")
    (root / "leak.txt").symlink_to(outside / "secret.txt")
    (root / "leakdir").symlink_to(outside)
    (root / "alias.txt").symlink_to(root / "b.txt")

    files, skipped = scan_corpus(root)

    assert [f.source for f in files] == ["a.md", "alias.txt", "b.txt", "reports/2024/Q1.PDF"]
    b = files[2]
    assert b.path == (root / "b.txt").resolve()
    assert b.path.is_absolute()
    assert b.size == 3
    assert b.sha256 == hashlib.sha256(b"bee").hexdigest()
    reasons = {s.source: s.reason for s in skipped}
    supported = ", ".join(sorted(SUPPORTED_SUFFIXES))
    assert reasons["reports/data.xyz"] == f"unsupported file type '.xyz' (supported: {supported})"
    assert reasons["README"].startswith("unsupported file type without an extension")
    assert reasons["leak.txt"].startswith("symbolic link points outside the corpus folder")
    assert reasons["leakdir"].startswith("symbolic link points outside the corpus folder")
    assert set(reasons) == {"reports/data.xyz", "README", "leak.txt", "leakdir"}


def test_missing_corpus_dir(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(CorpusError, match="does not exist") as caught:
        scan_corpus(missing)
    assert str(missing) in str(caught.value)


def test_corpus_path_is_a_file(tmp_path: Path) -> None:
    path = tmp_path / "file.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="is not a folder") as caught:
        scan_corpus(path)
    assert str(path) in str(caught.value)


def test_load_corpus_collects_skips(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good text.", encoding="utf-8")
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "notes.xyz").write_text("?", encoding="utf-8")

    docs, skipped = load_corpus(tmp_path)

    assert [d.doc_id for d in docs] == ["good.txt"]
    assert [s.source for s in skipped] == ["empty.txt", "notes.xyz"]
    assert skipped[0] == SkippedFile("empty.txt", "empty file")


def test_pdf_soft_line_breaks_are_unwrapped_without_moving_offsets() -> None:
    from docqa.documents import _unwrap_lines

    raw = "The mission was set up\nat the request of Iraq.\nA new paragraph starts."
    unwrapped = _unwrap_lines(raw)
    assert len(unwrapped) == len(raw)
    assert "set up at the request" in unwrapped
    assert "Iraq.\nA new" in unwrapped
