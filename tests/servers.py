"""Helpers for tests that start real docqa or server processes."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_serving(
    url: str, process: subprocess.Popen[bytes], name: str, seconds: float
) -> None:
    """Poll ``url`` until it answers 200; fail naming ``name`` if the process dies or times out."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert process.poll() is None, f"{name} exited during start-up"
        assert time.monotonic() < deadline, f"{name} did not start in {seconds:.0f} s"
        time.sleep(0.3)


def docqa_script() -> Path:
    """The installed `docqa` console script of the running interpreter's environment."""
    script = Path(sys.executable).parent / "docqa"
    assert script.is_file(), f"console script not installed at {script}"
    return script


def stop(process: subprocess.Popen[bytes]) -> None:
    """Terminate ``process``; kill it if it has not exited 10 seconds later."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(
    command: Sequence[str],
    ready_url: str,
    name: str,
    seconds: float,
    *,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run the server ``command`` for the length of the block, once ``ready_url`` answers.

    Its output goes to ``log`` (quoted when it fails to start) or nowhere; it is stopped at the
    end whatever happens.
    """
    with (log or Path(os.devnull)).open("wb") as out:
        process = subprocess.Popen(list(command), env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            try:
                wait_until_serving(ready_url, process, name, seconds)
            except AssertionError as exc:
                shown = log.read_text(errors="replace")[-3000:] if log else ""
                raise AssertionError(f"{exc}\n{shown}") from None
            yield process
        finally:
            stop(process)


def postgres_bindir() -> Path:
    """The folder of PostgreSQL's server programs (initdb, pg_ctl, postgres)."""
    candidates: list[Path] = []
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True, timeout=30
        )
        candidates.append(Path(found.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    # Debian keeps one folder per major version; the newest wins.
    candidates += sorted(
        (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
        key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else -1,
        reverse=True,
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "postgres").is_file():
            return folder
    raise AssertionError(
        "PostgreSQL's server programs (initdb, postgres) are not installed: run `make postgres`"
    )


def _utf8_c_locale() -> bool:
    """Whether the C.UTF-8 locale is installed (``locale -a`` spells it C.utf8)."""
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return False
    return any(name.lower() in ("c.utf8", "c.utf-8") for name in listed.stdout.split())


@contextmanager
def postgres_server(folder: Path) -> Iterator[str]:
    """A throwaway PostgreSQL server on a free loopback port, for the length of the block.

    Yields the SQLAlchemy URL of its empty ``docqa`` database, owned by the superuser ``docqa``
    (password authentication over TCP). The cluster lives under ``folder`` and is deleted at the
    end, whatever happens. PostgreSQL refuses to run as root, so under root it runs as the
    ``postgres`` system user that Debian's package creates; if that user cannot reach
    ``folder`` (pytest's 0700 folders under /tmp/pytest-of-root), the cluster goes to a fresh
    folder under /tmp instead. Durability is switched off: it is a test server.
    """
    import psycopg

    bindir = postgres_bindir()
    as_user: list[str] = []
    owner: pwd.struct_passwd | None = None
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise AssertionError(
                "PostgreSQL cannot run as root and there is no `postgres` system user to run it"
                " as: run `make postgres` (Debian's package creates the user)"
            ) from None
        as_user = ["runuser", "-u", "postgres", "--"]
        reachable = subprocess.run([*as_user, "test", "-x", str(folder)], check=False)
        parent = folder if reachable.returncode == 0 else Path("/tmp")
        base = Path(tempfile.mkdtemp(prefix="postgres-", dir=parent))
        base.chmod(0o755)
        os.chown(base, owner.pw_uid, owner.pw_gid)
    else:
        base = Path(tempfile.mkdtemp(prefix="postgres-", dir=folder))

    def own(path: Path) -> None:
        if owner is not None:
            os.chown(path, owner.pw_uid, owner.pw_gid)

    data = base / "data"
    log = base / "server.log"
    password = secrets.token_hex(16)
    port = free_port()
    process: subprocess.Popen[bytes] | None = None
    try:
        pwfile = base / "password"
        pwfile.write_text(password + "\n")
        pwfile.chmod(0o600)
        own(pwfile)
        locale = ["--locale=C.UTF-8"] if _utf8_c_locale() else ["--no-locale"]
        initdb = subprocess.run(
            [
                *as_user,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "docqa",
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                *locale,
                "--no-sync",
            ],
            cwd=base,
            capture_output=True,
            text=True,
            check=False,
        )
        pwfile.unlink()
        output = (initdb.stdout + initdb.stderr)[-3000:]
        assert initdb.returncode == 0, f"initdb failed:\n{output}"

        sockets = data / "sockets"
        sockets.mkdir(mode=0o700)
        own(sockets)
        # A Unix socket path is limited to 107 bytes; the tests connect over TCP anyway.
        socket_dir = str(sockets) if len(str(sockets)) <= 80 else ""
        command = [
            *as_user,
            str(bindir / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            socket_dir,
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
        ]
        with log.open("wb") as out:
            process = subprocess.Popen(command, cwd=base, stdout=out, stderr=subprocess.STDOUT)

        address = f"host=127.0.0.1 port={port} user=docqa password={password} dbname=postgres"
        deadline = time.monotonic() + 60
        while True:
            try:
                psycopg.connect(address, connect_timeout=5).close()
                break
            except psycopg.OperationalError as exc:
                if process.poll() is not None or time.monotonic() > deadline:
                    state = "exited" if process.poll() is not None else "did not start in 60 s"
                    shown = log.read_text(errors="replace")[-3000:]
                    raise AssertionError(f"PostgreSQL {state} ({exc}); its log:\n{shown}") from None
                time.sleep(0.2)
        with psycopg.connect(address, autocommit=True) as conn:
            conn.execute("CREATE DATABASE docqa")

        yield f"postgresql+psycopg://docqa:{password}@127.0.0.1:{port}/docqa"
    finally:
        try:
            if process is not None and process.poll() is None:
                subprocess.run(
                    [*as_user, str(bindir / "pg_ctl"), "stop", "-D", str(data), "-m", "fast"],
                    cwd=base,
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        except subprocess.TimeoutExpired:
            pass
        finally:
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    stop(process)
            shutil.rmtree(base, ignore_errors=True)


@contextmanager
def chroma_server(folder: Path) -> Iterator[str]:
    """`chroma run` on a free loopback port, its data in ``folder``; yields its URL."""
    chroma = Path(sys.executable).with_name("chroma")
    port = free_port()
    command = [
        str(chroma),
        "run",
        "--path",
        str(folder),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/api/v2/heartbeat", "chroma run", 60):
        yield url
