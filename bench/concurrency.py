"""16 clients asking at once through the web UI's ``/ask`` endpoint, on loopback only.

The UI (``python app.py``) runs as its own process over the ClapNQ index; each client is a
``gradio_client.Client`` in its own thread, asking ClapNQ questions in turn until the time is up
or the request budget is spent. With ``auth`` the server has a users file and every client signs
in (``python -m bench.concurrency --auth``).
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import OFFLINE_ENV, ROOT, clapnq_questions, log, ms_stats, peak_rss_mb

CLIENTS = 16
SECONDS = 60.0
MAX_REQUESTS = 20_000  # a bound on count as well as time


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


BENCH_USER = ("bench", "bench password 16")


def _wait_for(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            # The page itself: with sign-in on, /config answers 401 until one signs in.
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.3)
    raise RuntimeError(f"the UI did not start at {url}")


def _cpu_seconds(pid: int | None = None) -> float:
    """CPU time (user + system) of a process so far: another one's from /proc, or this one's."""
    if pid is None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _client_loop(
    url: str,
    questions: list[str],
    offset: int,
    deadline: float,
    budget: threading.Semaphore,
    latencies: list[float],
    errors: list[str],
    auth: tuple[str, str] | None = None,
) -> None:
    from gradio_client import Client

    client = Client(url, auth=auth, verbose=False)
    i = offset
    try:
        while time.monotonic() < deadline and budget.acquire(blocking=False):
            question = questions[i % len(questions)]
            i += 1
            started = time.perf_counter()
            try:
                result = client.predict(question, api_name="/ask")
                if not isinstance(result, dict) or "text" not in result:
                    raise ValueError(f"unexpected reply {str(result)[:80]!r}")
                latencies.append(time.perf_counter() - started)
            except Exception as exc:  # every failure counts, whatever its type
                errors.append(f"{type(exc).__name__}: {str(exc)[:120]}")
    finally:
        client.close()


def run(
    corpus: Path,
    index: Path,
    clients: int = CLIENTS,
    seconds: float = SECONDS,
    auth: bool = False,
) -> dict[str, Any]:
    """Serve ``index`` through the UI and hammer ``/ask`` with ``clients`` threads (signed in
    as a reader, with ``auth``)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    logfile = (index.parent / f"ui-bench-{port}.log").open("wb")
    env = {**os.environ, **OFFLINE_ENV}
    credentials = None
    if auth:
        from docqa.settings import load_settings
        from docqa.state import State

        database = f"sqlite:///{index.parent / f'bench-users-{port}.db'}"
        State.open(load_settings(index_dir=index, database_url=database)).users.add(
            *BENCH_USER, "reader"
        )
        env["DOCQA_DATABASE_URL"] = database
        credentials = BENCH_USER
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "app.py"), "--port", str(port)]
        + ["--corpus", str(corpus), "--index", str(index)],
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for(url, proc, 120)
        questions = [q["question"] for q in clapnq_questions()]
        from gradio_client import Client

        warm = Client(url, auth=credentials, verbose=False)
        warm.predict(questions[0], api_name="/ask")  # waits for start-up indexing to finish
        warm.close()
        log(f"{clients} clients for {seconds:.0f} s through /ask")
        latencies: list[float] = []
        errors: list[str] = []
        budget = threading.Semaphore(MAX_REQUESTS)
        server_cpu, clients_cpu = _cpu_seconds(proc.pid), _cpu_seconds()
        started = time.monotonic()
        deadline = started + seconds
        threads = [
            threading.Thread(
                target=_client_loop,
                args=(url, questions, n * 17, deadline, budget, latencies, errors, credentials),
            )
            for n in range(clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        served = max(len(latencies), 1)
        server_cpu = _cpu_seconds(proc.pid) - server_cpu
        clients_cpu = _cpu_seconds() - clients_cpu
        return {
            "clients": clients,
            "signed_in": auth,
            "seconds": round(elapsed, 1),
            "served": len(latencies),
            "errors": len(errors),
            "error_examples": sorted(set(errors))[:5],
            "requests_per_second": round(len(latencies) / elapsed, 2),
            "latency_ms": ms_stats(latencies),
            "server_peak_rss_mb": peak_rss_mb(proc.pid),
            # Where the two cores went: the server's CPU per answer, and the 16 clients'.
            "server_cpu_ms_per_request": round(server_cpu / served * 1000, 1),
            "clients_cpu_ms_per_request": round(clients_cpu / served * 1000, 1),
        }
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        logfile.close()


def main() -> None:
    """``python -m bench.concurrency [--auth] [--seconds S]``: one run over the ClapNQ index."""
    import argparse
    import json

    from bench.common import WORK, clapnq_corpus
    from docqa.api import DocQA

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--auth", action="store_true", help="sign-in on, clients sign in")
    parser.add_argument("--seconds", type=float, default=SECONDS)
    args = parser.parse_args()
    corpus, index = clapnq_corpus(), WORK / "clapnq-index"
    DocQA(corpus_dir=corpus, index_dir=index).ingest()
    print(json.dumps(run(corpus, index, seconds=args.seconds, auth=args.auth), indent=2))


if __name__ == "__main__":
    main()
