"""Base indicators (methodology §1) for every unit of a level in one period, in one SQL query.

Every unit of the level in the province is a row, records or not. A ratio whose denominator is 0
is NA (never 0, never 100); a count or sum with no records is 0. ``assessed`` says whether the
unit has records in the period (an inspection, a hazard found or a case filed): units without
are 无数据 — listed, but given no index, score, rank or warning, and not counted as peers.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.expr import sql_literal
from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.query import parts_by_unit_sql, run, sliced_for
from metrics.rounding import round_half_away
from metrics.scheme import Part, Scheme, load_scheme
from metrics.sources import ACTIVITY, SOURCES, level_name, units_sql

COLUMNS = ["code", "name", "indicator", "value", "numerator", "denominator", "indicator_name", "unit", "assessed"]
_ACTIVITY_PARTS = [Part(t, "count", window="period", date=SOURCES[t].date) for t in ACTIVITY]


def indicators_sql(scheme: Scheme, period: Period, level: str, province: str, codes: list[str],
                   sliced: bool = False) -> str:
    """One query: a row per unit × indicator with numerator, denominator, value and assessed."""
    inds = [scheme.indicator(c) for c in codes]
    parts = [p for i in inds for p in (i.numerator, i.denominator) if p is not None] + _ACTIVITY_PARTS
    per_table = parts_by_unit_sql(parts, period, level, province, sliced)
    ctes = [f"units AS ({units_sql(level, province)})"]
    joins, alias = [], {}
    for table, (sql, aliases) in per_table.items():
        ctes.append(f"agg_{table} AS ({sql})")
        joins.append(f"LEFT JOIN agg_{table} ON agg_{table}.unit = u.code")
        for part, a in aliases.items():
            alias[part] = a
    wide_cols = ", ".join(f"CAST(coalesce({a}, 0) AS DOUBLE) AS {a}" for a in dict.fromkeys(alias.values()))
    ctes.append(f"wide AS (SELECT u.code, u.name, {wide_cols} FROM units u {' '.join(joins)})")
    active = " + ".join(alias[p] for p in _ACTIVITY_PARTS)
    selects = []
    for order, ind in enumerate(inds):
        n = alias[ind.numerator]
        if ind.denominator is None:
            d, value = "CAST(NULL AS DOUBLE)", n
        else:
            d = alias[ind.denominator]
            value = f"CASE WHEN {d} = 0 THEN NULL ELSE {n} / {d} END"
        selects.append(f"SELECT code, name, {sql_literal(ind.code)} AS indicator, {order} AS ord, {value} AS value, "
                       f"{n} AS numerator, {d} AS denominator, ({active}) > 0 AS assessed FROM wide")
    return (f"WITH {', '.join(ctes)}\n" + "\nUNION ALL\n".join(selects) + "\nORDER BY code, ord")


def compute_indicators(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                       province: str | None = None, scheme: Scheme | None = None,
                       indicators: list[str] | None = None) -> pd.DataFrame:
    """Long frame code, name, indicator, value, numerator, denominator, indicator_name, unit, assessed.

    ``indicators`` limits the codes (default: all of the scheme's, in its order). Values are
    unrounded (``published`` rounds them for display); ratios are fractions, money 万元.
    """
    period = Period.parse(period)
    scheme = scheme or load_scheme()
    level_name(level)
    province = resolve_province(con, province)
    codes = list(indicators) if indicators is not None else list(scheme.indicators)
    df = run(con, indicators_sql(scheme, period, level, province, codes, sliced_for(con, province)))
    df = df.drop(columns="ord")
    df["indicator_name"] = df["indicator"].map({c: scheme.indicators[c].name for c in codes})
    df["unit"] = df["indicator"].map({c: scheme.indicators[c].unit for c in codes})
    df["assessed"] = df["assessed"].astype(bool)
    return df[COLUMNS].reset_index(drop=True)


def published(long: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """Values rounded to each indicator's published precision (half away from zero); a count or
    sum's numerator shows the published value too. Numerators and denominators of ratios keep
    their exact amounts (rounded to 6 places to drop float noise)."""
    out = long.copy()
    decimals = out["indicator"].map({c: i.decimals for c, i in scheme.indicators.items()})
    value = out["value"].to_numpy(dtype=float, na_value=float("nan"))
    rounded = value.copy()
    for d in decimals.unique():
        mask = (decimals == d).to_numpy()
        rounded[mask] = round_half_away(value[mask], int(d))
    out["value"] = rounded
    out["numerator"] = round_half_away(out["numerator"], 6)
    out["denominator"] = round_half_away(out["denominator"], 6)
    single = ~out["indicator"].map({c: i.is_ratio for c, i in scheme.indicators.items()}).astype(bool)
    out.loc[single, "numerator"] = out.loc[single, "value"]
    return out
