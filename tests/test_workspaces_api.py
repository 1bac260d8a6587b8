"""The JSON API of workspaces, kept conversations and feedback, driven over HTTP in-process:
who sees which workspace (an invisible one is not found, exactly as an unknown one), that a
question cites only its own workspace's documents, that conversations are their owner's alone
and continue from the store, and that uploads land in their workspace's corpus only (fast lane:
fake embeddings, real Chroma stores, a real SQLite database and real files)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import MakeQA, write_corpus
from docqa.layout import IndexPaths
from docqa.service import LibraryService
from docqa.state import State
from docqa.web.json_api import register

OTTERS = {"otters.txt": "The river otters of Lake Vell were counted in 1998. There were 41.\n"}
FALCONS = {"falcons.txt": "The falcon aviary of Brussels is kept by Ines Duarte since 2011.\n"}
SECRET = {"vault.txt": "The copper vault of Tallinn holds the Varga ledger since 1843.\n"}
NOTE = "The lighthouse keeper of Cape Doran was Odile Moraga.\n"
PASSWORDS = {
    "rita": "reader password",
    "eddie": "editor password",
    "ada": "admin password",
}
ROLES = {"rita": "reader", "eddie": "editor", "ada": "admin"}
OTTER_QUESTION = "When were the river otters of Lake Vell counted?"
FALCON_QUESTION = "Who keeps the falcon aviary of Brussels?"
UNANSWERABLE = "What is the capital city of Peru?"


@dataclass
class Api:
    """The app over HTTP, the service behind it, and the corpus folders of its workspaces."""

    client: TestClient
    service: LibraryService
    corpora: dict[str, Path]

    def call(self, who: str | None, method: str, path: str, **kwargs: Any) -> httpx.Response:
        auth = (who, PASSWORDS[who]) if who else None
        return self.client.request(method, path, auth=auth, **kwargs)

    def ask(self, who: str, workspace: str, question: str, **body: Any) -> dict[str, Any]:
        path = f"/api/workspaces/{workspace}/ask"
        response = self.call(who, "POST", path, json={"question": question, **body})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data

    def files(self, workspace: str) -> list[str]:
        return sorted(p.name for p in self.corpora[workspace].iterdir())


@pytest.fixture
def api(make_fake_qa: MakeQA, tmp_path: Path) -> Api:
    qa = make_fake_qa(OTTERS)
    state = State.open(qa.settings, rounds=4)
    for name, password in PASSWORDS.items():
        state.users.add(name, password, ROLES[name])
    state.workspaces.create("falcons", write_corpus(tmp_path / "falcons", FALCONS))
    state.workspaces.create("secret", write_corpus(tmp_path / "secret", SECRET))
    state.workspaces.create("uploads")  # no corpus folder of its own: uploads fill one
    state.workspaces.grant("falcons", "rita", "reader")
    state.workspaces.grant("falcons", "eddie", "editor")
    service = LibraryService(qa, state, protected=True)
    service.start_indexing().join()
    app = FastAPI()
    register(app, service)
    corpora = {
        "default": Path(qa.settings.corpus_dir),
        "falcons": tmp_path / "falcons",
        "secret": tmp_path / "secret",
        "uploads": IndexPaths(qa.settings.index_dir).workspace("uploads").workspace_corpus,
    }
    return Api(TestClient(app), service, corpora)


def _without(name: str, response: httpx.Response) -> tuple[int, str]:
    """The status and body with the workspace's name blanked: what tells two refusals apart."""
    return response.status_code, response.text.replace(name, "X")


def test_each_user_lists_the_workspaces_they_may_use(api: Api) -> None:
    everything = api.call("ada", "GET", "/api/workspaces").json()
    assert everything == [
        {"name": "default", "role": "admin"},
        {"name": "falcons", "role": "admin"},
        {"name": "secret", "role": "admin"},
        {"name": "uploads", "role": "admin"},
    ]
    assert api.call("rita", "GET", "/api/workspaces").json() == [
        {"name": "default", "role": "reader"},
        {"name": "falcons", "role": "reader"},
    ]
    anonymous = api.call(None, "GET", "/api/workspaces")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")


def test_a_reader_asks_in_a_granted_workspace_and_an_invisible_one_is_not_found(
    api: Api,
) -> None:
    answer = api.ask("rita", "falcons", FALCON_QUESTION)
    assert "Ines Duarte" in answer["text"]
    assert answer["citations"] and {c["source"] for c in answer["citations"]} == {"falcons.txt"}
    assert len(answer["conversation_id"]) == 32 and isinstance(answer["turn_id"], int)
    falcons = (api.corpora["falcons"] / "falcons.txt").read_text(encoding="utf-8")
    for citation in answer["citations"]:
        assert falcons[citation["start"] : citation["end"]] == citation["quote"]

    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", "/api/workspaces/{}/ask", {"json": {"question": "Who holds the ledger?"}}),
        ("GET", "/api/workspaces/{}/documents", {}),
        ("POST", "/api/workspaces/{}/documents", {"files": {"files": ("n.txt", NOTE.encode())}}),
        ("DELETE", "/api/workspaces/{}/documents/vault.txt", {}),
        ("GET", "/api/workspaces/{}/feedback", {}),
        ("GET", "/api/conversations?workspace={}", {}),
    ]
    for method, path, kwargs in requests:
        hidden = api.call("rita", method, path.format("secret"), **kwargs)
        unknown = api.call("rita", method, path.format("nowhere"), **kwargs)
        assert hidden.status_code == 404, (method, path, hidden.text)
        assert _without("secret", hidden) == _without("nowhere", unknown)
        assert set(hidden.json()) == {"detail"}
    assert api.files("secret") == ["vault.txt"]  # the refused upload and delete changed nothing
    kept = api.call("rita", "GET", "/api/conversations").json()
    assert [c["workspace"] for c in kept] == ["falcons"]  # the refused question was not kept


def test_a_follow_up_continues_the_kept_conversation_from_the_store(api: Api) -> None:
    first = api.ask("rita", "default", OTTER_QUESTION)
    follow_up = api.ask(
        "rita", "default", "How many were there?", conversation_id=first["conversation_id"]
    )
    assert follow_up["conversation_id"] == first["conversation_id"]
    assert OTTER_QUESTION in follow_up["standalone_question"]  # resolved from the stored turn
    kept = api.call("rita", "GET", f"/api/conversations/{first['conversation_id']}").json()
    assert kept["conversation"]["turns"] == 2
    assert kept["conversation"]["workspace"] == "default"
    assert [(t["id"], t["position"], t["question"]) for t in kept["turns"]] == [
        (first["turn_id"], 0, OTTER_QUESTION),
        (follow_up["turn_id"], 1, "How many were there?"),
    ]
    assert kept["turns"][0]["answer"]["citations"] == first["citations"]  # as first shown
    assert "c1" in kept["turns"][0]["answer"]["contexts"]

    sent_history = api.call(
        "rita",
        "POST",
        "/api/workspaces/default/ask",
        json={"question": "And then?", "history": [["Q?", "A made-up answer."]]},
    )
    assert sent_history.status_code == 422 and "conversation_id" in sent_history.text
    elsewhere = api.call(
        "rita",
        "POST",
        "/api/workspaces/falcons/ask",
        json={"question": "Who keeps it?", "conversation_id": first["conversation_id"]},
    )
    assert elsewhere.status_code == 404 and "another workspace" in elsewhere.json()["detail"]
    listed = api.call("rita", "GET", "/api/conversations?workspace=default").json()
    assert [(c["id"], c["turns"]) for c in listed] == [(first["conversation_id"], 2)]


def test_another_users_conversation_is_not_found_and_nothing_changes(api: Api) -> None:
    mine = api.ask("rita", "default", OTTER_QUESTION)["conversation_id"]
    before = api.call("rita", "GET", f"/api/conversations/{mine}").json()
    unknown = "0" * 32
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/api/conversations/{}", {}),
        ("PATCH", "/api/conversations/{}", {"json": {"title": "Mine now"}}),
        ("DELETE", "/api/conversations/{}", {}),
        ("GET", "/api/conversations/{}/export?format=md", {}),
        ("GET", "/api/conversations/{}/export?format=json", {}),
        ("POST", "/api/ask", {"json": {"question": "And then?", "conversation_id": "{}"}}),
    ]
    for method, path, kwargs in attempts:
        if "json" in kwargs and "conversation_id" in kwargs["json"]:
            theirs = {"json": {**kwargs["json"], "conversation_id": mine}}
            none = {"json": {**kwargs["json"], "conversation_id": unknown}}
            refused = api.call("eddie", method, path, **theirs)
            missing = api.call("eddie", method, path, **none)
        else:
            refused = api.call("eddie", method, path.format(mine), **kwargs)
            missing = api.call("eddie", method, path.format(unknown), **kwargs)
        assert refused.status_code == 404, (method, path, refused.text)
        assert _without(mine, refused) == _without(unknown, missing)
    assert api.call("eddie", "GET", "/api/conversations").json() == []
    assert api.call("rita", "GET", f"/api/conversations/{mine}").json() == before
    too_long = api.call("rita", "GET", f"/api/conversations/{mine}x")
    assert too_long.status_code == 422  # refused, never cut to an id that exists


def test_a_conversation_is_renamed_exported_and_deleted(api: Api) -> None:
    first = api.ask("rita", "default", OTTER_QUESTION)
    cid = first["conversation_id"]
    abstained = api.ask("rita", "default", UNANSWERABLE, conversation_id=cid)
    assert abstained["abstained"] and abstained["closest"]

    renamed = api.call(
        "rita", "PATCH", f"/api/conversations/{cid}", json={"title": " Otter  census "}
    )
    assert renamed.status_code == 200 and renamed.json()["title"] == "Otter census"
    for title, status in (("", 400), ("   ", 400), ("x" * 201, 422)):
        bad = api.call("rita", "PATCH", f"/api/conversations/{cid}", json={"title": title})
        assert bad.status_code == status and "200" in bad.text, (title, bad.text)
    assert api.call("rita", "GET", "/api/conversations").json()[0]["title"] == "Otter census"

    md = api.call("rita", "GET", f"/api/conversations/{cid}/export?format=md")
    assert md.status_code == 200
    assert md.headers["content-type"] == "text/markdown; charset=utf-8"
    assert md.headers["content-disposition"] == (
        f'attachment; filename="docqa-conversation-{cid}.md"'
    )
    text = md.text
    assert text.startswith("# Otter census\n") and "Workspace: default" in text
    assert f"## 1. {OTTER_QUESTION}" in text and f"## 2. {UNANSWERABLE}" in text
    for citation in first["citations"]:
        assert f"> {citation['quote']}" in text
        assert f"characters {citation['start']}–{citation['end']}" in text
    answered, abstention = text.split(f"## 2. {UNANSWERABLE}")
    assert "not an answer" not in answered
    assert "No answer in the documents" in abstention
    for passage in abstained["closest"]:
        assert f"> {passage['quote']}" in abstention
    assert abstention.count("(not an answer)") == len(abstained["closest"])

    exported = api.call("rita", "GET", f"/api/conversations/{cid}/export?format=json")
    assert exported.headers["content-type"] == "application/json"
    assert exported.headers["content-disposition"].startswith("attachment;")
    shown = api.call("rita", "GET", f"/api/conversations/{cid}").json()
    assert json.loads(exported.text) == shown
    assert [t["answer"]["text"] for t in shown["turns"]] == [first["text"], abstained["text"]]

    unknown_format = api.call("rita", "GET", f"/api/conversations/{cid}/export?format=pdf")
    assert unknown_format.status_code == 422
    assert "'md'" in unknown_format.text and "'json'" in unknown_format.text

    deleted = api.call("rita", "DELETE", f"/api/conversations/{cid}")
    assert deleted.status_code == 200 and deleted.json() == {"deleted": cid}
    assert api.call("rita", "GET", f"/api/conversations/{cid}").status_code == 404
    assert api.call("rita", "GET", "/api/conversations").json() == []


def test_feedback_on_an_abstention_is_listed_for_editors_only(api: Api) -> None:
    reply = api.ask("rita", "default", UNANSWERABLE)
    assert reply["abstained"] and reply["closest"]
    up = api.call("rita", "POST", "/api/feedback", json={"turn_id": reply["turn_id"], "kind": "up"})
    assert up.status_code == 200, up.text
    assert up.json()["kind"] == "up" and up.json()["passage"] is None
    body = {"turn_id": reply["turn_id"], "kind": "passage", "passage": 2}
    passage = api.call("rita", "POST", "/api/feedback", json=body)
    assert passage.status_code == 200, passage.text
    assert passage.json()["passage"]["quote"] == reply["closest"][1]["quote"]
    assert passage.json()["question"] == UNANSWERABLE and passage.json()["workspace"] == "default"

    bad_bodies: list[tuple[dict[str, Any], int, str]] = [
        ({"turn_id": reply["turn_id"], "kind": "meh"}, 422, "'passage'"),
        ({"turn_id": reply["turn_id"], "kind": "passage"}, 422, "the number of the closest"),
        ({"turn_id": reply["turn_id"], "kind": "up", "passage": 1}, 422, "kind 'passage' only"),
        ({"turn_id": reply["turn_id"], "kind": "passage", "passage": 9}, 400, "no passage 9"),
    ]
    for bad, status, says in bad_bodies:
        refused = api.call("rita", "POST", "/api/feedback", json=bad)
        assert refused.status_code == status and says in refused.text, (bad, refused.text)
    down = {"turn_id": reply["turn_id"], "kind": "down"}
    theirs = api.call("eddie", "POST", "/api/feedback", json=down)
    assert theirs.status_code == 404  # eddie may not judge rita's answer

    listed = api.call("eddie", "GET", "/api/workspaces/default/feedback")
    assert listed.status_code == 200
    assert [(f["kind"], f["user"], f["turn_id"]) for f in listed.json()] == [
        ("up", "rita", reply["turn_id"]),
        ("passage", "rita", reply["turn_id"]),
    ]
    refused = api.call("rita", "GET", "/api/workspaces/default/feedback")
    assert refused.status_code == 403 and "editor" in refused.json()["detail"]
    assert api.call("eddie", "GET", "/api/workspaces/falcons/feedback").json() == []


def test_api_ask_keeps_the_conversation_unless_the_client_sends_its_own_history(
    api: Api,
) -> None:
    history = [[OTTER_QUESTION, "The river otters of Lake Vell were counted in 1998. [1]"]]
    own = api.call("rita", "POST", "/api/ask", json={"question": "How many?", "history": history})
    assert own.status_code == 200, own.text
    assert own.json()["conversation_id"] is None and own.json()["turn_id"] is None
    assert OTTER_QUESTION in own.json()["standalone_question"]  # the client's history was read
    first_of_own = api.call("rita", "POST", "/api/ask", json={"question": "Hi?", "history": []})
    assert first_of_own.json()["conversation_id"] is None
    assert api.call("rita", "GET", "/api/conversations").json() == []

    kept = api.call("rita", "POST", "/api/ask", json={"question": OTTER_QUESTION}).json()
    assert kept["citations"][0]["source"] == "otters.txt"
    cid = kept["conversation_id"]
    again = api.call(
        "rita", "POST", "/api/ask", json={"question": "How many?", "conversation_id": cid}
    ).json()
    assert again["conversation_id"] == cid and again["turn_id"] != kept["turn_id"]
    listed = api.call("rita", "GET", "/api/conversations").json()
    assert [(c["id"], c["workspace"], c["turns"]) for c in listed] == [(cid, "default", 2)]

    both = {"question": "How many?", "history": history, "conversation_id": cid}
    refused = api.call("rita", "POST", "/api/ask", json=both)
    assert refused.status_code == 422 and "not both" in refused.json()["detail"]
    too_long = api.call("rita", "POST", "/api/ask", json={"question": "otters " * 400})
    assert too_long.status_code == 400 and "limit is 2,000" in too_long.json()["detail"]
    long_id = api.call(
        "rita", "POST", "/api/ask", json={"question": "Hi?", "conversation_id": cid + "0"}
    )
    assert long_id.status_code == 422
    assert api.call("rita", "GET", "/api/conversations").json()[0]["turns"] == 2


def test_uploads_and_deletes_land_in_their_workspace_only(api: Api) -> None:
    before = {name: api.files(name) for name in ("default", "secret")}
    note = {"files": ("note.txt", NOTE.encode())}
    refused = api.call("rita", "POST", "/api/workspaces/falcons/documents", files=note)
    assert refused.status_code == 403 and "docqa workspace grant falcons rita" in refused.text
    assert api.files("falcons") == ["falcons.txt"]

    added = api.call("eddie", "POST", "/api/workspaces/falcons/documents", files=note)
    assert added.status_code == 200 and added.json() == {"accepted": ["note.txt"], "rejected": []}
    assert api.files("falcons") == ["falcons.txt", "note.txt"]
    assert {name: api.files(name) for name in before} == before
    listed = api.call("eddie", "GET", "/api/workspaces/falcons/documents").json()
    assert sorted(d["source"] for d in listed) == ["falcons.txt", "note.txt"]
    assert [d["source"] for d in api.call("eddie", "GET", "/api/documents").json()] == [
        "otters.txt"
    ]
    answer = api.ask("rita", "falcons", "Who was the lighthouse keeper of Cape Doran?")
    assert "Odile Moraga" in answer["text"]
    assert answer["citations"][0]["source"] == "note.txt"

    elsewhere = api.call("eddie", "DELETE", "/api/documents/note.txt")  # default has no note
    assert elsewhere.status_code == 404 and api.files("falcons") == ["falcons.txt", "note.txt"]
    gone = api.call("eddie", "DELETE", "/api/workspaces/falcons/documents/note.txt")
    assert gone.status_code == 200 and gone.json() == {"deleted": "note.txt"}
    assert api.files("falcons") == ["falcons.txt"]
    again = api.call("eddie", "DELETE", "/api/workspaces/falcons/documents/note.txt")
    assert again.status_code == 404
    audit = api.service.state.audit.latest(workspace="falcons", unscoped=False)
    assert [(e["user"], e["action"], e["file"], e["outcome"]) for e in audit][:3] == [
        ("rita", "upload", None, "refused: needs editor"),
        ("eddie", "upload", "note.txt", "added"),
        ("eddie", "delete", "note.txt", "deleted"),
    ]

    ledger = {"files": ("ledger.txt", b"The ledger of Varga was sealed in 1843.\n")}
    filled = api.call("ada", "POST", "/api/workspaces/uploads/documents", files=ledger)
    assert filled.status_code == 200 and filled.json()["accepted"] == ["ledger.txt"]
    assert api.files("uploads") == ["ledger.txt"]
    assert {name: api.files(name) for name in before} == before
    default_upload = api.call("ada", "POST", "/api/documents", files=note)
    assert default_upload.json()["accepted"] == ["note.txt"]
    assert api.files("default") == ["note.txt", "otters.txt"]
    assert api.files("falcons") == ["falcons.txt"] and api.files("uploads") == ["ledger.txt"]
