"""The state database: migrations that match the tables, the one-time import of an earlier
version's files, one clear line when the database is unreachable, and no lost or damaged turn
when many write at once or a writer is killed (fast lane: a real SQLite database)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from docqa.db.database import Database
from docqa.db.opening import open_database
from docqa.db.schema import Base
from docqa.errors import DatabaseError
from docqa.settings import load_settings
from docqa.state import State
from docqa.users import hash_password
from servers import docqa_script, free_port


def _state(index: Path, **settings: object) -> State:
    return State.open(load_settings(index_dir=index, **settings), rounds=4)


def test_the_migrations_build_exactly_the_tables_the_code_declares(tmp_path: Path) -> None:
    db = _state(tmp_path / "index").db
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        mode = connection.execute(text("PRAGMA journal_mode")).scalar()
    assert differences == []
    assert mode == "wal"
    assert [w.name for w in _state(tmp_path / "index").workspaces.all()] == ["default"]


def test_an_earlier_users_file_and_audit_log_are_imported_once(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    users = {
        "ana": {"role": "editor", "hash": hash_password("a long passphrase", 4), "tokens": ""},
        "ben": {"role": "reader", "hash": hash_password("another passphrase", 4),
                "tokens": "ab" * 32},
    }  # fmt: skip
    (index / "users.json").write_text(
        json.dumps({"format": "docqa-users/1", "users": users}), encoding="utf-8"
    )
    lines = [
        {"time": "2026-01-02T03:04:05+00:00", "user": "ana", "action": "upload",
         "file": "memo.md", "outcome": "added"},
        {"time": "2026-01-02T03:05:00+00:00", "user": "ana", "action": "delete",
         "file": "memo.md", "outcome": "deleted"},
    ]  # fmt: skip
    (index / "audit.jsonl").write_text(
        "\n".join([json.dumps(lines[0]), "{damaged", json.dumps(lines[1])]) + "\n",
        encoding="utf-8",
    )
    state = _state(index)
    assert state.users.verify("ana", "a long passphrase") == "editor"
    assert state.users.verify("ben", "another passphrase") == "reader"
    assert [(e["action"], e["file"]) for e in state.audit.latest()] == [
        ("upload", "memo.md"),
        ("delete", "memo.md"),
    ]
    state.users.remove("ben")  # a change made since the import...
    again = _state(index)  # ...survives opening the database again: imported once only
    assert [u.name for u in again.users.users()] == ["ana"]
    assert len(again.audit.latest()) == 2
    assert (index / "users.json").exists()  # the old files are left where they were


def test_an_unreadable_users_file_stops_the_import_saying_how_to_fix_it(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    (index / "users.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DatabaseError, match="cannot be imported.*docqa user add"):
        _state(index)


def test_an_unreachable_database_is_one_line_naming_the_setting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"postgresql+psycopg://docqa:secret-pw@127.0.0.1:{free_port()}/docqa"
    with pytest.raises(DatabaseError) as failed:
        _state(tmp_path / "index", database_url=url)
    message = str(failed.value)
    assert "DOCQA_DATABASE_URL" in message and "\n" not in message
    assert "secret-pw" not in message  # the password is never shown
    with pytest.raises(DatabaseError, match="not a usable database URL"):
        Database("nonsense://")
    code = subprocess.run(
        [str(docqa_script()), "--index", str(tmp_path / "i"), "user", "list"],
        env={**os.environ, "DOCQA_DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert code.returncode != 0
    assert code.stderr.strip().count("\n") == 0 and "DOCQA_DATABASE_URL" in code.stderr


def test_sixteen_writers_at_once_lose_no_turn(tmp_path: Path) -> None:
    state = _state(tmp_path / "index")
    common = state.conversations.create("", "default", "common")
    errors: list[BaseException] = []

    def write(client: int) -> None:
        try:
            own = state.conversations.create("", "default", f"client {client}")
            for turn in range(10):
                for conversation in (own.id, common.id):
                    record = {"text": f"{client}/{turn}", "abstained": False}
                    state.conversations.append(conversation, "", f"q {client}/{turn}", record)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    turns = state.conversations.turns(common.id, "")
    assert len(turns) == 160 and [t.position for t in turns] == list(range(160))
    assert {t.question for t in turns} == {f"q {c}/{t}" for c in range(16) for t in range(10)}
    others = [c for c in state.conversations.of_user("") if c.id != common.id]
    assert len(others) == 16 and all(c.turns == 10 for c in others)


WRITER = """
import sys
from docqa.settings import load_settings
from docqa.state import State
state = State.open(load_settings(index_dir=sys.argv[1]), rounds=4)
conversation = state.conversations.create("", "default", "killed")
print(conversation.id, flush=True)
n = 0
while True:
    state.conversations.append(conversation.id, "", f"q{n}", {"text": "x" * 5000, "n": n})
    n += 1
"""


def test_a_writer_killed_mid_write_leaves_every_conversation_readable(tmp_path: Path) -> None:
    index = tmp_path / "index"
    earlier = _state(index)
    kept = earlier.conversations.create("", "default", "before")
    earlier.conversations.append(kept.id, "", "q", {"text": "kept", "abstained": False})
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(index)], stdout=subprocess.PIPE, text=True
    )
    assert writer.stdout is not None
    conversation = writer.stdout.readline().strip()
    time.sleep(1.5)  # hundreds of turns written
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    writer.stdout.close()
    state = _state(index)
    turns = state.conversations.turns(conversation, "")
    assert len(turns) > 10
    assert [t.position for t in turns] == list(range(len(turns)))
    assert [t.answer["n"] for t in turns] == list(range(len(turns)))  # whole turns only
    assert state.conversations.turns(kept.id, "")[0].answer["text"] == "kept"
    new = state.conversations.create("", "default", "after")  # and it is writable
    state.conversations.append(new.id, "", "q", {"text": "ok"})


def test_open_database_creates_the_index_folder_and_an_owner_only_file(tmp_path: Path) -> None:
    settings = load_settings(index_dir=tmp_path / "new" / "index")
    db = open_database(settings)
    assert (tmp_path / "new" / "index" / "docqa.db").stat().st_mode & 0o077 == 0
    db.close()
