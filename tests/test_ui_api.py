"""The web UI's API, driven through a real server with ``gradio_client``."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file

from docqa import AbstentionCode, DocQA
from servers import free_port, serving

ROOT = Path(__file__).resolve().parents[1]
NATO_NAME = "nato-iraq-political-dialogue.txt"
NEW_TEXT = (
    "The zeta observatory tracks comets from the desert plateau. Its director is Mira Okonkwo.\n"
)

SERVER_ENV = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
}

pytestmark = pytest.mark.slow


@contextmanager
def running_app(
    corpus: Path, index: Path, timeout: float = 90.0, *, port_from_env: str | None = None
) -> Iterator[str]:
    """Run ``python app.py`` over ``corpus``/``index`` on a free port; yield its URL.

    The port is passed as ``--port``, or with ``port_from_env`` as that environment variable.
    A subprocess keeps Gradio's event loops and sockets out of the test process.
    """
    port = free_port()
    args = ["--corpus", str(corpus), "--index", str(index)]
    env = {**os.environ, **SERVER_ENV}
    if port_from_env is None:
        args += ["--port", str(port)]
    else:
        env[port_from_env] = str(port)
    url = f"http://127.0.0.1:{port}/"
    log = index.parent / f"server-{port}.log"
    command = [sys.executable, str(ROOT / "app.py"), *args]
    with serving(command, url + "config", "the UI server", timeout, env=env, log=log):
        yield url


def copy_nato(root: Path) -> tuple[Path, Path]:
    """A fresh corpus folder holding the NATO report, and a path for its index."""
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(ROOT / "corpus" / NATO_NAME, corpus / NATO_NAME)
    return corpus, root / "index"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The UI over a fresh copy of the NATO corpus, indexed in the background at start."""
    corpus, index = copy_nato(tmp_path_factory.mktemp("ui-api"))
    with running_app(corpus, index) as url:
        client = Client(url, verbose=False)
        yield {"client": client, "corpus": corpus, "index": index, "url": url}
        client.close()


def _check_quotes(answer: dict[str, Any], corpus: Path) -> None:
    assert answer["citations"], answer
    for citation in answer["citations"]:
        text = (corpus / citation["source"]).read_bytes().decode("utf-8")
        assert text[citation["start"] : citation["end"]] == citation["quote"]
        assert f"[{citation['number']}]" in answer["text"]


def test_ask_returns_a_cited_answer(served: dict[str, Any]) -> None:
    answer = served["client"].predict("Who led the Iraqi delegation?", "[]", api_name="/ask")
    assert answer["abstained"] is False
    assert "al-Araji" in answer["text"]
    _check_quotes(answer, served["corpus"])
    assert {c["source"] for c in answer["citations"]} == {NATO_NAME}


def test_follow_up_uses_history(served: dict[str, Any]) -> None:
    history = '[["What is Tom Goffus\'s role?", "Tom Goffus is NATO Assistant Secretary General."]]'
    answer = served["client"].predict("What did he emphasize?", history, api_name="/ask")
    assert "Goffus" in answer["standalone_question"]


def test_unanswerable_question_abstains(served: dict[str, Any]) -> None:
    answer = served["client"].predict("What is the boiling point of mercury?", api_name="/ask")
    assert answer["abstained"] is True and answer["citations"] == []
    assert answer["abstention_reason"]["code"] in {code.value for code in AbstentionCode}
    assert answer["abstention_reason"]["message"]


def test_upload_then_ask_about_it(served: dict[str, Any], tmp_path: Path) -> None:
    upload = tmp_path / "zeta.txt"
    upload.write_text(NEW_TEXT, encoding="utf-8")
    status, table, _ = served["client"].predict([handle_file(str(upload))], api_name="/upload")
    assert "Added zeta.txt" in status and "Rejected" not in status
    assert "<td>zeta.txt</td>" in table
    answer = served["client"].predict("What does the zeta observatory track?", api_name="/ask")
    assert answer["abstained"] is False
    assert {c["source"] for c in answer["citations"]} == {"zeta.txt"}
    _check_quotes(answer, served["corpus"])


def test_bad_upload_is_rejected_and_changes_nothing(served: dict[str, Any], tmp_path: Path) -> None:
    client = served["client"]
    client.predict("Who led the Iraqi delegation?", api_name="/ask")  # indexed by now
    # Reads the store only (the model is loaded lazily, never here).
    qa = DocQA(corpus_dir=served["corpus"], index_dir=served["index"])
    before_files = sorted(p.name for p in served["corpus"].iterdir())
    before_ids = qa.store.all_ids()
    before_table = client.predict(None, api_name="/delete")[1]
    bad = tmp_path / "report.pdf"
    bad.write_text("this is text, not a PDF", encoding="utf-8")
    status, table, _ = client.predict([handle_file(str(bad))], api_name="/upload")
    assert "Rejected report.pdf: not a PDF" in status and "Added" not in status
    assert table == before_table
    assert sorted(p.name for p in served["corpus"].iterdir()) == before_files
    assert qa.store.all_ids() == before_ids


def test_other_sites_may_not_frame_the_page(served: dict[str, Any]) -> None:
    for path in ("", "api/documents"):
        response = httpx.get(served["url"] + path, timeout=30)
        assert response.status_code == 200, (path, response.text[:200])
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]


def test_empty_question_is_an_error(served: dict[str, Any]) -> None:
    with pytest.raises(Exception, match="empty"):
        served["client"].predict("   ", api_name="/ask")


def test_app_listens_where_gradio_server_port_says(tmp_path: Path) -> None:
    """Gradio's own setting is honoured when neither --port nor DOCQA_UI_PORT is given."""
    corpus, index = copy_nato(tmp_path)
    with running_app(corpus, index, port_from_env="GRADIO_SERVER_PORT") as url:
        client = Client(url, verbose=False)
        try:
            answer = client.predict("Who led the Iraqi delegation?", "[]", api_name="/ask")
        finally:
            client.close()
    assert "al-Araji" in answer["text"]
