"""The UI's readers-writer lock: questions run together, index writes run alone."""

from __future__ import annotations

import threading
import time

from docqa.locks import ReadWriteLock


def test_readers_share_the_lock() -> None:
    lock = ReadWriteLock()
    inside = threading.Barrier(3, timeout=5)

    def reader() -> None:
        with lock.reading():
            inside.wait()  # only passes if all three readers are inside at once

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert not inside.broken


def test_a_writer_waits_for_readers_and_excludes_everyone() -> None:
    lock = ReadWriteLock()
    events: list[str] = []
    reader_in = threading.Event()
    release_reader = threading.Event()

    def reader() -> None:
        with lock.reading():
            events.append("reader in")
            reader_in.set()
            release_reader.wait(5)
            events.append("reader out")

    def writer() -> None:
        with lock.writing():
            events.append("writer in")
            time.sleep(0.05)
            events.append("writer out")

    def late_reader() -> None:
        with lock.reading():
            events.append("late reader in")

    first = threading.Thread(target=reader)
    first.start()
    assert reader_in.wait(5)
    w = threading.Thread(target=writer)
    w.start()
    time.sleep(0.05)  # the writer is now waiting; a new reader must queue behind it
    late = threading.Thread(target=late_reader)
    late.start()
    time.sleep(0.05)
    assert events == ["reader in"]
    release_reader.set()
    for t in (first, w, late):
        t.join(timeout=10)
    assert events == ["reader in", "reader out", "writer in", "writer out", "late reader in"]


def test_the_lock_is_released_when_the_body_fails() -> None:
    lock = ReadWriteLock()
    for context in (lock.reading, lock.writing):
        try:
            with context():
                raise RuntimeError("boom")
        except RuntimeError:
            pass
    acquired = threading.Event()

    def writer() -> None:
        with lock.writing():
            acquired.set()

    threading.Thread(target=writer).start()
    assert acquired.wait(5)
