"""The Hunan- and Jiangsu-style schemes: files only, no code of their own. Each computes the index
and the score on a demo of its province, from the command line too; a province's own scheme is its
default; year-on-year growth is an indicator like any other (pinned on hand-checked records)."""
import ast
import csv
import io
import math
import re
from pathlib import Path

import pytest

from etl import warehouse
from metrics.__main__ import main
from metrics.index import compute_index
from metrics.indicators import compute_indicators
from metrics.panel import indicator_panel, score_panel
from metrics.scheme import DEFAULT_SCHEME, SCHEME_DIR, SchemeError, default_scheme_path, load_scheme
from metrics.score import compute_score
from tests.metrics.metrics_data import Data

ROOT = Path(__file__).resolve().parents[2]
HUNAN, JIANGSU = SCHEME_DIR / "hunan.toml", SCHEME_DIR / "jiangsu.toml"


@pytest.fixture(scope="module", params=[("430000", HUNAN), ("320000", JIANGSU)], ids=["hunan", "jiangsu"])
def demo(request, tmp_path_factory):
    from etl.demo import DemoConfig, build_demo

    province, scheme = request.param
    db = tmp_path_factory.mktemp(f"demo-{province}") / "warehouse.duckdb"
    build_demo(DemoConfig(province=province, seed=7, first_year=2024, last_year=2025, scale=0.05), db=db)
    return province, scheme, db


def cli(capsys, *argv) -> list[dict]:
    assert main(list(argv)) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


def _code_words(path: Path) -> set[str]:
    """The names and string literals of a module, not its docstrings or comments (a docstring may
    cite a province's published figures; code may not branch on a province's scheme)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(n.body[0].value) for n in ast.walk(tree)
                  if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
                  and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    out = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings:
            out.add(n.value.lower())
        elif isinstance(n, ast.Name):
            out.add(n.id.lower())
        elif isinstance(n, ast.Attribute):
            out.add(n.attr.lower())
        elif isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            out.add(n.name.lower())
    return out


def test_no_scheme_specific_code():
    """Nothing in the code names a province's scheme: the files alone make them."""
    paths = [p for folder in ("metrics", "ui", "pages") for p in (ROOT / folder).glob("*.py")] + [ROOT / "app.py"]
    for path in paths:
        words = _code_words(path)
        for word in ("hunan", "jiangsu", "湖南", "江苏", "430000", "320000"):
            assert not any(word in w for w in words), f"{path.relative_to(ROOT)} names {word}"


def test_schemes_say_what_they_are_modelled_on():
    for path, parts in ((HUNAN, ["执法数量", "执法质量", "案例重要性", "行刑衔接", "案例报送"]),
                        (JIANGSU, ["同比增长", "重点单位年度覆盖", "案例报送"])):
        s = load_scheme(path)
        assert "参照" in s.name and "公开" in s.name
        assert [g.name for g in s.require_index().groups] == parts
        assert s.require_score().items
    hunan = load_scheme(HUNAN).require_index()
    assert {n.code for n in hunan.leaves if n.parent == "D"} == {"transfers"}
    assert {n.code for n in hunan.leaves if n.parent == "E"} == {"report_cadence", "reported_cases"}
    assert "review_score" in {n.code for n in hunan.leaves if n.parent == "B"}


def test_a_province_uses_its_own_scheme_by_default():
    assert default_scheme_path("430000") == HUNAN and default_scheme_path("320000") == JIANGSU
    assert default_scheme_path("330000") == DEFAULT_SCHEME and default_scheme_path(None) == DEFAULT_SCHEME
    assert load_scheme(province="430000").path == HUNAN.resolve()


def test_provinces_are_not_inherited(tmp_path):
    child = tmp_path / "child.toml"
    child.write_text('extends = "hunan"\nname = "变体"\n', encoding="utf-8")
    assert load_scheme(child).provinces == ()
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "default"\nprovinces = ["4300"]\n', encoding="utf-8")
    with pytest.raises(SchemeError, match="province codes"):
        load_scheme(bad)


def test_index_and_score_on_the_demo_of_each_province(demo, capsys):
    province, path, db = demo
    scheme = load_scheme(path)
    groups = [g.code for g in scheme.require_index().groups]
    with warehouse.connect_read(db) as con:
        index = compute_index(con, "2025", "city", province, scheme)
        score = compute_score(con, "2025Q2", "city", province, scheme)
        counties = compute_index(con, "2025Q2", "county", province, scheme)
    assert index["index"].notna().sum() >= 0.9 * len(index) and index["index"].between(0, 100).all()
    assert index["index"].max() - index["index"].min() > 5 and index["rank"].min() == 1
    assert score["score"].notna().sum() >= 0.9 * len(score) and score["score"].between(0, 105).all()
    assert counties["index"].notna().sum() > 0.5 * len(counties)
    # the command line: with the scheme given, and by default (the province's own scheme)
    for argv in (["--scheme", str(path), "--province", province], []):
        rows = cli(capsys, "index", "--period", "2025", *argv, "--db", str(db))
        assert list(rows[0]) == ["code", "name", "index", "rank", *groups, "na_count"]
        assert [float(r["index"]) for r in rows] == pytest.approx(list(index["index"]))
    rows = cli(capsys, "score", "--quarter", "2025Q2", "--db", str(db))
    assert [float(r["score"]) if r["score"] else math.nan for r in rows] == pytest.approx(list(score["score"]),
                                                                                         nan_ok=True)


def test_cli_runs_the_named_scheme_as_documented(demo):
    """`python -m metrics index --period 2025 --scheme metrics/schemes/<file> --province <code>`."""
    import subprocess
    import sys

    province, path, db = demo
    out = subprocess.run([sys.executable, "-m", "metrics", "index", "--period", "2025", "--scheme",
                          str(path.relative_to(ROOT)), "--province", province, "--db", str(db)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 1 + 13 if province == "320000" else len(lines) == 1 + 14
    assert all(re.fullmatch(r"\d{6},[^,]+,\d+\.\d,\d+,.*", line) for line in lines[1:])


# --- year-on-year growth as an indicator -------------------------------------------------------------
@pytest.fixture(scope="module")
def growth_con():
    """上城 330102: 2024Q1 fines 1万 + 1万 (two cases), 2025Q1 fines 3万 (one case). 拱墅 330105: nothing
    in 2024Q1, one 1万 case in 2025Q1 (no year earlier: NA)."""
    d = Data()
    e = d.enterprise("330102")
    d.penalty("330102", e, "2024-02-01", fine_company=10000)
    d.penalty("330102", e, "2024-03-01", fine_company=10000)
    d.penalty("330102", e, "2025-02-01", fine_company=30000)
    d.penalty("330105", e, "2025-02-01", fine_company=10000)
    c = d.memory()
    yield c
    c.close()


def test_growth_pinned(growth_con):
    scheme = load_scheme(JIANGSU)
    df = compute_indicators(growth_con, "2025Q1", "county", "330000", scheme,
                            ["fines_total", "fines_growth", "avg_fine_growth"]).set_index(["code", "indicator"])
    assert tuple(df.loc[("330102", "fines_growth"), ["value", "numerator", "denominator"]]) == pytest.approx(
        (0.5, 3.0, 2.0))                                                       # (3 − 2) / 2
    assert tuple(df.loc[("330102", "avg_fine_growth"), ["value", "numerator", "denominator"]]) == pytest.approx(
        (2.0, 3.0, 1.0))                                                       # 3万 a case against 1万
    assert math.isnan(df.loc[("330105", "fines_growth"), "value"])            # 0 a year earlier: NA
    assert df.loc[("330105", "fines_growth"), "numerator"] == 1.0
    assert list(df.index.get_level_values("indicator")[:3]) == ["fines_total", "fines_growth", "avg_fine_growth"]


def test_growth_in_the_panel_equals_one_period_at_a_time(growth_con):
    scheme = load_scheme(JIANGSU)
    codes = ["fines_growth", "dual_cases_growth", "fines_total"]
    panel = indicator_panel(growth_con, ["2025Q1", "2025Q2"], "county", "330000", scheme, codes)
    for q in ("2025Q1", "2025Q2"):
        one = compute_indicators(growth_con, q, "county", "330000", scheme, codes)
        got = panel[panel.period == q].drop(columns="period").reset_index(drop=True)
        assert got.equals(one) or got.fillna(-1).equals(one.fillna(-1)), q
    scores = score_panel(growth_con, ["2025Q1"], "county", "330000", scheme)
    assert scores.set_index("code").loc["330102", "fines_growth_points"] == pytest.approx(10.0)


def test_growth_checked_when_the_scheme_is_loaded(tmp_path):
    bad = tmp_path / "g.toml"
    bad.write_text('extends = "default"\n[indicators.x]\nname = "x"\ngrowth = "nothing"\n', encoding="utf-8")
    with pytest.raises(SchemeError, match="growth of unknown indicator 'nothing'"):
        load_scheme(bad)
    bad.write_text('extends = "default"\n[indicators.x]\nname = "x"\ngrowth = "fines_total"\n'
                   'numerator = { table = "penalties" }\n', encoding="utf-8")
    with pytest.raises(SchemeError, match="not both"):
        load_scheme(bad)
