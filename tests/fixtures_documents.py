"""Builders for the document fixtures of ``test_documents.py`` (PDF, DOCX, zip bombs)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

PAGE_ONE = "The first page talks about apples."
PAGE_TWO = "The second page talks about pears."


def make_pdf(path: Path, pages: tuple[str, ...] = (PAGE_ONE, PAGE_TWO), title: str = "") -> Path:
    """Write a PDF with one line of text per page (an empty string gives a blank page)."""
    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.cell(text=text)
    pdf.output(str(path))
    return path


def make_encrypted_pdf(path: Path, source: Path, password: str = "secret") -> Path:
    """Write an RC4-encrypted copy of ``source`` that needs ``password`` to open."""
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


def make_docx(path: Path, paragraphs: list[str], table: list[list[str]], title: str = "") -> Path:
    """Write a Word file with the given paragraphs followed by a table."""
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    grid = document.add_table(rows=len(table), cols=len(table[0]))
    for row, values in zip(grid.rows, table, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.core_properties.title = title
    document.save(str(path))
    return path


def make_zip_bomb(path: Path, megabytes: int) -> Path:
    """Write a zip whose word/document.xml expands to ``megabytes`` MB of zeros."""
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            for _ in range(megabytes):
                member.write(chunk)
    return path


def zip_bytes(members: dict[str, bytes]) -> bytes:
    """Return an in-memory zip archive holding ``members``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()
