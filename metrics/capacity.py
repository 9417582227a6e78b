"""Enforcement capacity and case reporting (methodology §7) for every unit of a level: each unit's
value against the published target of each indicator, banded, and the reporting windows it missed.

The values are the scheme's indicators (metrics.indicators, one definition per number): the
capacity indicators over the staff roster, training and establishment, and ``report_cadence`` over
the reporting windows (metrics.sources ``report_windows``). Targets come from the scheme's
[targets]; a unit is banded with the scheme's bands on 100 × min(value / target, 1).
"""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.bands import band_series
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.query import condition_sql, ensure_marts, run
from metrics.scheme import Scheme, load_scheme
from metrics.sources import placed_sql

CAPACITY = ("officers", "qualified_share", "tech_inspector_ratio", "inspections_per_officer", "training_met",
            "establishment_filled", "report_cadence")
CADENCE = "report_cadence"
COLUMNS = ["code", "name", "indicator", "indicator_name", "unit", "value", "numerator", "denominator", "target",
           "attainment", "band"]


def capacity_frame(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                   province: str | None = None, scheme: Scheme | None = None,
                   indicators: tuple[str, ...] = CAPACITY) -> pd.DataFrame:
    """Long frame: code, name, indicator, indicator_name, unit, value, numerator, denominator,
    target (NA where the scheme sets none), attainment = 100 × min(value / target, 1), band."""
    period = Period.parse(period)
    scheme = scheme or load_scheme(province=province)
    codes = [c for c in indicators if c in scheme.indicators]
    df = compute_indicators(con, period, level, province, scheme, codes)
    df["target"] = df["indicator"].map(scheme.targets).astype(float)
    ratio = df["value"].astype(float) / df["target"]
    df["attainment"] = (100.0 * ratio.clip(lower=0.0, upper=1.0)).where(ratio.notna())
    df["band"] = band_series(df["attainment"], scheme.bands)
    return df[COLUMNS].reset_index(drop=True)


def capacity_table(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                   province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """One row per unit: each indicator's value (column = its code), its band (``<code>_band``),
    and ``missed_windows`` (the reporting windows of the unit's own bureau missed, by name)."""
    period = Period.parse(period)
    province = resolve_province(con, province)
    scheme = scheme or load_scheme(province=province)
    long = capacity_frame(con, period, level, province, scheme)
    units = long.drop_duplicates("code")[["code", "name"]].set_index("code")
    values = long.pivot(index="code", columns="indicator", values="value")
    bands = long.pivot(index="code", columns="indicator", values="band").add_suffix("_band")
    out = units.join(values).join(bands)
    missed = missed_windows(con, period, level, province, scheme)
    names = missed.groupby("code")["window_name"].agg("、".join) if len(missed) else pd.Series(dtype=object)
    out["missed_windows"] = out.index.map(names).astype(object)
    out.loc[out["missed_windows"].isna(), "missed_windows"] = ""
    codes = [c for c in CAPACITY if c in values.columns]
    return out.reset_index()[["code", "name", *codes, *[f"{c}_band" for c in codes], "missed_windows"]]


SUMMARY_COLUMNS = ["indicator", "indicator_name", "unit", "target", "units_with_data", "meeting", "improvement",
                   "median"]


def target_summary(cap: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """How the units of a capacity_frame stand against each published target: per indicator with a
    target, the units with a value, those meeting the target, those banded 需改进 (the scheme's
    lowest band), and the median value. The overview's table and the bulletin's paragraph."""
    rows = []
    for code, g in cap[cap["target"].notna()].groupby("indicator", sort=False):
        known = g[g["value"].notna()]
        rows.append(dict(indicator=code, indicator_name=g["indicator_name"].iloc[0], unit=g["unit"].iloc[0],
                         target=float(g["target"].iloc[0]), units_with_data=len(known),
                         meeting=int((known["value"] >= known["target"]).sum()),
                         improvement=int((known["band"] == scheme.bands.labels[2]).sum()),
                         median=float(known["value"].median()) if len(known) else None))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def missed_windows(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                   province: str | None = None, scheme: Scheme | None = None,
                   code: str | None = None) -> pd.DataFrame:
    """The reporting windows counted by ``report_cadence`` in the period that were not met:
    code, window_name, window_start, window_end (in order). ``code`` limits it to one unit. The
    records are the indicator's denominator less its numerator, through the same SQL."""
    period = Period.parse(period)
    province = resolve_province(con, province)
    scheme = scheme or load_scheme(province=province)
    ind = scheme.indicator(CADENCE)
    den, num = ind.denominator, ind.numerator
    if den is None or num.table != den.table:
        raise ValueError(f"{CADENCE}: numerator and denominator should count the same records")
    ensure_marts(con)
    sql = (f"SELECT s.unit AS code, s.window_name, s.window_start, s.window_end "
           f"FROM ({placed_sql(den.table, level, province, only=code)}) s "
           f"WHERE {condition_sql(den, period)} AND NOT coalesce({condition_sql(num, period)}, FALSE) "
           f"ORDER BY s.unit, s.window_start")
    return run(con, sql)


def unit_capacity(con: duckdb.DuckDBPyConnection, period: str | Period, code: str,
                  scheme: Scheme | None = None) -> pd.DataFrame:
    """One unit's capacity figures (a city, county or province): the capacity_frame rows of its code."""
    period = Period.parse(period)
    region = run(con, "SELECT level, province_code FROM regions WHERE code = ?", [str(code)])
    if region.empty:
        raise ValueError(f"no region {code}")
    level = {"省": "province", "市": "city", "县": "county"}[region.iloc[0, 0]]
    df = capacity_frame(con, period, level, region.iloc[0, 1], scheme)
    return df[df["code"] == str(code)].reset_index(drop=True)


__all__ = ["CAPACITY", "capacity_frame", "capacity_table", "missed_windows", "unit_capacity"]
