"""Headline figures (KPI tiles) for a region and period, with the change against another period.

The tiles are plain totals of the region's records: how many inspections, hazards and penalty
cases its agencies recorded in the period (the compiler's activity counts, the very ones that
decide whether a unit is assessed), the scheme's 隐患整改率 (its numerator and denominator too)
and 处罚金额, and the major hazards found (the denominator of the scheme's 重大隐患立案率). They
are compiled by metrics.query from the scheme's definitions, so a number shown as a tile and as an
indicator is the same number. Counting rule: a city's figures are its bureau's and its counties',
a county's its own bureau's; a province's tiles count every agency of the province (its own
bureau, its cities' and counties').

All functions are pure: a DuckDB connection (or cursor) in, a DataFrame out.
"""
from __future__ import annotations

import math

import duckdb
import pandas as pd

from metrics.expr import sql_literal
from metrics.growth import growth_of
from metrics.periods import Period
from metrics.query import ACTIVITY_PARTS, parts_frame, run_one
from metrics.scheme import Part, Scheme, load_scheme
from metrics.sources import unit_column

# key, Chinese name, unit, how the change is shown ('pct' relative change, 'pp' percentage points)
KPIS: list[tuple[str, str, str, str]] = [
    ("inspections", "执法检查", "次", "pct"),
    ("hazards", "发现隐患", "项", "pct"),
    ("rectification", "隐患整改率", "%", "pp"),
    ("cases", "行政处罚案件", "件", "pct"),
    ("fines", "罚款金额", "万元", "pct"),
]

LEVELS = {"province": "省", "city": "市", "county": "县"}
TOTAL_COLUMNS = ["code", "name", "inspections", "hazards", "needing", "rectified", "rectification",
                 "major_hazards", "cases", "fines"]


def _region(con: duckdb.DuckDBPyConnection, code: str) -> tuple[str, str]:
    """(level, province) of a region code, as 'province' | 'city' | 'county'; KeyError when unknown
    (every tile and drill-down asks)."""
    row = run_one(con, "SELECT level, province_code FROM regions WHERE code = ?", [str(code)])
    if row is None:
        raise KeyError(f"unknown region code {code!r}")
    return {v: k for k, v in LEVELS.items()}[row[0]], row[1]


def region_level(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """'province', 'city' or 'county' for a region code; KeyError when unknown."""
    return _region(con, code)[0]


def placing(con: duckdb.DuckDBPyConnection, code: str) -> tuple[str, str, str]:
    """(level, province, the mart column placing a record in region ``code``): a city's or a
    county's stamped unit; for a province, every record of the province (``province_code``)."""
    level, province = _region(con, code)
    return level, province, ("province_code" if level == "province" else unit_column(level))


def definitions(scheme: Scheme | None = None) -> dict[str, Part]:
    """The parts behind the totals, from the compiler and the scheme: column → Part."""
    scheme = scheme or load_scheme()
    ins, haz, pen = ACTIVITY_PARTS
    rect = scheme.indicator("rectification")
    return {"inspections": ins, "hazards": haz, "cases": pen,
            "needing": rect.denominator, "rectified": rect.numerator,
            "major_hazards": scheme.indicator("major_filing").denominator,
            "enterprises": scheme.indicator("coverage").numerator,
            "fines": scheme.indicator("fines_total").numerator,
            "overdue_major": scheme.indicator("overdue_major").numerator}


def totals(con, periods: list[Period], level: str, province: str, scheme: Scheme | None = None,
           columns: tuple[str, ...] = tuple(TOTAL_COLUMNS[2:]), extra: dict[str, Part] | None = None,
           **how) -> pd.DataFrame:
    """The totals of every unit (metrics.query.parts_sql's ``how``: units, unit_col, only, by) ×
    period: code, name, period and the wanted columns (``rectification`` = rectified ÷ needing,
    NA when nothing needed rectification). ``extra``: more named parts, compiled in the same query
    (a column may then name one; metrics.quality's same-day rectifications)."""
    defs = {**definitions(scheme), **(extra or {})}
    want = [c for c in columns if c != "rectification"]
    if "rectification" in columns:
        want += [c for c in ("needing", "rectified") if c not in want]
    wide, alias = parts_frame(con, [defs[c] for c in want], periods, level, province, **how)
    out = wide[["code", "name"]].copy()
    out.insert(0, "period", wide["pid"].map({i: str(p) for i, p in enumerate(periods)}))
    for c in want:
        out[c] = wide[alias[defs[c]]].astype(float)
        if c != "fines":
            out[c] = out[c].astype("int64")
    if "rectification" in columns:
        out["rectification"] = (out["rectified"] / out["needing"].where(out["needing"] > 0)).astype(float)
    return out


def unit_totals(con, period: Period | str, level: str, province: str, parent: str | None = None,
                scheme: Scheme | None = None) -> pd.DataFrame:
    """Every unit of `level` ('city' | 'county') in `province` (optionally only those inside the
    city `parent`) with its totals for the period: code, name, inspections, hazards, needing,
    rectified, rectification (NA when nothing needed rectification), major_hazards, cases,
    fines (万元). Units without records have zeros."""
    period = Period.parse(period)
    if level not in ("city", "county"):
        raise ValueError(f"level must be city or county, not {level!r}")
    units = (f"SELECT code, name FROM regions WHERE level = {sql_literal(LEVELS[level])} "
             f"AND province_code = {sql_literal(str(province))}")
    if parent:
        units += f" AND (city_code = {sql_literal(str(parent))} OR parent_code = {sql_literal(str(parent))})"
    df = totals(con, [period], level, str(province), scheme, units=units)
    return df[TOTAL_COLUMNS].reset_index(drop=True)


def region_totals(con, period: Period | str, code: str, scheme: Scheme | None = None) -> dict[str, float]:
    """The totals of one region (province, city or county) for the period, as a dict."""
    return region_series(con, [period], code, scheme)[0]


def region_series(con, periods: list[Period | str], code: str, scheme: Scheme | None = None) -> list[dict]:
    """region_totals for several periods in one query (the tiles' sparklines)."""
    periods = [Period.parse(p) for p in periods]
    level, province, col = placing(con, code)
    units = f"SELECT code, name FROM regions WHERE code = {sql_literal(str(code))}"
    df = totals(con, periods, level, province, scheme, units=units, unit_col=col, only=str(code))
    out = []
    for row in df.drop(columns="period").to_dict("records"):
        out.append({k: (None if (isinstance(v, float) and math.isnan(v)) else v) for k, v in row.items()})
    return out


def _change(now, then, kind: str):
    if now is None or then is None:
        return None
    if kind == "pp":
        return (now - then) * 100.0
    return growth_of(now, then)   # the one definition of growth (NA when then = 0)


def kpi_tiles(con, period: Period | str, code: str, against: str = "previous",
              scheme: Scheme | None = None) -> pd.DataFrame:
    """One row per KPI tile for region `code`: kpi, name, unit, value, previous, change, change_kind.

    `against` = 'previous' (the period before: quarter → quarter, year → year) or 'year_ago'.
    change is relative ((now − then) / then, NA when then = 0) for counts and sums and in
    percentage points for the rectification rate. Rates are fractions (0.986), fines 万元.
    """
    period = Period.parse(period)
    other = compared_period(period, against)
    now, then = region_series(con, [period, other], code, scheme)
    return tiles(now, then, period, other)


def compared_period(period: Period | str, against: str = "previous") -> Period:
    """The period a tile compares with: the one before ('previous') or a year earlier ('year_ago')."""
    period = Period.parse(period)
    return period.previous() if against == "previous" else period.year_ago()


def tiles(now: dict, then: dict, period: Period | str, other: Period | str) -> pd.DataFrame:
    """kpi_tiles' rows from the region's totals (region_series rows) for the period and the one it
    is compared with (the app reads both comparisons' totals in one query)."""
    rows = []
    for key, name, unit, kind in KPIS:
        rows.append(dict(kpi=key, name=name, unit=unit, value=now[key], previous=then[key],
                         change=_change(now[key], then[key], kind), change_kind=kind,
                         period=str(period), previous_period=str(other)))
    return pd.DataFrame(rows)
