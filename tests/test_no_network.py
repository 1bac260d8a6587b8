"""docqa never talks to the network: model loading, ingest, answering and the web UI.

A guard replaces the socket functions that open connections or resolve names; any destination
other than loopback raises and is recorded. The UI runs in a subprocess whose ``sitecustomize``
installs the same guard and writes each attempt to a file.
"""

from __future__ import annotations

import inspect
import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from gradio_client import Client

from servers import free_port, serving

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

DOC_TEXT = (
    "The Halvard glacier station records snowfall every winter. "
    "Its chief scientist is Dr. Amara Lindqvist.\n"
)
QUESTION = "Who is the chief scientist of the Halvard glacier station?"


def is_loopback(host: object) -> bool:
    """Whether ``host`` (a name, an address, or a socket address tuple's host) is loopback."""
    if host is None:  # passive lookups (binding a server) use no remote host
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip("[]").split("%")[0].lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class NetworkAttempt(OSError):
    """Raised by the guard instead of connecting anywhere but loopback."""


class Guard:
    """Records and refuses every non-loopback connection or name lookup."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def check(self, what: str, address: Any) -> None:
        if isinstance(address, str | bytes):  # AF_UNIX socket path
            return
        host = address[0] if isinstance(address, tuple) and address else address
        if not is_loopback(host):
            self.attempts.append(f"{what} {address!r}")
            raise NetworkAttempt(f"network access attempted in a test: {what} {address!r}")


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[Guard]:
    """Patch ``socket`` so that only loopback destinations are reachable; yields the record."""
    guard = Guard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create_connection = socket.create_connection
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX:
            guard.check("connect", address)
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != socket.AF_UNIX:
            guard.check("connect_ex", address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        guard.check("create_connection", address)
        return real_create_connection(address, *args, **kwargs)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        guard.check("getaddrinfo", (host,))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "create_connection", create_connection)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield guard


def test_the_guard_refuses_remote_hosts_and_allows_loopback(no_network: Guard) -> None:
    with pytest.raises(NetworkAttempt):
        socket.create_connection(("example.com", 443), timeout=1)
    with pytest.raises(NetworkAttempt):
        socket.getaddrinfo("huggingface.co", 443)
    with socket.socket() as sock, pytest.raises(NetworkAttempt):
        sock.connect(("203.0.113.7", 80))
    assert len(no_network.attempts) == 3
    no_network.attempts.clear()
    socket.getaddrinfo("localhost", 80)
    socket.getaddrinfo("127.0.0.1", 80)
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        with socket.create_connection(server.getsockname(), timeout=2):
            pass
    assert no_network.attempts == []


def test_model_ingest_and_answer_never_touch_the_network(
    no_network: Guard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    from docqa import DocQA
    from docqa.embeddings import load_embedder

    embedder = load_embedder()  # fresh: from site-packages, with no hub to fall back on
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    assert len(embedder.embed_query("glacier")) == 384

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "station.txt").write_bytes(DOC_TEXT.encode())
    qa = DocQA(corpus_dir=corpus, index_dir=tmp_path / "index", embedder=embedder)
    report = qa.ingest()
    assert report.added == ("station.txt",)
    answer = qa.ask(QUESTION)
    assert not answer.abstained, answer.abstention_reason
    assert "Amara Lindqvist" in answer.text
    assert all(DOC_TEXT[c.start : c.end] == c.quote for c in answer.citations)

    assert qa.store._client.get_settings().anonymized_telemetry is False
    assert no_network.attempts == []


def test_gradio_analytics_are_off(no_network: Guard) -> None:
    import docqa.web.app  # noqa: F401, I001  (sets GRADIO_ANALYTICS_ENABLED; gradio comes after)
    from gradio.analytics import analytics_enabled

    assert os.environ["GRADIO_ANALYTICS_ENABLED"] == "False"
    assert analytics_enabled() is False
    assert no_network.attempts == []


# ---- the web UI in a subprocess --------------------------------------------------------------
SITECUSTOMIZE = f'''
"""Test guard: refuse and record every non-loopback connection of this process."""
import ipaddress
import os
import socket

_LOG = os.environ["DOCQA_TEST_NETWORK_LOG"]


{inspect.getsource(is_loopback)}

def _check(what, address):
    if isinstance(address, (str, bytes)):
        return
    host = address[0] if isinstance(address, tuple) and address else address
    if not is_loopback(host):
        with open(_LOG, "a", encoding="utf-8") as log:
            log.write(f"{{os.getpid()}} {{what}} {{address!r}}\\n")
        raise OSError(f"network access attempted: {{what}} {{address!r}}")


_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex
_create_connection = socket.create_connection
_getaddrinfo = socket.getaddrinfo


def connect(self, address):
    if self.family != socket.AF_UNIX:
        _check("connect", address)
    return _connect(self, address)


def connect_ex(self, address):
    if self.family != socket.AF_UNIX:
        _check("connect_ex", address)
    return _connect_ex(self, address)


def create_connection(address, *args, **kwargs):
    _check("create_connection", address)
    return _create_connection(address, *args, **kwargs)


def getaddrinfo(host, *args, **kwargs):
    _check("getaddrinfo", (host,))
    return _getaddrinfo(host, *args, **kwargs)


socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
socket.create_connection = create_connection
socket.getaddrinfo = getaddrinfo
with open(_LOG + ".active", "a", encoding="utf-8") as marker:
    marker.write(f"{{os.getpid()}}\\n")
'''


def test_web_ui_makes_no_network_connection(tmp_path: Path, no_network: Guard) -> None:
    guard_dir = tmp_path / "guard"
    guard_dir.mkdir()
    (guard_dir / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    log_file = tmp_path / "network-attempts.log"
    log_file.write_text("", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "station.txt").write_bytes(DOC_TEXT.encode())

    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("DOCQA_")
        and key not in {"GRADIO_ANALYTICS_ENABLED", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"}
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(guard_dir), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env["DOCQA_TEST_NETWORK_LOG"] = str(log_file)
    # The guard works in a subprocess: a remote connection is refused and logged.
    probe = "import urllib.request; urllib.request.urlopen('http://example.com/', timeout=3)"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, check=False)
    assert done.returncode != 0
    assert "example.com" in log_file.read_text(encoding="utf-8")
    log_file.write_text("", encoding="utf-8")

    port = free_port()
    args = ["--port", str(port), "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    url = f"http://127.0.0.1:{port}/"
    command = [sys.executable, str(ROOT / "app.py"), *args]
    server_log = tmp_path / "server.log"
    with serving(command, url + "config", "the UI server", 90, env=env, log=server_log):
        client = Client(url, verbose=False)
        try:
            answer = client.predict(QUESTION, "[]", api_name="/ask")
        finally:
            client.close()

    assert Path(str(log_file) + ".active").read_text(encoding="utf-8").strip(), "guard not loaded"
    assert answer["abstained"] is False, answer
    assert "Amara Lindqvist" in answer["text"]
    assert log_file.read_text(encoding="utf-8") == "", server_log.read_text(errors="replace")[
        -3000:
    ]
    assert no_network.attempts == []  # the client side stayed on loopback too
