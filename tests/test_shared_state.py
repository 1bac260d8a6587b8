"""Two web processes behind one load balancer: one PostgreSQL server holds users, workspaces and
conversations, one `chroma run` server holds the passages. A conversation started on one
process continues on the other, a user or workspace added from the command line is seen by
both, and an unreachable database stops a server with one line naming the setting."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import chroma_server, docqa_script, free_port, postgres_server, serving
from test_ui_api import SERVER_ENV, copy_nato

ROOT = Path(__file__).resolve().parents[1]
ADMIN = ("ana", "admin passphrase")
FALCONS = "The falcon aviary of Brussels is kept by Ines Duarte since 2011.\n"

pytestmark = pytest.mark.slow


def _cli(env: dict[str, str], index: Path, *args: str, stdin: str = "") -> str:
    done = subprocess.run(
        [str(docqa_script()), "--index", str(index), *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two app processes sharing one PostgreSQL and one Chroma server (and the corpus)."""
    root = tmp_path_factory.mktemp("two-processes")
    corpus, index = copy_nato(root)
    with postgres_server(root / "pg") as database, chroma_server(root / "chroma") as chroma:
        env = {
            **os.environ,
            **SERVER_ENV,
            "DOCQA_DATABASE_URL": database,
            "DOCQA_CHROMA_URL": chroma,
        }
        _cli(env, index, "user", "add", ADMIN[0], "--role", "admin", "--password-stdin",
             stdin=ADMIN[1] + "\n")  # fmt: skip
        with (
            _app(env, corpus, index, root / "one.log") as one,
            _app(env, corpus, index, root / "two.log") as two,
        ):
            yield {
                "urls": [one[0], two[0]],
                "processes": [one[1], two[1]],
                "env": env,
                "index": index,
                "root": root,
            }


@contextmanager
def _app(
    env: dict[str, str], corpus: Path, index: Path, log: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``python app.py`` on a free port; yields its URL and process."""
    port = free_port()
    command = [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
    command += ["--corpus", str(corpus), "--index", str(index)]
    url = f"http://127.0.0.1:{port}/"
    with serving(command, url, "a docqa server", 120, env=env, log=log) as process:
        yield url, process  # (ready once the login page answers)


def _ask(
    url: str,
    question: str,
    conversation: str | None = None,
    *,
    workspace: str = "default",
    auth: tuple[str, str] = ADMIN,
    timeout: float = 600,
) -> httpx.Response:
    """``POST /api/workspaces/{workspace}/ask`` on the server at ``url``."""
    body: dict[str, Any] = {"question": question}
    if conversation:
        body["conversation_id"] = conversation
    return httpx.post(
        url + f"api/workspaces/{workspace}/ask", json=body, auth=auth, timeout=timeout
    )


def test_a_conversation_started_on_one_process_continues_on_the_other(
    cluster: dict[str, Any],
) -> None:
    one, two = cluster["urls"]
    first = _ask(one, "Who led the Iraqi delegation?")
    assert first.status_code == 200, first.text
    conversation = first.json()["conversation_id"]
    assert conversation and "al-Araji" in first.json()["text"]
    second = _ask(two, "What position does he hold?", conversation)
    assert second.status_code == 200, second.text
    assert second.json()["conversation_id"] == conversation
    kept = httpx.get(one + f"api/conversations/{conversation}", auth=ADMIN, timeout=60).json()
    assert [t["question"] for t in kept["turns"]] == [
        "Who led the Iraqi delegation?",
        "What position does he hold?",
    ]
    assert kept["turns"][0]["answer"]["citations"] == first.json()["citations"]


def test_a_user_and_a_workspace_added_from_the_command_line_reach_both_processes(
    cluster: dict[str, Any],
) -> None:
    env, index, root = cluster["env"], cluster["index"], cluster["root"]
    _cli(env, index, "user", "add", "zoe", "--role", "reader", "--password-stdin",
         stdin="zoe passphrase\n")  # fmt: skip
    falcons = root / "falcons"
    falcons.mkdir()
    (falcons / "falcons.txt").write_text(FALCONS, encoding="utf-8")
    _cli(env, index, "workspace", "create", "falcons", "--corpus", str(falcons))
    _cli(env, index, "workspace", "grant", "falcons", "zoe", "--role", "reader")
    zoe = ("zoe", "zoe passphrase")
    for url in cluster["urls"]:
        listed = httpx.get(url + "api/workspaces", auth=zoe, timeout=60)
        assert listed.status_code == 200, listed.text
        assert [w["name"] for w in listed.json()] == ["default", "falcons"]
    question = "Who keeps the falcon aviary of Brussels?"
    asked = _ask(cluster["urls"][1], question, workspace="falcons", auth=zoe)
    assert asked.status_code == 200, asked.text
    assert {c["source"] for c in asked.json()["citations"]} == {"falcons.txt"}


def test_an_unreachable_database_stops_the_server_with_one_line(tmp_path: Path) -> None:
    corpus, index = copy_nato(tmp_path)
    url = f"postgresql+psycopg://docqa:pw@127.0.0.1:{free_port()}/docqa"
    done = subprocess.run(
        [sys.executable, str(ROOT / "app.py"), "--corpus", str(corpus), "--index", str(index)],
        env={**os.environ, **SERVER_ENV, "DOCQA_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "DOCQA_DATABASE_URL" in lines[0], done.stderr[-2000:]


def test_sixteen_clients_asking_on_both_processes_lose_no_turn(cluster: dict[str, Any]) -> None:
    questions = [
        "Who led the Iraqi delegation?",
        "What position does he hold?",
        "When was the NATO Mission in Iraq established?",
    ]
    results: dict[int, list[tuple[int, str | None]]] = {}

    def client(number: int) -> None:
        conversation = None
        seen = results.setdefault(number, [])
        for turn, question in enumerate(questions):
            url = cluster["urls"][(number + turn) % 2]  # each turn on the other process
            answer = _ask(url, question, conversation)
            conversation = answer.json().get("conversation_id") if answer.is_success else None
            seen.append((answer.status_code, conversation))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status == 200 for seen in results.values() for status, _ in seen), results
    one = cluster["urls"][0]
    for seen in results.values():
        conversation = seen[0][1]
        assert {c for _, c in seen} == {conversation}
        kept = httpx.get(one + f"api/conversations/{conversation}", auth=ADMIN, timeout=60)
        assert [t["question"] for t in kept.json()["turns"]] == questions
        assert [t["position"] for t in kept.json()["turns"]] == [0, 1, 2]


def test_a_process_killed_mid_answer_leaves_every_conversation_readable(
    cluster: dict[str, Any],
) -> None:
    """Runs last: it kills the second process."""
    one, two = cluster["urls"]
    started = _ask(one, "Who led the Iraqi delegation?").json()["conversation_id"]

    def ask_forever() -> None:
        with contextlib.suppress(httpx.HTTPError):
            while True:
                _ask(two, "What position does he hold?", started, timeout=60)

    askers = [threading.Thread(target=ask_forever, daemon=True) for _ in range(4)]
    for asker in askers:
        asker.start()
    time.sleep(3.0)  # dozens of answers written, more in flight
    cluster["processes"][1].send_signal(signal.SIGKILL)
    for asker in askers:
        asker.join(timeout=60)
    listed = httpx.get(one + "api/conversations", auth=ADMIN, timeout=60)
    assert listed.status_code == 200
    for conversation in listed.json():
        kept = httpx.get(one + f"api/conversations/{conversation['id']}", auth=ADMIN, timeout=60)
        assert kept.status_code == 200
        turns = kept.json()["turns"]
        assert len(turns) == conversation["turns"]
        assert [t["position"] for t in turns] == list(range(len(turns)))
        assert all(t["answer"]["text"] for t in turns)  # whole answers only
    followed = [c for c in listed.json() if c["id"] == started]
    assert followed and followed[0]["turns"] > 2
    more = _ask(one, "What position does he hold?", started)
    assert more.status_code == 200  # and it goes on, on the surviving process
