"""On the demo warehouse the CLI prints the index for cities and counties and the quarterly score
and warnings for every quarter, with plausible numbers."""
import csv
import io

import pytest

from etl import warehouse
from metrics.__main__ import main

QUARTERS = [f"{y}Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]


def cli(capsys, *argv) -> list[dict]:
    assert main(list(argv)) == 0
    return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))


@pytest.mark.parametrize("level, units", [("city", 11), ("county", 90)])
def test_every_quarter_index_score_and_warnings(capsys, demo_db, level, units):
    db = str(demo_db)
    for q in QUARTERS:
        index = cli(capsys, "index", "--period", q, "--level", level, "--db", db)
        assert len(index) == units
        scored = [r for r in index if r["index"]]
        assert len(scored) >= 0.9 * units, (q, level)        # nearly every unit has records
        assert all(0 <= float(r["index"]) <= 100 for r in scored)
        assert min(int(r["rank"]) for r in scored) == 1
        score = cli(capsys, "score", "--quarter", q, "--level", level, "--db", db)
        values = [float(r["score"]) for r in score if r["score"]]
        assert len(score) == units and len(values) >= 0.9 * units
        assert 40 <= sum(values) / len(values) <= 100, (q, level)
        assert max(values) - min(values) > 5, (q, level)    # the score separates units
        warned = cli(capsys, "warnings", "--quarter", q, "--level", level, "--db", db)
        assert all(float(r["score"]) < 80 for r in warned)
        assert all(int(r["rank"]) > len(values) - 3 for r in warned)
        below = sorted(values)[:3]
        assert len(warned) == len([r for r in score if r["warned"] == "true"])
        assert (len(warned) > 0) == any(v < 80 for v in below)
    years = cli(capsys, "index", "--period", "2024", "--level", level, "--db", db)
    assert len([r for r in years if r["index"]]) == units


def test_indicators_look_like_the_published_magnitudes(demo_db):
    """Against the data contract's published magnitudes (demo data is modelled on them)."""
    from metrics.indicators import compute_indicators

    with warehouse.connect_read(demo_db) as con:
        df = compute_indicators(con, "2024", "province", None)
        cities = compute_indicators(con, "2024", "city", None)
    year = cities.groupby("indicator")[["numerator", "denominator"]].sum()
    assert 0.9 <= year.loc["rectification_due", "numerator"] / year.loc["rectification_due", "denominator"] <= 1
    avg_fine = year.loc["avg_fine", "numerator"] / year.loc["avg_fine", "denominator"]
    assert 2 <= avg_fine <= 20  # 万元 per case; published 7.62
    assert df.code.unique().tolist() == ["330000"]
