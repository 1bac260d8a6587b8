"""``ingest(rebuild=True)`` (``docqa ingest --rebuild``) empties the index under the index lock."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from conftest import MakeQA
from docqa.index import index_lock
from docqa.manifest import Manifest


def test_rebuild_waits_for_the_writer_holding_the_lock(
    make_fake_qa: MakeQA,
    small_corpus: dict[str, str | bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    qa = make_fake_qa(small_corpus)
    first = qa.ingest()
    index = qa.settings.index_dir
    manifest_before = (index / "manifest.json").read_bytes()
    ids_before = qa.store.all_ids()
    assert ids_before

    result: dict[str, object] = {}

    def rebuild() -> None:
        result["report"] = make_fake_qa().ingest(rebuild=True)

    caplog.set_level(logging.WARNING, logger="docqa")
    with index_lock(index):  # another writer is busy
        worker = threading.Thread(target=rebuild)
        worker.start()
        deadline = time.monotonic() + 30
        while "waiting for it to finish" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "waiting for it to finish" in caplog.text
        time.sleep(0.3)
        # While the other writer holds the lock, nothing of the index is gone.
        assert (index / "manifest.json").read_bytes() == manifest_before
        assert qa.store.all_ids() == ids_before
        assert "report" not in result
    worker.join(timeout=60)
    assert not worker.is_alive()
    report = result["report"]
    # Rebuilt from nothing: every file added again, none found unchanged.
    assert sorted(report.added) == sorted(first.added)  # type: ignore[attr-defined]
    assert report.unchanged == ()  # type: ignore[attr-defined]
    assert Manifest.load(index / "manifest.json").files.keys() == set(first.added)
