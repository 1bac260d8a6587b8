"""A readers-writer lock: questions share the index, index writes are exclusive.

One plain lock would make every question wait for every other one; questions only read, so any
number may run together, while an upload, delete or start-up indexing waits for them to finish
and holds back new questions until it is done (writers are preferred, so they never starve).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """``with lock.reading(): ...`` for questions, ``with lock.writing(): ...`` for writes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Shared access; waits while a writer holds or awaits the lock."""
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Exclusive access; waits for the readers already inside to finish."""
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()
