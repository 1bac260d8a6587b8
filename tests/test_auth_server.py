"""Sign-in and roles on a real server process: users, refusals, and the unprotected-exposure
guard (``python app.py``), through ``gradio_client`` and plain HTTP."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gradio_client import Client, handle_file
from playwright.sync_api import Browser, Page, expect

from docqa.settings import load_settings
from docqa.state import State
from servers import free_port, serving
from test_ui_api import SERVER_ENV, copy_nato
from test_ui_browser import TIMEOUT, ask, browser, shot

__all__ = ["browser"]  # the module-scoped Chromium fixture, shared

ROOT = Path(__file__).resolve().parents[1]
PASSWORDS = {"rita": "reader pass 1", "eddie": "editor pass 2"}
NEW_TEXT = "The Quillfeather archive opened in 1911. Its first keeper was Maren Holt.\n"

pytestmark = pytest.mark.slow


def _state(index: Path) -> State:
    """The server's database (cheap password hashes: a test, not a server)."""
    return State.open(load_settings(index_dir=index), rounds=4)


def latest(index: Path) -> list[dict[str, Any]]:
    """The server's last audit entries."""
    return _state(index).audit.latest()


def _app(corpus: Path, index: Path, *extra: str) -> list[str]:
    args = ["--corpus", str(corpus), "--index", str(index), *extra]
    return [sys.executable, str(ROOT / "app.py"), *args]


@pytest.fixture(scope="module")
def protected(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The UI over the NATO corpus with two users: rita (reader) and eddie (editor)."""
    corpus, index = copy_nato(tmp_path_factory.mktemp("auth"))
    users = _state(index).users
    users.add("rita", PASSWORDS["rita"], "reader")
    users.add("eddie", PASSWORDS["eddie"], "editor")
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = _app(corpus, index, "--port", str(port))
    env = {**os.environ, **SERVER_ENV}
    log = index.parent / "server.log"
    with serving(command, url, "the protected UI", 90, env=env, log=log):
        yield {"url": url, "corpus": corpus, "index": index}


def _client(url: str, name: str) -> Client:
    return Client(url, auth=(name, PASSWORDS[name]), verbose=False)


def test_no_credentials_or_a_wrong_password_get_nothing(protected: dict[str, Any]) -> None:
    url = protected["url"]
    with pytest.raises(Exception):  # noqa: B017, PT011 - gradio_client raises several types
        Client(url, verbose=False).predict("Who led the Iraqi delegation?", "[]", api_name="/ask")
    with pytest.raises(Exception):  # noqa: B017, PT011
        Client(url, auth=("rita", "not her password"), verbose=False)
    with pytest.raises(Exception):  # noqa: B017, PT011
        Client(url, auth=("nobody", "whatever pass"), verbose=False)
    page = urllib.request.urlopen(url, timeout=10).read().decode("utf-8", "replace")
    assert "Who led the Iraqi delegation" not in page  # the app itself is not served


def test_a_reader_asks_but_cannot_upload_or_delete(
    protected: dict[str, Any], tmp_path: Path
) -> None:
    client = _client(protected["url"], "rita")
    answer = client.predict("Who led the Iraqi delegation?", "[]", api_name="/ask")
    assert not answer["abstained"] and "al-Araji" in answer["text"]

    before = sorted(p.name for p in protected["corpus"].iterdir())
    forged = tmp_path / "forged.txt"
    forged.write_text(NEW_TEXT, encoding="utf-8")
    with pytest.raises(Exception, match="editor"):
        client.predict([handle_file(str(forged))], api_name="/upload")
    with pytest.raises(Exception, match="editor"):
        client.predict(None, api_name="/delete")
    assert sorted(p.name for p in protected["corpus"].iterdir()) == before
    again = client.predict("Who was the first keeper of the archive?", "[]", api_name="/ask")
    assert "Maren Holt" not in again["text"]  # nothing reached the index either
    refusals = [e for e in latest(protected["index"]) if e["user"] == "rita"]
    assert [(e["action"], e["outcome"]) for e in refusals] == [
        ("upload", "refused: needs editor"),
        ("delete", "refused: needs editor"),
    ]


def test_an_editor_uploads_and_asks(protected: dict[str, Any], tmp_path: Path) -> None:
    client = _client(protected["url"], "eddie")
    upload = tmp_path / "archive.txt"
    upload.write_text(NEW_TEXT, encoding="utf-8")
    status, _, _ = client.predict([handle_file(str(upload))], api_name="/upload")
    assert "Added archive.txt" in status
    assert (protected["corpus"] / "archive.txt").read_text(encoding="utf-8") == NEW_TEXT
    answer = client.predict("Who was the first keeper of the archive?", "[]", api_name="/ask")
    assert "Maren Holt" in answer["text"]
    assert answer["citations"][0]["source"] == "archive.txt"
    last = latest(protected["index"])[-1]
    assert (last["user"], last["action"], last["file"], last["outcome"]) == (
        "eddie",
        "upload",
        "archive.txt",
        "added",
    )
    # The delete handler lets an editor through (it then asks which document to delete).
    status, _, _ = client.predict(None, api_name="/delete")
    assert "Pick a document to delete" in status


def test_a_network_address_without_users_is_refused(tmp_path: Path) -> None:
    corpus, index = copy_nato(tmp_path)
    done = subprocess.run(
        _app(corpus, index, "--host", "0.0.0.0", "--port", str(free_port())),  # noqa: S104
        env={**os.environ, **SERVER_ENV},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines[-1].startswith("docqa: refusing to serve 0.0.0.0 without sign-in")
    assert "docqa user add" in lines[-1] and "--no-auth" in lines[-1]
    assert not _state(index).users.exists()


def test_no_auth_serves_a_network_address_with_a_warning(tmp_path: Path) -> None:
    corpus, index = copy_nato(tmp_path)
    port = free_port()
    command = _app(corpus, index, "--host", "0.0.0.0", "--port", str(port), "--no-auth")  # noqa: S104
    url = f"http://127.0.0.1:{port}/"
    env = {**os.environ, **SERVER_ENV}
    with serving(command, url + "config", "the unprotected UI", 90, env=env):
        config = urllib.request.urlopen(url + "config", timeout=10).read().decode("utf-8")
        assert "has no sign-in and listens on 0.0.0.0" in config


def _sign_in(browser: Browser, url: str, name: str, password: str) -> Page:
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.get_by_label("username").fill(name)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    return page


def test_the_page_asks_for_a_login_and_refuses_a_wrong_password(
    browser: Browser, protected: dict[str, Any]
) -> None:
    page = _sign_in(browser, protected["url"], "rita", "not her password")
    expect(page.get_by_text("Incorrect Credentials")).to_be_visible()
    assert page.locator("#docqa-status").count() == 0
    shot(page, "8-login-refused")
    page.context.close()


def test_a_signed_in_reader_asks_but_is_offered_no_upload(
    browser: Browser, protected: dict[str, Any]
) -> None:
    page = _sign_in(browser, protected["url"], "rita", PASSWORDS["rita"])
    expect(page.locator("#docqa-status")).to_contain_text("Ready", timeout=90_000)
    ask(page, "Who led the Iraqi delegation?")
    expect(page.locator("#docqa-chat .message.bot").last).to_contain_text("al-Araji")
    # The document viewer knows the page's sign-in: the card's link opens the marked quote...
    link = page.locator("#docqa-sources a.docqa-view").first
    viewer = page.context.new_page()
    viewer.goto(protected["url"].rstrip("/") + str(link.get_attribute("href")))
    expect(viewer.locator("mark#cited")).to_contain_text("al-Araji")
    viewer.close()
    # ...which a browser that is not signed in cannot read.
    stranger = browser.new_context()
    refused = stranger.request.get(protected["url"].rstrip("/") + str(link.get_attribute("href")))
    assert refused.status == 401
    stranger.close()
    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#docqa-role-note")).to_contain_text("rita (reader)")
    assert (
        page.locator("#docqa-upload").count() == 0 or not page.locator("#docqa-upload").is_visible()
    )
    assert page.locator("#docqa-add").count() == 0 or not page.locator("#docqa-add").is_visible()
    assert "Recent changes" not in page.locator("#docqa-audit").inner_text()
    shot(page, "9-reader-no-upload")
    page.context.close()

    editor = _sign_in(browser, protected["url"], "eddie", PASSWORDS["eddie"])
    expect(editor.locator("#docqa-status")).to_contain_text("Ready", timeout=90_000)
    editor.get_by_role("tab", name="Documents").click()
    expect(editor.locator("#docqa-add")).to_be_visible()
    expect(editor.locator("#docqa-audit")).to_contain_text("refused: needs editor")
    shot(editor, "10-editor-audit-log")
    editor.context.close()


LEDGER = "The Brightwater ledger was sealed in 1843. Its last clerk was Odile Varga.\n"


def test_json_api_refuses_requests_without_credentials(protected: dict[str, Any]) -> None:
    url = protected["url"]
    calls = [
        ("POST", "api/ask", {"json": {"question": "Who led the Iraqi delegation?"}}),
        ("GET", "api/documents", {}),
        ("POST", "api/documents", {"files": {"files": ("x.txt", b"Some text here.")}}),
        ("DELETE", "api/documents/nato-iraq-political-dialogue.txt", {}),
    ]
    for method, path, kwargs in calls:
        for auth in (None, ("rita", "not her password")):
            response = httpx.request(method, url + path, auth=auth, timeout=30, **kwargs)
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["www-authenticate"].startswith("Basic")
    malformed = httpx.get(url + "api/documents", headers={"Authorization": "Basic !!"}, timeout=30)
    assert malformed.status_code == 401 and "Malformed" in malformed.json()["detail"]
    assert (protected["corpus"] / "nato-iraq-political-dialogue.txt").is_file()


def test_json_api_roles_tokens_and_audit(protected: dict[str, Any]) -> None:
    url, corpus = protected["url"], protected["corpus"]
    rita = ("rita", PASSWORDS["rita"])
    asked = httpx.post(
        url + "api/ask", json={"question": "Who led the Iraqi delegation?"}, auth=rita, timeout=60
    )
    assert asked.status_code == 200 and "al-Araji" in asked.json()["text"]
    quote = asked.json()["citations"][0]
    nato = (corpus / quote["source"]).read_text(encoding="utf-8")
    assert nato[quote["start"] : quote["end"]] == quote["quote"]

    _state(protected["index"]).users.add("zoe", "pässwörd – lång", "reader")
    listed = httpx.get(url + "api/documents", auth=("zoe", "pässwörd – lång"), timeout=30)
    assert listed.status_code == 200  # Basic credentials are read as UTF-8, not ASCII only

    token = _state(protected["index"]).users.create_token("rita")
    bearer = {"Authorization": f"Bearer {token}"}
    listed = httpx.get(url + "api/documents", headers=bearer, timeout=30)
    assert listed.status_code == 200
    assert "nato-iraq-political-dialogue.txt" in [d["source"] for d in listed.json()]
    before = sorted(p.name for p in corpus.iterdir())
    refused = httpx.post(
        url + "api/documents",
        headers=bearer,
        files={"files": ("ledger.txt", LEDGER.encode())},
        timeout=30,
    )
    assert refused.status_code == 403 and "editor" in refused.json()["detail"]
    assert sorted(p.name for p in corpus.iterdir()) == before

    eddie = ("eddie", PASSWORDS["eddie"])
    added = httpx.post(
        url + "api/documents",
        auth=eddie,
        files={"files": ("ledger.txt", LEDGER.encode())},
        timeout=120,
    )
    assert added.status_code == 200 and added.json()["accepted"] == ["ledger.txt"]
    question = {"question": "Who was the last clerk of the ledger?"}
    answer = httpx.post(url + "api/ask", json=question, auth=rita, timeout=60).json()
    assert "Odile Varga" in answer["text"]
    assert answer["citations"][0]["source"] == "ledger.txt"

    gone = httpx.delete(url + "api/documents/ledger.txt", auth=eddie, timeout=120)
    assert gone.status_code == 200 and not (corpus / "ledger.txt").exists()
    after = httpx.post(url + "api/ask", json=question, auth=rita, timeout=60).json()
    assert "Odile Varga" not in after["text"]
    missing = httpx.delete(url + "api/documents/ledger.txt", auth=eddie, timeout=60)
    assert missing.status_code == 404

    tail = [(e["user"], e["action"], e["file"], e["outcome"]) for e in latest(protected["index"])]
    assert ("rita", "upload", None, "refused: needs editor") in tail
    assert tail[-3:-1] == [
        ("eddie", "upload", "ledger.txt", "added"),
        ("eddie", "delete", "ledger.txt", "deleted"),
    ]
    assert tail[-1][:2] == ("eddie", "delete") and tail[-1][3].startswith("failed")

    spec = httpx.get(url + "api/openapi.json", timeout=30).json()
    assert {"/api/ask", "/api/documents", "/api/documents/{name}"} <= set(spec["paths"])
    schemes = {
        s["type"] + ":" + s["scheme"] for s in spec["components"]["securitySchemes"].values()
    }
    assert schemes == {"http:basic", "http:bearer"}  # the description says how to sign in
    assert set(spec["components"]["securitySchemes"]) == {"HTTPBasic", "HTTPBearer"}
    assert len(spec["paths"]["/api/ask"]["post"]["security"]) == 2
