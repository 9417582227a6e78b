"""A real app server for the tests that drive one over HTTP, the websocket or a browser:
``streamlit run <entry>`` in a subprocess on 127.0.0.1, ended afterwards."""
from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(entry: str, log_dir: Path, env: dict[str, str | None], address: str | None = "127.0.0.1",
          extra: tuple[str, ...] = ()):
    """`streamlit run <entry>` with `env` (None: unset) and ``extra`` options; yields (url, log path).
    With address None the server listens where .streamlit/config.toml says (what `make run` does)."""
    port = free_port()
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update({k: v for k, v in env.items() if v is not None})
    log_path = log_dir / f"streamlit-{port}.log"
    args = [sys.executable, "-m", "streamlit", "run", entry, "--server.headless", "true", "--server.port", str(port),
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    if address:
        args += ["--server.address", address]
    args += list(extra)
    with open(log_path, "w+") as log:
        proc = subprocess.Popen(args, cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if proc.poll() is not None or time.time() > deadline:
                    log.seek(0)
                    pytest.fail(f"streamlit did not start:\n{log.read()}")
                time.sleep(0.3)
            yield url, log_path
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
