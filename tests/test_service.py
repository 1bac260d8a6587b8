"""The service layer behind the page and the JSON API: roles, workspaces, waiting, locking, kept
conversations and the audit log, each done once (fast lane: fake embeddings, a real Chroma
store, a real SQLite database and real files)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from conftest import MakeQA
from docqa.api import DocQA
from docqa.service import (
    Forbidden,
    LibraryService,
    NotFound,
    NotReady,
    Reply,
    SignInRequired,
)
from docqa.state import State

FILES = {"otters.txt": "The river otters of Lake Vell were counted in 1998. There were 41.\n"}
NOTE = "The lighthouse keeper of Cape Doran was Ines Moraga.\n"


def state_of(qa: DocQA) -> State:
    return State.open(qa.settings, rounds=4)


def service_of(qa: DocQA, *, protected: bool = False, **options: float) -> LibraryService:
    return LibraryService(qa, state_of(qa), protected=protected, **options)


@pytest.fixture
def served(make_fake_qa: MakeQA) -> LibraryService:
    qa = make_fake_qa(FILES)
    service = service_of(qa, protected=True)
    service.state.users.add("rita", "reader password", "reader")
    service.state.users.add("eddie", "editor password", "editor")
    service.start_indexing().join()
    return service


def _upload(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "uploads" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _corpus(service: LibraryService) -> list[str]:
    return sorted(p.name for p in Path(service.qa.settings.corpus_dir).iterdir())


def _audit(service: LibraryService) -> list[tuple[str, str, str | None, str]]:
    entries = service.state.audit.latest()
    return [(e["user"], e["action"], e["file"], e["outcome"]) for e in entries]


def test_a_reader_asks_but_may_not_change_the_library(
    served: LibraryService, tmp_path: Path
) -> None:
    reply = served.ask("rita", "When were the river otters of Lake Vell counted?")
    assert isinstance(reply, Reply) and reply.shown.answer.citations
    assert [d.source for d in served.documents("rita")] == ["otters.txt"]
    before = _corpus(served)
    with pytest.raises(Forbidden, match="needs the role editor") as refused:
        served.add_files("rita", [_upload(tmp_path, "note.txt", NOTE)])
    assert refused.value.status == 403
    with pytest.raises(Forbidden):
        served.remove_document("rita", "otters.txt")
    assert _corpus(served) == before
    assert _audit(served) == [
        ("rita", "upload", None, "refused: needs editor"),
        ("rita", "delete", None, "refused: needs editor"),
    ]
    assert served.audit_entries("rita") == []  # only editors read the log


@pytest.mark.parametrize("who", [None, "nobody"])
def test_nobody_signed_in_is_refused_everything(served: LibraryService, who: str | None) -> None:
    with pytest.raises(SignInRequired) as refused:
        served.ask(who, "How many otters were there?")
    assert refused.value.status == 401
    with pytest.raises(SignInRequired):
        served.documents(who)
    assert not served.may(who, "reader")


def test_an_editor_adds_and_removes_and_each_outcome_is_audited(
    served: LibraryService, tmp_path: Path
) -> None:
    bad = _upload(tmp_path, "empty.txt", "   \n")
    result = served.add_files("eddie", [_upload(tmp_path, "note.txt", NOTE), bad])
    assert result.accepted == ["note.txt"] and [n for n, _ in result.rejected] == ["empty.txt"]
    answer = served.ask("rita", "Who was the lighthouse keeper of Cape Doran?").shown.answer
    assert "Ines Moraga" in answer.text and answer.citations[0].source == "note.txt"
    served.remove_document("eddie", "note.txt")
    with pytest.raises(NotFound) as missing:
        served.remove_document("eddie", "note.txt")
    assert missing.value.status == 404
    assert _corpus(served) == ["otters.txt"]
    outcomes = _audit(served)
    assert outcomes[0] == ("eddie", "upload", "note.txt", "added")
    assert outcomes[1][:3] == ("eddie", "upload", "empty.txt")
    assert outcomes[1][3].startswith("rejected: ")
    assert outcomes[2] == ("eddie", "delete", "note.txt", "deleted")
    assert outcomes[3][:3] == ("eddie", "delete", "note.txt")
    assert outcomes[3][3].startswith("failed: ")
    assert served.audit_entries("eddie")[-1]["outcome"] == outcomes[3][3]


def test_questions_wait_for_indexing_and_say_so_when_it_takes_too_long(
    make_fake_qa: MakeQA,
) -> None:
    service = service_of(make_fake_qa(FILES), wait_seconds=0.05)
    assert service.default.status_kind == "busy"
    with pytest.raises(NotReady, match="Indexing") as busy:
        service.ask(None, "How many otters were there?")
    assert busy.value.status == 503
    assert service.documents(None) == []  # nothing listed before the index is there
    service.start_indexing().join()
    assert service.default.status_kind == "ready"
    assert service.default.status.startswith("Ready. Index:")
    reply = service.ask(None, "When were the river otters of Lake Vell counted?")
    assert reply.shown.answer.citations


def test_without_users_everyone_may_do_everything(make_fake_qa: MakeQA) -> None:
    service = service_of(make_fake_qa(FILES))
    service.mark_ready()
    assert service.authorize(None, "admin") is None
    assert service.may(None, "editor")


def test_a_write_waits_for_the_questions_in_flight(served: LibraryService, tmp_path: Path) -> None:
    order: list[str] = []
    note = _upload(tmp_path, "n.txt", NOTE)

    def write() -> None:
        served.add_files("eddie", [note])
        order.append("write")

    with served.default.lock.reading():  # a question in flight
        writer = threading.Thread(target=write)
        writer.start()
        writer.join(timeout=0.3)
        order.append("question done")
    writer.join(timeout=60)
    assert order == ["question done", "write"]


def test_the_service_needs_neither_gradio_nor_fastapi() -> None:
    script = (
        "import sys, docqa.service; "
        "bad = [m for m in ('gradio', 'fastapi', 'starlette') if m in sys.modules]; "
        "assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
