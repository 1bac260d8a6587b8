"""Helpers for tests that start real docqa or server processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
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
