"""Helpers for tests that start real docqa or server processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], name: str, seconds: float
) -> None:
    """Poll ``url`` until it answers 200; fail naming ``name`` if the process dies or times out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert process.poll() is None, f"{name} exited during start-up"
        assert time.monotonic() < deadline, f"{name} did not start in {seconds:.0f} s"
        time.sleep(0.3)


def docqa_script() -> Path:
    """The installed `docqa` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "docqa"
    assert script.is_file(), f"console script not installed at {script}"
    return script


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``; kill it if it has not exited 10 seconds later."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(
    command: Sequence[str],
    ready_url: str,
    name: str,
    seconds: float,
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run the server ``command`` for the length of the block, once ``ready_url`` answers.

    Its output goes to ``log`` (quoted when it fails to start) or nowhere; it is stopped at the
    end whatever happens.
    """
    with (log or Path(os.devnull)).open("wb") as out:
        process = subprocess.Popen(list(command), env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            try:
                wait_until_serving(ready_url, process, name, seconds)
            except AssertionError as exc:
                shown = log.read_text(errors="replace")[-3000:] if log else ""
                raise AssertionError(f"{exc}\n{shown}") from None
            yield process
        finally:
            stop(process)
