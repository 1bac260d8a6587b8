"""Workspaces and kept conversations in the service layer: who sees which workspace, that a
question never retrieves another workspace's passages, and that conversations are each user's
own (fast lane: fake embeddings, real Chroma stores, a real SQLite database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MakeQA, write_corpus
from docqa.service import ConversationFull, Forbidden, LibraryService, NotFound
from docqa.state import State
from docqa.workspaces import WorkspaceError, WorkspaceStore, check_workspace_name

OTTERS = {"otters.txt": "The river otters of Lake Vell were counted in 1998. There were 41.\n"}
FALCONS = {"falcons.txt": "The falcon aviary of Brussels is kept by Ines Duarte since 2011.\n"}


@pytest.fixture
def served(make_fake_qa: MakeQA, tmp_path: Path) -> LibraryService:
    qa = make_fake_qa(OTTERS)
    state = State.open(qa.settings, rounds=4)
    state.users.add("rita", "reader password", "reader")
    state.users.add("eddie", "editor password", "editor")
    state.users.add("ada", "admin password", "admin")
    state.workspaces.create("falcons", write_corpus(tmp_path / "falcons", FALCONS))
    state.workspaces.create("secret", write_corpus(tmp_path / "secret", FALCONS))
    state.workspaces.grant("falcons", "rita", "reader")
    service = LibraryService(qa, state, protected=True)
    service.start_indexing().join()
    return service


def _names(service: LibraryService, who: str) -> list[str]:
    return [w.name for w, _ in service.workspaces(who)]


def test_each_user_sees_default_and_the_workspaces_granted_to_them(
    served: LibraryService,
) -> None:
    assert _names(served, "ada") == ["default", "falcons", "secret"]
    assert _names(served, "rita") == ["default", "falcons"]
    assert _names(served, "eddie") == ["default"]
    assert dict((w.name, r) for w, r in served.workspaces("rita")) == {
        "default": "reader",
        "falcons": "reader",
    }


def test_a_question_retrieves_only_its_own_workspaces_passages(served: LibraryService) -> None:
    question = "Who keeps the falcon aviary of Brussels?"
    answer = served.ask("rita", question, workspace="falcons").shown.answer
    assert answer.citations and {c.source for c in answer.citations} == {"falcons.txt"}
    assert {r.chunk.source for r in answer.retrieved} == {"falcons.txt"}
    elsewhere = served.ask("rita", question).shown.answer  # default holds only the otters
    assert {r.chunk.source for r in elsewhere.retrieved} <= {"otters.txt"}


def test_an_invisible_workspace_is_not_found_exactly_as_an_unknown_one(
    served: LibraryService,
) -> None:
    messages = []
    for workspace in ("secret", "no-such-place"):
        with pytest.raises(NotFound) as refused:
            served.ask("rita", "Who keeps the aviary?", workspace=workspace)
        messages.append(str(refused.value).replace(workspace, "X"))
        with pytest.raises(NotFound):
            served.documents("rita", workspace)
    assert messages[0] == messages[1]  # nothing tells the two apart
    with pytest.raises(Forbidden, match="docqa workspace grant falcons rita --role editor"):
        served.remove_document("rita", "falcons.txt", "falcons")
    assert [d.source for d in served.documents("ada", "secret")] == ["falcons.txt"]


def test_a_kept_conversation_continues_from_the_store_and_is_its_owners_alone(
    served: LibraryService,
) -> None:
    first = served.ask("rita", "When were the river otters of Lake Vell counted?")
    assert first.conversation_id and first.turn_id
    second = served.ask("rita", "How many were there?", conversation_id=first.conversation_id)
    assert second.conversation_id == first.conversation_id
    info, turns = served.conversation("rita", first.conversation_id)
    assert [t.question for t in turns] == [
        "When were the river otters of Lake Vell counted?",
        "How many were there?",
    ]
    assert info.title == "When were the river otters of Lake Vell counted?"
    assert turns[0].answer["citations"] == [
        c.to_dict() for c in first.shown.answer.citations
    ]  # kept as first shown
    for attempt in (
        lambda: served.conversation("eddie", first.conversation_id or ""),
        lambda: served.rename_conversation("eddie", first.conversation_id or "", "mine"),
        lambda: served.delete_conversation("eddie", first.conversation_id or ""),
        lambda: served.ask("eddie", "And then?", conversation_id=first.conversation_id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert served.conversations("eddie") == []
    with pytest.raises(NotFound, match="another workspace"):
        served.ask(
            "rita", "Who keeps it?", workspace="falcons", conversation_id=first.conversation_id
        )
    served.rename_conversation("rita", first.conversation_id, "  Otter   census ")
    assert [c.title for c in served.conversations("rita")] == ["Otter census"]
    served.delete_conversation("rita", first.conversation_id)
    assert served.conversations("rita") == []


def test_a_revoked_user_loses_the_workspace_and_its_conversations(
    served: LibraryService,
) -> None:
    reply = served.ask("rita", "Who keeps the falcon aviary?", workspace="falcons")
    assert [c.workspace for c in served.conversations("rita")] == ["falcons"]
    served.state.workspaces.revoke("falcons", "rita")
    assert served.conversations("rita") == []
    with pytest.raises(NotFound):
        served.conversation("rita", reply.conversation_id or "")


def test_feedback_is_kept_with_the_answer_and_read_by_editors(served: LibraryService) -> None:
    reply = served.ask("eddie", "When were the river otters of Lake Vell counted?")
    assert reply.turn_id is not None
    kept = served.give_feedback("eddie", reply.turn_id, "up")
    assert kept.question == "When were the river otters of Lake Vell counted?"
    assert kept.answer["citations"]
    with pytest.raises(NotFound):
        served.give_feedback("rita", reply.turn_id, "down")  # not rita's answer
    with pytest.raises(Forbidden):
        served.feedback("rita")
    assert [f.kind for f in served.feedback("eddie")] == ["up"]
    served.give_feedback("eddie", reply.turn_id, "down")  # a change of mind replaces it
    served.give_feedback("eddie", reply.turn_id, "passage", 1)
    served.give_feedback("eddie", reply.turn_id, "passage", 1)  # twice counts once
    assert [f.kind for f in served.feedback("eddie")] == ["down", "passage"]
    served.give_feedback("eddie", reply.turn_id, "up")
    exported = served.state.feedback.questions("default")
    assert exported[0]["answerable"] is True and exported[0]["evidence"]


def test_workspace_names_and_commands_are_checked(served: LibraryService) -> None:
    store: WorkspaceStore = served.state.workspaces
    for bad in ("", "Upper", "-dash", "a" * 41, "dot.ted", "sp ace"):
        with pytest.raises(WorkspaceError, match="Invalid workspace name"):
            check_workspace_name(bad)
    with pytest.raises(WorkspaceError, match="already exists"):
        store.create("falcons")
    with pytest.raises(WorkspaceError, match="does not exist"):
        store.create("ghost", Path("/nonexistent/folder"))
    with pytest.raises(WorkspaceError, match="cannot be removed"):
        store.remove("default")
    with pytest.raises(WorkspaceError, match="reader or editor"):
        store.grant("falcons", "rita", "admin")
    with pytest.raises(WorkspaceError, match="No user"):
        store.grant("falcons", "zed", "reader")
    with pytest.raises(WorkspaceError, match="holds no role"):
        store.revoke("falcons", "eddie")
    assert store.grants("falcons") == {"rita": "reader"}


def test_a_full_conversation_is_refused_with_the_fix(
    make_fake_qa: MakeQA,
) -> None:
    qa = make_fake_qa(OTTERS, max_history_turns=2)
    service = LibraryService(qa, State.open(qa.settings, rounds=4), protected=False)
    service.start_indexing().join()
    first = service.ask(None, "When were the river otters of Lake Vell counted?")
    service.ask(None, "How many were there?", conversation_id=first.conversation_id)
    with pytest.raises(ConversationFull, match="start a new conversation") as full:
        service.ask(None, "And in 1999?", conversation_id=first.conversation_id)
    assert full.value.status == 409
    assert len(service.conversation(None, first.conversation_id or "")[1]) == 2
