"""Every benchmark of bench/ runs end to end at a tiny scale, so that none of them can rot: the
generator, the ETL benchmark (with its profile), the metrics benchmark (with its check against the
pandas reference) and the dashboard benchmark, one repetition each. The figures mean nothing at
this scale; bench/README.md has the national ones."""
from __future__ import annotations

import csv
import json

import pytest

from bench import bench_dashboard, bench_etl, bench_metrics, generate
from etl.credit_code import is_valid


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench") / "data"
    manifest = generate.generate(out, scale=0.0002, seed=7, errors=0.001, log=lambda *a: None)
    return out, manifest


def test_generator_writes_contract_csvs(data):
    out, manifest = data
    assert set(manifest["tables"]) == {"enterprises", "plans", "inspections", "hazards", "penalties"}
    assert manifest["tables"]["inspections"]["rows"] == 2000 and manifest["tables"]["enterprises"]["rows"] == 600
    assert json.loads((out / "manifest.json").read_text())["rows_total"] == manifest["rows_total"]
    with open(out / "enterprises.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["统一社会信用代码", "单位名称", "所属区县代码", "行业领域", "重点检查单位"]
    assert sum(is_valid(r["统一社会信用代码"]) for r in rows) >= len(rows) - 3  # a few broken on purpose
    assert {r["重点检查单位"] for r in rows} == {"是", "否"}


def test_same_seed_same_files(data, tmp_path):
    out, _ = data
    again = tmp_path / "again"
    generate.generate(again, scale=0.0002, seed=7, errors=0.001, log=lambda *a: None)
    for t in generate.TABLES:
        assert (again / f"{t}.csv").read_bytes() == (out / f"{t}.csv").read_bytes(), t


@pytest.fixture(scope="module")
def etl_result(data, tmp_path_factory):
    out, _ = data
    work = tmp_path_factory.mktemp("etl-work")
    return bench_etl.run(out, reps=1, work=work, profile=True, save=False, log=lambda *a: None), work


def test_etl_benchmark(etl_result, data):
    r, work = etl_result
    _, manifest = data
    assert r["rows"] == manifest["rows_total"]
    assert r["etl_median"] > 0 and r["bare_median"] > 0 and r["etl_peak_rss"] > 0
    files = {f["table"]: f for f in r["files"]}
    assert all(f["read"] == f["loaded"] + f["replaced"] + f["set_aside"] for f in files.values())
    assert (work / "warehouse.duckdb").exists()
    assert "profile_seconds" in r
    assert all(c > 0 for c in r["etl_cpu"] + r["bare_cpu"])
    assert f"CPU ours {r['etl_cpu'][0]:.1f}s, bare {r['bare_cpu'][0]:.1f}s" in bench_etl.summary(r)


def test_metrics_benchmark_agrees_with_pandas(etl_result):
    _, work = etl_result
    r = bench_metrics.run(work / "warehouse.duckdb", reps=1, save=False, log=lambda *a: None)
    assert r["equal"], r["problems"]
    assert r["ours_median"] > 0 and r["pandas_median"] > 0


def test_dashboard_benchmark(etl_result):
    _, work = etl_result
    r = bench_dashboard.run(work / "warehouse.duckdb", reps=1, warm_runs=1, save=False, log=lambda *a: None)
    assert not r["errors"], r["errors"]
    assert "总览" in r["title"]
    assert r["cold_median"] > 0 and r["warm_median"] > 0
    w = bench_dashboard.run(work / "warehouse.duckdb", reps=1, warm_runs=1, save=False, log=lambda *a: None,
                            warmup=True)
    assert not w["errors"] and w["warmup_seconds"][0] > 0 and "总览" in w["title"]


def test_profiles_name_where_the_time_goes(etl_result):
    _, work = etl_result
    db = work / "warehouse.duckdb"
    m = bench_metrics.profile(db, save=False)
    assert len(m["calls"]) == 12 and all(c["queries"] >= 1 and c["seconds"] > 0 for c in m["calls"])
    assert m["heaviest"] and m["slowest_query"]["operators"]
    assert any(o["operator"] for o in m["slowest_query"]["operators"])
    d = bench_dashboard.profile(db, save=False)
    assert not d["errors"] and d["cold_queries"] >= 5 and d["heaviest"][0]["seconds"] >= d["heaviest"][-1]["seconds"]


def test_the_national_dashboard_opens_on_a_municipality(etl_result, monkeypatch):
    """A national warehouse opens on its first province, 北京, at the city level: a municipality
    has no prefecture-level cities, and the overview says so instead of failing."""
    from streamlit.testing.v1 import AppTest

    _, work = etl_result
    monkeypatch.setenv("ENFORCEMENT_DB", str(work / "warehouse.duckdb"))
    at = AppTest.from_file(str(bench_etl.common.ROOT / "app.py"), default_timeout=120)
    at.session_state["province"] = "110000"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value.startswith("北京市")
    assert any("没有设区市一级的评价对象" in i.value for i in at.info)
