"""Periods, published rounding and SRF bands."""
import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from metrics.bands import band, band_series
from metrics.periods import Period
from metrics.rounding import round_half_away
from metrics.scheme import Bands


@pytest.mark.parametrize("text, kind, start, end, label, canon", [
    ("2024", "year", "2024-01-01", "2024-12-31", "2024年", "2024"),
    ("2024Q3", "quarter", "2024-07-01", "2024-09-30", "2024年第3季度", "2024Q3"),
    ("2024q1", "quarter", "2024-01-01", "2024-03-31", "2024年第1季度", "2024Q1"),
    ("2024年第4季度", "quarter", "2024-10-01", "2024-12-31", "2024年第4季度", "2024Q4"),
    ("2024-02", "month", "2024-02-01", "2024-02-29", "2024年2月", "2024-02"),
    ("2023-2", "month", "2023-02-01", "2023-02-28", "2023年2月", "2023-02"),
    ("2024年12月", "month", "2024-12-01", "2024-12-31", "2024年12月", "2024-12"),
])
def test_parse(text, kind, start, end, label, canon):
    p = Period.parse(text)
    assert (p.kind, p.start, p.end, p.label, str(p)) == (kind, dt.date.fromisoformat(start),
                                                        dt.date.fromisoformat(end), label, canon)
    assert Period.parse(str(p)) == p


@pytest.mark.parametrize("text", ["2024Q5", "2024-13", "24Q1", "Q3", "2024-03-01", "", "2024Q0"])
def test_parse_refuses(text):
    with pytest.raises(ValueError):
        Period.parse(text)


def test_neighbours_and_months():
    q1 = Period.parse("2024Q1")
    assert str(q1.previous()) == "2023Q4" and str(q1.year_ago()) == "2023Q1"
    assert str(Period.parse("2024-01").previous()) == "2023-12" and str(Period.parse("2024").previous()) == "2023"
    assert [q.months_elapsed for q in Period.parse("2024").quarters()] == [3, 6, 9, 12]
    assert (q1.months, Period.parse("2024").months, Period.parse("2024-05").months_elapsed) == (3, 12, 5)


@pytest.mark.parametrize("x, d, expected", [
    (90.95, 1, 91.0), (90.94999999999999, 1, 91.0), (79.95, 1, 80.0), (0.05, 1, 0.1), (0.04999, 1, 0.0),
    (-2.5, 0, -3.0), (2.5, 0, 3.0), (1.005, 2, 1.01), (7.62, 2, 7.62), (0.986007871, 4, 0.986), (-0.04, 1, 0.0),
])
def test_round_half_away(x, d, expected):
    assert round_half_away(x, d) == expected


def test_round_half_away_keeps_shape_and_na():
    s = pd.Series([90.95, None, 1.25], index=["a", "b", "c"])
    got = round_half_away(s, 1)
    assert got.index.tolist() == ["a", "b", "c"] and got["a"] == 91.0 and math.isnan(got["b"]) and got["c"] == 1.3
    assert round_half_away(np.array([0.15, 0.25]), 1).tolist() == [0.2, 0.3]
    assert math.isnan(round_half_away(None, 1))


def test_bands():
    assert [band(x) for x in (100, 85, 84.99, 70, 69.9, 0)] == ["达标", "达标", "关注", "关注", "需改进", "需改进"]
    assert band(float("nan")) is None
    custom = Bands(90, 60, ("A", "B", "C"))
    assert band_series(pd.Series([95.0, 60.0, None, 10.0]), custom).tolist() == ["A", "B", None, "C"]
