"""``atomic_write``: the one way docqa writes a file that must never be seen half written."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import BinaryIO

import pytest

from docqa.fileio import atomic_write
from docqa.manifest import FileEntry, Manifest


def test_text_bytes_and_writer_functions_are_written_whole(tmp_path: Path) -> None:
    atomic_write(tmp_path / "a.txt", "héllo")
    atomic_write(tmp_path / "b.bin", b"\x00\x01")
    atomic_write(tmp_path / "sub" / "c.bin", lambda fh: fh.write(b"from a writer"))

    assert (tmp_path / "a.txt").read_bytes() == "héllo".encode()
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "sub" / "c.bin").read_bytes() == b"from a writer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin", "sub"]


def test_interrupted_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "report.md"
    target.write_text("old report", encoding="utf-8")

    def fail_halfway(fh: BinaryIO) -> None:
        fh.write(b"half a rep")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, fail_halfway)
    assert target.read_text(encoding="utf-8") == "old report"
    assert [p.name for p in tmp_path.iterdir()] == ["report.md"]


def test_written_files_are_readable_by_others(tmp_path: Path) -> None:
    path = atomic_write(tmp_path / "report.json", "{}")
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    private = atomic_write(tmp_path / "secret", "x", mode=0o600)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600


def test_the_manifest_is_saved_through_atomic_write(tmp_path: Path) -> None:
    path = tmp_path / "index" / "manifest.json"
    Manifest(chunking="c", files={"a.txt": FileEntry("0" * 64, ["a.txt"], ["x"])}).save(path)

    assert json.loads(path.read_text(encoding="utf-8"))["files"]["a.txt"]["chunk_ids"] == ["x"]
    assert Manifest.load(path).files["a.txt"].doc_ids == ["a.txt"]
    assert [p.name for p in path.parent.iterdir()] == ["manifest.json"]
