"""The throwaway PostgreSQL server of tests/servers.py: it starts from Debian's package (as the
`postgres` user under root), keeps what one SQLAlchemy connection writes for the next one, and is
gone — port closed, files removed — once the block ends, so the database tests stand on a real
server and leave nothing running behind them."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from servers import postgres_server

pytestmark = pytest.mark.slow


def test_postgres_server_serves_sqlalchemy_and_stops(tmp_path: Path) -> None:
    started = time.monotonic()
    with postgres_server(tmp_path) as url:
        startup = time.monotonic() - started
        engine = create_engine(url)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE notes (id integer PRIMARY KEY, body text)"))
                conn.execute(text("INSERT INTO notes VALUES (1, 'héllo wörld')"))
            with engine.connect() as conn:
                assert conn.execute(text("SELECT body FROM notes WHERE id = 1")).scalar_one() == (
                    "héllo wörld"
                )
                assert conn.execute(text("SHOW server_encoding")).scalar_one() == "UTF8"
                assert conn.execute(text("SELECT current_database()")).scalar_one() == "docqa"
        finally:
            engine.dispose()
        port = make_url(url).port
        assert port is not None
    print(f"PostgreSQL started in {startup:.1f} s")

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 2):
        pass
    assert list(tmp_path.iterdir()) == []
