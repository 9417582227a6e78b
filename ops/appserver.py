"""The app served by a child process: ``streamlit run <entry>`` on a port of this machine, ready once
``/_stcore/health`` answers, ended afterwards.

What the browser benchmark (bench/bench_browser.py) and the tests that drive a real server
(tests/server.py) share: a benchmark must not import the tests. Each says a failure its own way
(bench: PageError, tests: pytest.fail) from the DidNotStart raised here."""
from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO


class DidNotStart(RuntimeError):
    """The server exited, or /_stcore/health did not answer in time; ``log`` is what it printed."""

    def __init__(self, port: int, log: str):
        super().__init__(f"streamlit did not start on port {port}")
        self.port = port
        self.log = log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running(entry: str | Path, port: int, log: IO[str], env: Mapping[str, str], cwd: str | Path,
            address: str | None = "127.0.0.1", extra: Sequence[str] = (), timeout: float = 60.0,
            poll: float = 0.3) -> Iterator[subprocess.Popen]:
    """`streamlit run entry` on `port` with the whole environment `env`, its output to `log` (a file
    opened "w+"); with address None it listens where .streamlit/config.toml says. Yields the process
    once /_stcore/health answers (``proc.ready_after``: seconds from launch), or raises DidNotStart;
    terminates it afterwards (killed if it has not ended 10 s later)."""
    args = [sys.executable, "-m", "streamlit", "run", str(entry), "--server.headless", "true",
            "--server.port", str(port), "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    if address:
        args += ["--server.address", address]
    args += list(extra)
    proc = subprocess.Popen(args, cwd=cwd, env=dict(env), stdout=log, stderr=subprocess.STDOUT)
    t0 = time.time()
    try:
        deadline = t0 + timeout
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.time() > deadline:
                log.seek(0)
                raise DidNotStart(port, log.read())
            time.sleep(poll)
        proc.ready_after = time.time() - t0
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
