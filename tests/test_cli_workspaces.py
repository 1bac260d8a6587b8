"""``docqa workspace ...``, ``docqa feedback export`` and ``--workspace`` on ingest and ask, run
in-process (fast lane: the fake embeddings stand in for the model, the database is real)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import docqa.api
from conftest import write_corpus
from docqa.cli import EXIT_ERROR, main
from docqa.errors import DocQAError
from docqa.evaluation.run import load_questions
from docqa.layout import IndexPaths
from docqa.library import remove_workspace_index
from docqa.settings import Settings, load_settings
from docqa.state import State
from fakes import HashingEmbeddings

OTTERS = {"otters.txt": "The river otters of Lake Vell were counted in 1998. There were 41.\n"}
FALCONS = {"falcons.txt": "The falcon aviary of Brussels is kept by Ines Duarte since 2011.\n"}
FALCON_QUESTION = "Who keeps the falcon aviary of Brussels?"


@pytest.fixture
def dirs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_embedder: HashingEmbeddings
) -> dict[str, Path]:
    """The default corpus (otters), an index folder, and a corpus folder for a workspace
    (falcons); the CLI gets the fake embeddings instead of the model."""
    monkeypatch.setattr(docqa.api, "load_embedder", lambda *args, **kwargs: fake_embedder)
    monkeypatch.setenv("DOCQA_ABSTAIN_THRESHOLD", "0")  # always answer: sources get printed
    found = {
        "corpus": write_corpus(tmp_path / "corpus", OTTERS),
        "index": tmp_path / "index",
        "falcons": write_corpus(tmp_path / "falcons", FALCONS),
    }
    # The default corpus comes from the environment: --corpus with --workspace is refused.
    monkeypatch.setenv("DOCQA_CORPUS_DIR", str(found["corpus"]))
    return found


def docqa_cli(dirs: dict[str, Path], *args: str) -> int:
    """``docqa --index INDEX ARGS``, in-process."""
    return main(["--index", str(dirs["index"]), *args])


def settings_of(dirs: dict[str, Path]) -> Settings:
    return load_settings(index_dir=dirs["index"], corpus_dir=dirs["corpus"])


def state_of(dirs: dict[str, Path]) -> State:
    return State.open(settings_of(dirs), rounds=4)


def error_line(err: str) -> str:
    """The one line an error prints (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("docqa: error: "), err
    return lines[0]


def audit_of(dirs: dict[str, Path], workspace: str) -> list[tuple[str, str | None, str]]:
    """``(action, target, outcome)`` of each audit entry of ``workspace``, oldest first."""
    entries = state_of(dirs).audit.latest(100, workspace=workspace, unscoped=False)
    return [(e["action"], e["file"], e["outcome"]) for e in entries]


def test_create_list_grant_revoke_remove_round_trip(dirs, capsys) -> None:
    state_of(dirs).users.add("ana", "ana's password", "reader")

    assert docqa_cli(dirs, "workspace", "create", "legal", "--corpus", str(dirs["falcons"])) == 0
    out = capsys.readouterr().out
    assert f"Its documents live in {dirs['falcons']}" in out
    assert "docqa ingest --workspace legal" in out
    assert docqa_cli(dirs, "workspace", "create", "notes") == 0
    uploads = IndexPaths(dirs["index"]).workspace("notes").workspace_corpus
    assert f"Its documents live in its own folder {uploads}" in capsys.readouterr().out
    assert uploads.is_dir()  # ready for documents to be copied in

    assert docqa_cli(dirs, "workspace", "grant", "legal", "ana", "--role", "editor") == 0
    assert state_of(dirs).workspaces.grants("legal") == {"ana": "editor"}
    capsys.readouterr()

    assert docqa_cli(dirs, "workspace", "list") == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        ["default", str(dirs["corpus"]), "not indexed", "no grants"],
        ["legal", str(dirs["falcons"]), "not indexed", "ana:editor"],
        ["notes", str(uploads), "not indexed", "no grants"],
    ]

    assert docqa_cli(dirs, "workspace", "revoke", "legal", "ana") == 0
    assert state_of(dirs).workspaces.grants("legal") == {}
    assert docqa_cli(dirs, "workspace", "remove", "notes", "--yes") == 0
    assert "Removed workspace notes" in capsys.readouterr().out
    assert [w.name for w in state_of(dirs).workspaces.all()] == ["default", "legal"]
    assert not IndexPaths(dirs["index"]).workspace("notes").root.exists()


def test_every_change_and_refusal_goes_to_the_audit_log(dirs, capsys) -> None:
    state_of(dirs).users.add("ana", "ana's password", "reader")
    docqa_cli(dirs, "workspace", "create", "legal")
    docqa_cli(dirs, "workspace", "create", "legal")
    docqa_cli(dirs, "workspace", "grant", "legal", "ana", "--role", "reader")
    docqa_cli(dirs, "workspace", "grant", "legal", "bob", "--role", "reader")
    docqa_cli(dirs, "workspace", "revoke", "legal", "ana")
    docqa_cli(dirs, "workspace", "remove", "legal")
    docqa_cli(dirs, "workspace", "remove", "legal", "--yes")
    capsys.readouterr()

    entries = audit_of(dirs, "legal")
    assert [(action, target) for action, target, _ in entries] == [
        ("workspace create", "legal"),
        ("workspace create", "legal"),
        ("workspace grant", "ana"),
        ("workspace grant", "bob"),
        ("workspace revoke", "ana"),
        ("workspace remove", "legal"),
        ("workspace remove", "legal"),
    ]
    outcomes = [outcome for _, _, outcome in entries]
    assert outcomes[0].startswith("created")
    assert outcomes[1].startswith("failed: Workspace 'legal' already exists")
    assert outcomes[2:5] == [
        "granted reader",
        "failed: No user 'bob'; add it first with 'docqa user add'.",
        "revoked",
    ]
    assert outcomes[5:] == ["refused: --yes not given", "removed"]
    assert all(e["user"].startswith("cli") for e in state_of(dirs).audit.latest(100))


def test_names_are_checked_and_default_cannot_be_removed(dirs, capsys) -> None:
    assert docqa_cli(dirs, "workspace", "create", "Legal Team") == EXIT_ERROR
    assert "Invalid workspace name 'Legal Team'" in error_line(capsys.readouterr().err)

    for yes in ([], ["--yes"]):
        assert docqa_cli(dirs, "workspace", "remove", "default", *yes) == EXIT_ERROR
        line = error_line(capsys.readouterr().err)
        assert "The default workspace cannot be removed." in line

    assert docqa_cli(dirs, "workspace", "remove", "nowhere", "--yes") == EXIT_ERROR
    assert "'docqa workspace list'" in error_line(capsys.readouterr().err)
    assert [w.name for w in state_of(dirs).workspaces.all()] == ["default"]
    assert audit_of(dirs, "default")[-1][2] == "failed: The default workspace cannot be removed."


def test_remove_without_yes_says_what_it_would_delete_and_changes_nothing(dirs, capsys) -> None:
    state_of(dirs).users.add("ana", "ana's password", "reader")
    docqa_cli(dirs, "workspace", "create", "legal", "--corpus", str(dirs["falcons"]))
    docqa_cli(dirs, "workspace", "grant", "legal", "ana", "--role", "reader")
    assert docqa_cli(dirs, "ingest", "--workspace", "legal") == 0
    root = IndexPaths(dirs["index"]).workspace("legal").root
    before = sorted(p.relative_to(root) for p in root.rglob("*"))
    capsys.readouterr()

    assert docqa_cli(dirs, "workspace", "remove", "legal") == EXIT_ERROR

    line = error_line(capsys.readouterr().err)
    assert "--yes" in line
    assert f"index folder {root}" in line
    assert f"corpus folder {dirs['falcons']} is kept" in line
    state = state_of(dirs)
    assert state.workspaces.get("legal") is not None
    assert state.workspaces.grants("legal") == {"ana": "reader"}
    assert sorted(p.relative_to(root) for p in root.rglob("*")) == before


def _answered(question: str) -> dict[str, Any]:
    """An answer record as the web page keeps it, citing the falcons document."""
    quote = FALCONS["falcons.txt"].strip()
    return {
        "question": question,
        "text": f"{quote} [1]",
        "abstained": False,
        "standalone_question": question,
        "citations": [
            {"number": 1, "doc_id": "falcons.txt", "quote": quote, "answer_phrase": "Ines Duarte"}
        ],
        "closest": [],
    }


def _abstained(question: str) -> dict[str, Any]:
    """An abstention record with one closest passage."""
    quote = FALCONS["falcons.txt"].strip()
    return {
        "question": question,
        "text": "The documents do not contain an answer.",
        "abstained": True,
        "standalone_question": question,
        "citations": [],
        "closest": [{"number": 1, "doc_id": "falcons.txt", "quote": quote}],
    }


def _give_feedback(dirs: dict[str, Path], workspace: str) -> None:
    """Four pieces of feedback in ``workspace``, three of which teach a question."""
    state = state_of(dirs)
    conversation = state.conversations.create("", workspace, FALCON_QUESTION)
    turns = [
        state.conversations.append(conversation.id, "", q, record)
        for q, record in [
            (FALCON_QUESTION, _answered(FALCON_QUESTION)),
            ("Since when is the aviary kept?", _abstained("Since when is the aviary kept?")),
            ("How many otters?", _abstained("How many otters?")),
        ]
    ]
    state.feedback.add("", workspace, turns[0], "up")
    state.feedback.add("", workspace, turns[1], "passage", passage_number=1)
    state.feedback.add("", workspace, turns[2], "up")
    state.feedback.add("", workspace, turns[1], "down")  # never exported


def test_feedback_export_writes_questions_docqa_eval_reads(dirs, capsys, tmp_path) -> None:
    docqa_cli(dirs, "workspace", "create", "legal", "--corpus", str(dirs["falcons"]))
    _give_feedback(dirs, "legal")
    capsys.readouterr()
    out = tmp_path / "feedback.jsonl"

    assert docqa_cli(dirs, "feedback", "export", "--workspace", "legal", "--out", str(out)) == 0

    err = capsys.readouterr().err
    assert "Exported 3 question(s)" in err
    assert f"docqa eval --docs {dirs['falcons']} --questions {out}" in err
    questions = load_questions(out)
    assert [q.qtype for q in questions] == [
        "feedback-answer",
        "feedback-passage",
        "feedback-unanswerable",
    ]
    assert questions[0].turns == (FALCON_QUESTION,)
    assert questions[0].key_phrases == ("Ines Duarte",)
    assert [q.answerable for q in questions] == [True, True, False]

    assert docqa_cli(dirs, "feedback", "export", "--workspace", "legal") == 0  # to stdout
    captured = capsys.readouterr()
    assert captured.out == out.read_text(encoding="utf-8")
    assert "--out FILE" in captured.err and "--questions FILE" in captured.err


def test_feedback_export_of_an_unknown_or_quiet_workspace(dirs, capsys) -> None:
    assert docqa_cli(dirs, "feedback", "export", "--workspace", "nowhere") == EXIT_ERROR
    line = error_line(capsys.readouterr().err)
    assert "No workspace 'nowhere'" in line and "'docqa workspace list'" in line

    assert docqa_cli(dirs, "feedback", "export", "--workspace", "default") == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "Exported 0 question(s)" in captured.err


def test_ingest_and_ask_in_a_workspace_see_only_its_documents(dirs, capsys) -> None:
    docqa_cli(dirs, "workspace", "create", "birds", "--corpus", str(dirs["falcons"]))
    capsys.readouterr()

    assert docqa_cli(dirs, "ingest", "--workspace", "birds") == 0
    assert "added 1," in capsys.readouterr().out
    assert docqa_cli(dirs, "ask", "--workspace", "birds", FALCON_QUESTION) == 0
    out = capsys.readouterr().out
    assert "(falcons.txt, chars " in out
    assert "Ines Duarte" in out

    assert docqa_cli(dirs, "ask", FALCON_QUESTION) == 0  # the default workspace
    captured = capsys.readouterr()
    assert "Building the index" in captured.err  # its own index, built on first use
    assert "falcons.txt" not in captured.out
    assert "(otters.txt, chars " in captured.out

    docqa_cli(dirs, "workspace", "list")
    listed = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[2] for line in listed] == ["1 document", "1 document"]


def test_ask_in_an_unknown_workspace_or_with_a_corpus_is_a_clear_error(dirs, capsys) -> None:
    assert docqa_cli(dirs, "ask", "--workspace", "nowhere", FALCON_QUESTION) == EXIT_ERROR
    assert "'docqa workspace list'" in error_line(capsys.readouterr().err)
    assert docqa_cli(dirs, "ingest", "--workspace", "Bad Name") == EXIT_ERROR
    assert "Invalid workspace name" in error_line(capsys.readouterr().err)

    docqa_cli(dirs, "workspace", "create", "birds", "--corpus", str(dirs["falcons"]))
    capsys.readouterr()
    code = docqa_cli(dirs, "ingest", "--workspace", "birds", "--corpus", str(dirs["falcons"]))
    assert code == EXIT_ERROR
    assert "Leave out --corpus" in error_line(capsys.readouterr().err)


def test_remove_deletes_the_index_and_uploads_but_keeps_a_given_corpus(dirs, capsys) -> None:
    docqa_cli(dirs, "workspace", "create", "birds", "--corpus", str(dirs["falcons"]))
    docqa_cli(dirs, "workspace", "create", "notes")
    paths = IndexPaths(dirs["index"])
    write_corpus(paths.workspace("notes").workspace_corpus, OTTERS)  # as an upload would
    for name in ("birds", "notes"):
        assert docqa_cli(dirs, "ingest", "--workspace", name) == 0
        assert paths.workspace(name).manifest.is_file()
    _give_feedback(dirs, "birds")
    capsys.readouterr()

    assert docqa_cli(dirs, "workspace", "remove", "birds", "--yes") == 0
    out = capsys.readouterr().out
    assert f"deleted its index folder {paths.workspace('birds').root}" in out
    assert f"kept its corpus folder {dirs['falcons']}" in out
    assert not paths.workspace("birds").root.exists()
    assert (dirs["falcons"] / "falcons.txt").read_text(encoding="utf-8") == FALCONS["falcons.txt"]
    state = state_of(dirs)
    assert state.feedback.of_workspace("birds") == []
    assert state.conversations.of_user("", "birds") == []

    assert docqa_cli(dirs, "workspace", "remove", "notes", "--yes") == 0
    out = capsys.readouterr().out
    assert f"deleted its uploaded documents {paths.workspace('notes').workspace_corpus}" in out
    assert not paths.workspace("notes").root.exists()
    assert paths.manifest.parent.is_dir() and paths.database.is_file()  # the main index stays
    assert [w.name for w in state_of(dirs).workspaces.all()] == ["default"]


def test_removing_an_index_refuses_the_main_index(dirs) -> None:
    state_of(dirs)  # the main index folder now holds the state database
    with pytest.raises(DocQAError, match="not one workspace's index"):
        remove_workspace_index(settings_of(dirs))
    assert IndexPaths(dirs["index"]).database.is_file()


def test_chat_in_a_workspace_answers_from_its_documents(dirs, capsys, monkeypatch) -> None:
    docqa_cli(dirs, "workspace", "create", "birds", "--corpus", str(dirs["falcons"]))
    typed = iter([FALCON_QUESTION, ""])
    monkeypatch.setattr("builtins.input", lambda _prompt="": next(typed))
    capsys.readouterr()

    assert docqa_cli(dirs, "chat", "--workspace", "birds") == 0

    out = capsys.readouterr().out
    assert "(falcons.txt, chars " in out
    assert "otters.txt" not in out


def test_ingest_of_a_workspace_without_documents_says_how_to_add_them(dirs, capsys) -> None:
    state_of(dirs).workspaces.create("empty")  # as the web page does: no folder until uploads

    assert docqa_cli(dirs, "ingest", "--workspace", "empty") == EXIT_ERROR

    line = error_line(capsys.readouterr().err)
    assert str(IndexPaths(dirs["index"]).workspace("empty").workspace_corpus) in line
    assert "upload documents to the workspace" in line and "--corpus" not in line
