"""A real app server for the tests that drive one over HTTP, the websocket or a browser:
``streamlit run <entry>`` in a subprocess on 127.0.0.1, ended afterwards."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from ops import appserver
from ops.appserver import free_port  # noqa: F401 (the tests import it from here)

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def serve(entry: str, log_dir: Path, env: dict[str, str | None], address: str | None = "127.0.0.1",
          extra: tuple[str, ...] = (), port: int | None = None):
    """`streamlit run <entry>` with `env` (None: unset) and ``extra`` options, on `port` (default: a
    free one); yields (url, log path). With address None the server listens where
    .streamlit/config.toml says (what `make run` does)."""
    port = port or free_port()
    full = {k: v for k, v in os.environ.items() if k not in env}
    full.update({k: v for k, v in env.items() if v is not None})
    log_path = log_dir / f"streamlit-{port}.log"
    with open(log_path, "w+") as log:
        try:
            with appserver.running(entry, port, log, full, cwd=ROOT, address=address, extra=extra):
                yield f"http://127.0.0.1:{port}", log_path
        except appserver.DidNotStart as e:
            pytest.fail(f"streamlit did not start:\n{e.log}")
