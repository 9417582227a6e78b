"""Headline figures (KPI tiles) for a region and period, with the change against another period.

The tiles are plain totals, not scored indicators: how many inspections, hazards and penalty
cases a region's agencies recorded in the period, the rectification rate of the period's hazards
and the fines imposed. They follow the data contract's counting rule: a region's figures are the
records of every agency inside it (a province: every agency of the province incl. its own
bureau; a city: its bureau and its counties'; a county: its own bureau's), a hazard belongs where
its inspection belongs, and a record belongs to the period that holds its date (inspection_date,
found_date, filed_date). Rectification is judged as of the period's last day (隐患整改率 of
../shared/spec/indicators.md with its default denominator, hazards needing rectification).

All functions are pure: a DuckDB connection (or cursor) in, a DataFrame out.
"""
from __future__ import annotations

import math

import duckdb
import pandas as pd

from metrics.periods import Period

# key, Chinese name, unit, how the change is shown ('pct' relative change, 'pp' percentage points)
KPIS: list[tuple[str, str, str, str]] = [
    ("inspections", "执法检查", "次", "pct"),
    ("hazards", "发现隐患", "项", "pct"),
    ("rectification", "隐患整改率", "%", "pp"),
    ("cases", "行政处罚案件", "件", "pct"),
    ("fines", "罚款金额", "万元", "pct"),
]

LEVELS = {"province": "省", "city": "市", "county": "县"}


def region_level(con: duckdb.DuckDBPyConnection, code: str) -> str:
    """'province', 'city' or 'county' for a region code; KeyError when unknown."""
    row = con.execute("SELECT level FROM regions WHERE code = ?", [str(code)]).fetchone()
    if not row:
        raise KeyError(f"unknown region code {code!r}")
    return {v: k for k, v in LEVELS.items()}[row[0]]


def agency_filter(level: str, unit_column: str) -> str:
    """SQL condition: agency region row `a` lies inside the unit whose code is `unit_column`."""
    if level == "province":
        return f"a.province_code = {unit_column}"
    if level == "city":
        return f"a.city_code = {unit_column}"
    if level == "county":
        return f"a.code = {unit_column}"
    raise ValueError(f"level must be province, city or county, not {level!r}")


def _unit_totals_sql(level: str) -> str:
    """Per-unit totals for the units in temp relation `units(code, name)` over [$start, $end]."""
    inside = agency_filter(level, "u.code")
    return f"""
    WITH agencies AS (
        SELECT u.code AS unit, a.code AS agency_code
        FROM units u JOIN regions a ON {inside}
    ),
    ins AS (
        SELECT g.unit, count(*) AS inspections
        FROM inspections i JOIN agencies g USING (agency_code)
        WHERE i.inspection_date BETWEEN $start AND $end
        GROUP BY g.unit
    ),
    haz AS (
        SELECT g.unit,
               count(*) AS hazards,
               count(*) FILTER (h.needs_rectification) AS needing,
               count(*) FILTER (h.needs_rectification AND h.rectified_date <= $end) AS rectified,
               count(*) FILTER (h.is_major) AS major
        FROM hazards h
        JOIN inspections i USING (inspection_id)
        JOIN agencies g ON g.agency_code = i.agency_code
        WHERE h.found_date BETWEEN $start AND $end
        GROUP BY g.unit
    ),
    pen AS (
        SELECT g.unit, count(*) AS cases,
               sum(p.fine_company + p.fine_person) / 10000.0 AS fines
        FROM penalties p JOIN agencies g USING (agency_code)
        WHERE p.filed_date BETWEEN $start AND $end
        GROUP BY g.unit
    )
    SELECT u.code, u.name,
           coalesce(ins.inspections, 0) AS inspections,
           coalesce(haz.hazards, 0) AS hazards,
           coalesce(haz.needing, 0) AS needing,
           coalesce(haz.rectified, 0) AS rectified,
           CAST(haz.rectified AS DOUBLE) / nullif(haz.needing, 0) AS rectification,
           coalesce(haz.major, 0) AS major_hazards,
           coalesce(pen.cases, 0) AS cases,
           CAST(coalesce(pen.fines, 0) AS DOUBLE) AS fines
    FROM units u
    LEFT JOIN ins ON ins.unit = u.code
    LEFT JOIN haz ON haz.unit = u.code
    LEFT JOIN pen ON pen.unit = u.code
    ORDER BY u.code
    """


def _totals(con, units_sql: str, params: dict, level: str, period: Period) -> pd.DataFrame:
    # the units CTE and the totals CTEs share one WITH clause
    sql = f"WITH units AS ({units_sql}),\n" + _unit_totals_sql(level).lstrip().removeprefix("WITH")
    return con.execute(sql, {**params, "start": period.start, "end": period.end}).df()


def unit_totals(con, period: Period | str, level: str, province: str, parent: str | None = None) -> pd.DataFrame:
    """Every unit of `level` ('city' | 'county') in `province` (optionally only those inside the
    city `parent`) with its totals for the period: code, name, inspections, hazards, needing,
    rectified, rectification (NA when nothing needed rectification), major_hazards, cases,
    fines (万元). Units without records have zeros."""
    period = Period.parse(period)
    if level not in ("city", "county"):
        raise ValueError(f"level must be city or county, not {level!r}")
    units_sql = "SELECT code, name FROM regions WHERE level = $lvl AND province_code = $province"
    params = {"lvl": LEVELS[level], "province": str(province)}
    if parent:
        units_sql += " AND (city_code = $parent OR parent_code = $parent)"
        params["parent"] = str(parent)
    return _totals(con, units_sql, params, level, period)


def region_totals(con, period: Period | str, code: str) -> dict[str, float]:
    """The totals of one region (province, city or county) for the period, as a dict."""
    period = Period.parse(period)
    level = region_level(con, code)
    df = _totals(con, "SELECT code, name FROM regions WHERE code = $code", {"code": str(code)}, level, period)
    return {k: (None if (isinstance(v, float) and math.isnan(v)) else v) for k, v in df.iloc[0].to_dict().items()}


def _change(now, then, kind: str):
    if now is None or then is None:
        return None
    if kind == "pp":
        return (now - then) * 100.0
    if not then:
        return None
    return (now - then) / then


def kpi_tiles(con, period: Period | str, code: str, against: str = "previous") -> pd.DataFrame:
    """One row per KPI tile for region `code`: kpi, name, unit, value, previous, change, change_kind.

    `against` = 'previous' (the period before: quarter → quarter, year → year) or 'year_ago'.
    change is relative ((now − then) / then, NA when then = 0) for counts and sums and in
    percentage points for the rectification rate. Rates are fractions (0.986), fines 万元.
    """
    period = Period.parse(period)
    other = period.previous() if against == "previous" else period.year_ago()
    now = region_totals(con, period, code)
    then = region_totals(con, other, code)
    rows = []
    for key, name, unit, kind in KPIS:
        rows.append(dict(kpi=key, name=name, unit=unit, value=now[key], previous=then[key],
                         change=_change(now[key], then[key], kind), change_kind=kind,
                         period=str(period), previous_period=str(other)))
    return pd.DataFrame(rows)
