"""The app uses Streamlit's public API only (issue 13): no module of ui/, pages/, app.py or serve.py
imports or reaches into Streamlit's internals (the script-run context, the pages manager, thread
state …). Streamlit changes those without notice; the legacy pages-folder mode is left through
st.navigation (ui.gate.page), not by patching it."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# names that only exist inside Streamlit's internals
INTERNAL_NAMES = {"get_script_run_ctx", "add_script_run_ctx", "ScriptRunContext", "script_run_context",
                  "scriptrunner", "scriptrunner_utils", "pages_manager", "PagesManager", "uses_pages_directory",
                  "ThreadState", "run_with_active_hash", "_mpa_v1", "main_script_hash", "RerunData",
                  "get_instance", "SessionState", "session_manager", "runpy"}
# st.runtime: only Streamlit's documented raw-mode check
RUNTIME_OK = {"exists"}


def problems(source: str, name: str = "<text>") -> list[str]:
    """Every use of a Streamlit internal in `source` (a module's text), as 'name:line: what'."""
    tree = ast.parse(source)
    aliases = {"streamlit"}   # names bound to the streamlit package (import streamlit as st)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "streamlit":
                    aliases.add(a.asname or a.name)
    out = []
    for node in ast.walk(tree):
        where = f"{name}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            out += [f"{where}: import {a.name}" for a in node.names
                    if a.name.startswith("streamlit.") or a.name == "runpy"]
        elif isinstance(node, ast.ImportFrom) and node.module and (
                node.module == "streamlit" or node.module.startswith("streamlit.") or node.module == "runpy"):
            out.append(f"{where}: from {node.module} import {', '.join(a.name for a in node.names)}")
        elif isinstance(node, ast.Attribute):
            if node.attr in INTERNAL_NAMES:
                out.append(f"{where}: .{node.attr}")
            base = node.value
            if isinstance(base, ast.Name) and base.id in aliases and node.attr.startswith("_"):
                out.append(f"{where}: {base.id}.{node.attr}")
            if (isinstance(base, ast.Attribute) and base.attr == "runtime" and isinstance(base.value, ast.Name)
                    and base.value.id in aliases and node.attr not in RUNTIME_OK):
                out.append(f"{where}: {base.value.id}.runtime.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in INTERNAL_NAMES:
            out.append(f"{where}: {node.id}")
        if isinstance(node, ast.Call):   # __import__("streamlit.…"), importlib.import_module("streamlit.…")
            fn = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
            arg = node.args[0] if node.args else None
            if fn in ("__import__", "import_module") and isinstance(arg, ast.Constant) \
                    and str(arg.value).startswith("streamlit."):
                out.append(f"{where}: {fn}({arg.value!r})")
    return out


def app_modules() -> list[Path]:
    return sorted([*(ROOT / "ui").glob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py", ROOT / "serve.py"])


def test_the_app_uses_no_streamlit_internals():
    files = app_modules()
    assert len(files) > 15 and ROOT / "ui" / "gate.py" in files
    found = [p for f in files for p in problems(f.read_text(encoding="utf-8"), str(f.relative_to(ROOT)))]
    assert not found, "Streamlit internals used:\n" + "\n".join(found)


def test_the_check_finds_what_it_forbids():
    bad = {
        "from streamlit.runtime.scriptrunner import get_script_run_ctx\n": "streamlit.runtime.scriptrunner",
        "import streamlit.runtime.scriptrunner as sr\n": "import streamlit.runtime",
        "import streamlit as st\nctx = st.runtime.scriptrunner.get_script_run_ctx()\n": "scriptrunner",
        "import streamlit as st\nx = st.runtime.get_instance()\n": "get_instance",
        "def f(ctx):\n    with ctx.run_with_active_hash(ctx.pages_manager.main_script_hash):\n        pass\n":
            "run_with_active_hash",
        "import streamlit as s\ns._config.set_option('x', 1)\n": "s._config",
        "import runpy\n": "runpy",
        "import importlib\nimportlib.import_module('streamlit.runtime.pages_manager')\n": "import_module",
        "from streamlit import runtime\n": "from streamlit import runtime",
    }
    for text, what in bad.items():
        found = problems(text)
        assert found and any(what in p for p in found), (text, found)
    ok = ("import streamlit as st\nst.navigation([]); st.switch_page('x'); st.runtime.exists()\n"
          "st.session_state['a'] = 1\nst.context.headers\n")
    assert problems(ok) == []


def test_in_run_is_a_session_s_script_run_only(monkeypatch):
    """ui.cache.in_run: False in a plain import; True where Streamlit runs (its raw-mode check),
    except in the server's own work outside a session (the warm-up), nested or not, per thread."""
    import threading

    import streamlit as st

    from ui import cache

    assert cache.in_run() is False                      # pytest: no Streamlit runtime
    monkeypatch.setattr(st.runtime, "exists", lambda: True)
    assert cache.in_run() is True
    with cache.outside_session():
        assert cache.in_run() is False
        with cache.outside_session():
            assert cache.in_run() is False
        assert cache.in_run() is False
        seen = []
        t = threading.Thread(target=lambda: seen.append(cache.in_run()))   # another thread: a session's
        t.start()
        t.join()
        assert seen == [True]
    assert cache.in_run() is True
