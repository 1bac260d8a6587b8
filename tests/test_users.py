"""Users in the database: slow salted hashes only, an owner-only file, clear refusals."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from sqlalchemy import select

from docqa.cli import main
from docqa.db.schema import UserRow
from docqa.settings import load_settings
from docqa.state import State
from docqa.users import User, UserError, UserStore, check_password, hash_password


def open_state(index: Path) -> State:
    return State.open(load_settings(index_dir=index), rounds=4)


@pytest.fixture
def store(tmp_path: Path) -> UserStore:
    return open_state(tmp_path / "index").users


def _stored_bytes(index: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(index.glob("docqa.db*")))


def _rows(store: UserStore) -> list[tuple[str, str, str]]:
    with store.db.transaction() as session:
        return [(r.name, r.role, r.password_hash) for r in session.scalars(select(UserRow))]


def test_passwords_are_stored_only_as_salted_hashes_in_an_owner_only_file(
    store: UserStore, tmp_path: Path
) -> None:
    store.add("ana", "correct horse battery", "editor")
    store.add("ben", "correct horse battery", "reader")
    index = tmp_path / "index"
    raw = _stored_bytes(index)
    assert b"correct horse" not in raw and b"battery" not in raw
    hashes = {h for _, _, h in _rows(store)}
    assert len(hashes) == 2 and all(h.startswith("$2b$") for h in hashes)  # two salts
    assert stat.S_IMODE((index / "docqa.db").stat().st_mode) == 0o600
    assert store.verify("ana", "correct horse battery") == "editor"
    assert store.verify("ana", "correct horse batterY") is None
    assert store.verify("nobody", "correct horse battery") is None
    assert store.users() == [User("ana", "editor"), User("ben", "reader")]


def test_long_passwords_count_whole() -> None:
    base = "x" * 80
    hashed = hash_password(base + "1", rounds=4)
    assert check_password(base + "1", hashed) and not check_password(base + "2", hashed)


def test_roles_include_the_ones_below() -> None:
    assert User("a", "admin").may("editor") and User("e", "editor").may("reader")
    assert not User("r", "reader").may("editor")


@pytest.mark.parametrize(
    ("name", "password", "role", "message"),
    [
        ("bad name", "long enough pw", "reader", "Invalid user name"),
        ("ok", "short", "reader", "too short"),
        ("ok", "long enough pw", "owner", "Unknown role"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(
    store: UserStore, name: str, password: str, role: str, message: str
) -> None:
    store.add("ana", "correct horse battery", "editor")
    before = _rows(store)
    with pytest.raises(UserError, match=message):
        store.add(name, password, role)
    with pytest.raises(UserError, match="already exists"):
        store.add("ana", "another long one", "reader")
    with pytest.raises(UserError, match="No user"):
        store.remove("zed")
    assert _rows(store) == before


def test_replace_and_remove(store: UserStore) -> None:
    store.add("ana", "correct horse battery", "reader")
    store.add("ana", "a brand new secret", "admin", replace=True)
    assert store.verify("ana", "a brand new secret") == "admin"
    assert store.verify("ana", "correct horse battery") is None
    token = store.create_token("ana")
    assert store.verify_token(token) == User("ana", "admin")
    store.remove("ana")
    assert store.users() == [] and not store.exists()
    assert store.verify_token(token) is None  # the user's tokens went with it


def test_cli_user_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["--index", str(index), "user", "add", "ana", "--role", "editor",
                 "--password-stdin"]) == 0  # fmt: skip
    assert "Added ana (editor)" in capsys.readouterr().out
    assert open_state(index).users.verify("ana", "a long passphrase") == "editor"
    assert main(["--index", str(index), "user", "list"]) == 0
    assert capsys.readouterr().out.strip() == "ana\teditor"
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["--index", str(index), "user", "add", "bob", "--password-stdin"]) == 2
    assert "too short" in capsys.readouterr().err
    assert main(["--index", str(index), "user", "remove", "ana"]) == 0
    assert main(["--index", str(index), "user", "remove", "ana"]) == 2
    assert "No user 'ana'" in capsys.readouterr().err


def test_the_login_check_is_awaited_and_slows_repeated_failures(store: UserStore) -> None:
    import asyncio
    import inspect

    from docqa.web.auth import LoginGuard, exposure_problem, is_loopback

    store.add("ana", "correct horse battery", "editor")
    guard = LoginGuard(store)
    # Gradio awaits `auth` only for a coroutine function: anything else would let a wrong
    # password through as a truthy, unawaited coroutine.
    assert inspect.iscoroutinefunction(guard.check)
    assert asyncio.run(guard.check("ana", "correct horse battery")) is True
    for _ in range(4):
        assert asyncio.run(guard.check("ana", "wrong password")) is False
    assert guard.delay("ana") == 1.0 and guard.delay("ben") == 0.0
    assert asyncio.run(guard.check("ana", "correct horse battery")) is True
    assert guard.delay("ana") == 0.0

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")  # noqa: S104
    store.remove("ana")  # no users left: a network address is refused
    problem = exposure_problem("0.0.0.0", store, no_auth=False)  # noqa: S104
    assert problem is not None and "docqa user add" in problem
    assert exposure_problem("0.0.0.0", store, no_auth=True) is None  # noqa: S104
    assert exposure_problem("127.0.0.1", store, no_auth=False) is None


def test_the_audit_log_keeps_one_entry_per_change_in_order(tmp_path: Path) -> None:
    log = open_state(tmp_path / "index").audit
    log.record("ana", "upload", "memo.md", "added", workspace="default")
    log.record(None, "delete", "memo.md", "deleted", workspace="legal")
    log.record("ben", "user add", "cy", "added (reader)")
    entries = log.latest(10)
    assert [(e["user"], e["action"], e["file"], e["outcome"]) for e in entries] == [
        ("ana", "upload", "memo.md", "added"),
        ("-", "delete", "memo.md", "deleted"),
        ("ben", "user add", "cy", "added (reader)"),
    ]
    assert log.latest(1) == entries[-1:]
    legal = log.latest(10, workspace="legal", unscoped=False)
    assert [e["action"] for e in legal] == ["delete"]
    default = log.latest(10, workspace="default")  # with the entries of no workspace
    assert [e["action"] for e in default] == ["upload", "user add"]


def test_user_commands_are_audited(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    index = tmp_path / "index"
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["--index", str(index), "user", "add", "ana", "--password-stdin"]) == 0
    assert main(["--index", str(index), "user", "remove", "zed"]) == 2
    capsys.readouterr()
    (added, failed) = open_state(index).audit.latest()
    assert (added["action"], added["file"], added["outcome"]) == (
        "user add",
        "ana",
        "added (reader)",
    )
    assert added["user"].startswith("cli")
    assert failed["action"] == "user remove" and failed["outcome"].startswith("failed: No user")
    assert b"passphrase" not in _stored_bytes(index)


def test_repeated_failed_sign_ins_from_one_client_are_slowed() -> None:
    import asyncio

    from docqa.web.auth import ClientThrottle

    statuses = {"good": 200, "bad": 400}
    waits: list[float] = []

    async def app(scope: dict[str, object], receive: object, send: object) -> None:
        await send({"type": "http.response.start", "status": statuses[str(scope["kind"])]})  # type: ignore[operator]

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async def noop(message: object) -> None:
        return None

    throttle = ClientThrottle(app, sleep=sleep)

    def attempt(kind: str, client: str, path: str = "/login", method: str = "POST") -> None:
        scope = {"type": "http", "method": method, "path": path, "client": (client, 1)}
        asyncio.run(throttle({**scope, "kind": kind}, None, noop))

    for _ in range(5):
        attempt("bad", "10.0.0.7")  # different names or not: the client is what counts
    assert waits == [0.5, 1.0]  # the 4th and 5th attempts waited
    attempt("bad", "10.0.0.8")
    assert waits == [0.5, 1.0]  # another client is not slowed
    attempt("good", "10.0.0.7")
    assert throttle.failures.get("10.0.0.7") == 0  # a success clears the count
    attempt("bad", "10.0.0.9", path="/config", method="GET")
    assert "10.0.0.9" not in throttle.failures  # only sign-ins count


def test_failed_sign_in_counts_expire_and_stay_bounded(tmp_path: Path) -> None:
    from docqa.web.auth import FailureCounts, LoginGuard

    now = [1000.0]
    counts = FailureCounts(ttl=60.0, limit=3, clock=lambda: now[0])
    for _ in range(4):
        counts.add("ana")
    assert counts.get("ana") == 4
    now[0] += 61.0  # quiet for longer than the memory
    assert counts.get("ana") == 0 and "ana" not in counts
    counts.add("ana")
    assert counts.get("ana") == 1  # counting starts again, not at 5
    for i in range(100):  # an attacker trying many names
        counts.add(f"name-{i}")
    assert len(counts) == 3  # memory is bounded
    assert "name-99" in counts and "ana" not in counts  # the one quiet longest went first
    guard = LoginGuard(open_state(tmp_path / "index").users, failures=counts)
    assert guard.delay("name-99") == 0.0  # one failure: still free


def test_every_answer_forbids_framing_by_other_sites() -> None:
    import asyncio

    from docqa.web.auth import FrameGuard

    sent: list[dict[str, object]] = []

    async def app(scope: object, receive: object, send: object) -> None:
        headers = [(b"content-type", b"text/html")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})  # type: ignore[operator]
        await send({"type": "http.response.body", "body": b"<html></html>"})  # type: ignore[operator]

    async def record(message: dict[str, object]) -> None:
        sent.append(message)

    asyncio.run(FrameGuard(app)({"type": "http", "path": "/"}, None, record))
    headers = dict(sent[0]["headers"])  # type: ignore[call-overload]
    assert headers[b"x-frame-options"] == b"SAMEORIGIN"
    assert headers[b"content-security-policy"] == b"frame-ancestors 'self'"
    assert headers[b"content-type"] == b"text/html" and sent[1]["body"] == b"<html></html>"
