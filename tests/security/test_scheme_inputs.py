"""Issue 15 items 7 and 11 (extends): scheme files an outsider or a careless editor could write,
run through the real command line in a subprocess. Each ends in a message naming the file and the
filter, exit status 1, never a traceback."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.security.conftest import ROOT

NESTED = {
    "200 brackets": "(" * 200 + "needs_rectification" + ")" * 200,
    "5,000 NOTs": "NOT " * 5000 + "needs_rectification",
    "3,000-term OR": " OR ".join(["needs_rectification"] * 3000),
}


def metrics_cli(*args: str, db) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", *args, "--db", str(db)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("where", NESTED.values(), ids=NESTED.keys())
def test_a_deeply_nested_filter_is_refused_with_a_message(where, demo_db, tmp_path):
    scheme = tmp_path / "nested.toml"
    scheme.write_text('extends = "default"\n\n[indicators.rectification]\nname = "隐患整改率"\nunit = "%"\n'
                      f'numerator = {{ table = "hazards", where = "{where}" }}\n'
                      'denominator = { table = "hazards", where = "needs_rectification" }\n', encoding="utf-8")
    p = metrics_cli("index", "--period", "2025Q4", "--scheme", str(scheme), db=demo_db)
    assert p.returncode == 1, p.stderr[-2000:]
    assert "Traceback" not in p.stderr and "RecursionError" not in p.stderr
    assert "indicators.rectification.numerator.where" in p.stderr and "nested.toml" in p.stderr
    assert "嵌套过深" in p.stderr or "条件过长" in p.stderr
    assert len(p.stderr) < 2000  # the 15,000-character filter is not printed back whole


@pytest.mark.parametrize("target", ["/etc/hostname", "../../../../etc/hostname", "sub/../../x"])
def test_extends_reads_only_schemes_beside_it_or_in_the_schemes_folder(target, demo_db, tmp_path):
    scheme = tmp_path / "province.toml"
    scheme.write_text(f'extends = "{target}"\n', encoding="utf-8")
    p = metrics_cli("index", "--period", "2025Q4", "--scheme", str(scheme), db=demo_db)
    assert p.returncode == 1 and "Traceback" not in p.stderr
    assert "不能是路径" in p.stderr, p.stderr


def test_extends_by_name_still_works(demo_db, tmp_path):
    scheme = tmp_path / "province.toml"
    scheme.write_text('extends = "default"\nname = "本省方案"\n', encoding="utf-8")
    p = metrics_cli("index", "--period", "2025Q4", "--scheme", str(scheme), db=demo_db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0].startswith("code,name,index,rank")


def test_the_app_names_the_broken_filter_instead_of_a_traceback(demo_db, tmp_path, monkeypatch):
    """The app on a scheme whose filter is 200 brackets deep: every page says which filter is
    wrong, in Chinese, without a traceback or the server's paths."""
    from streamlit.testing.v1 import AppTest

    import metrics.scheme
    from tests.pages.conftest import APP

    scheme = tmp_path / "nested.toml"
    scheme.write_text('extends = "default"\n\n[indicators.rectification]\nname = "隐患整改率"\nunit = "%"\n'
                      f'numerator = {{ table = "hazards", where = "{NESTED["200 brackets"]}" }}\n'
                      'denominator = { table = "hazards", where = "needs_rectification" }\n', encoding="utf-8")
    monkeypatch.setattr(metrics.scheme, "default_scheme_path", lambda province=None: scheme)
    monkeypatch.setenv("ENFORCEMENT_DB", str(demo_db))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception[0].value[:300]
    shown = " ".join(e.value for e in at.error)
    assert "评价方案文件有误" in shown and "indicators.rectification.numerator.where" in shown and "嵌套过深" in shown
    assert str(ROOT) not in shown
