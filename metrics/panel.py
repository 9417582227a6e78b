"""Indicators, scores and index frames for many periods at once (the analysts' tools need history).

``compute_indicators`` answers one period in one query; the early warning and the data-quality
flags need every quarter of the warehouse, and twelve single-period queries repeat the same joins
(hazards ⋈ inspections ⋈ enterprises) twelve times. Here each table's placed records are built
once (a materialised CTE), joined to a small table of the periods on the part's window, and
grouped by unit × period — one query for all periods, with the same parts, windows, filters and
NA rule as metrics.indicators (the scheme's part definitions compile through the same
metrics.query / metrics.expr functions; a filter or amount that names a period variable is
compiled once per period). tests/metrics/test_panel.py checks the result equals
``compute_indicators`` / ``compute_score`` period by period on the demo warehouse.

The scores are then built from these values by metrics.score's own pure functions
(``score_items``, ``peer_groups``, ``apply_warning_rule``), exactly as ``compute_score`` does.
"""
from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from metrics import expr
from metrics.indicators import COLUMNS
from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.query import period_variables, placed_source_sql, run, sliced_for
from metrics.scheme import Part, Scheme, load_scheme
from metrics.score import peer_groups, publish_score, score_items
from metrics.sources import ACTIVITY, SOURCES, level_name, units_sql

__all__ = ["indicator_panel", "score_panel", "score_codes"]

# a unit is assessed in a period when it has an inspection, a hazard found or a case filed in it
# (metrics.indicators: the same three counts)
_ACTIVITY_PARTS = [Part(t, "count", window="period", date=SOURCES[t].date) for t in ACTIVITY]


def _names(node: expr.Node) -> set[str]:
    """The column and variable names an expression uses."""
    if isinstance(node, expr.Name):
        return {node.name}
    out: set[str] = set()
    for attr in ("arg", "left", "right"):
        child = getattr(node, attr, None)
        if isinstance(child, expr.Node):
            out |= _names(child)
    return out


_SENTINELS = [  # stand-ins for the period variables, swapped for the periods table's columns
    {"period_start": dt.date(1901, 2, 3), "period_end": dt.date(1901, 4, 5), "year_start": dt.date(1901, 6, 7),
     "period_year": 190108.25, "period_months": 190109.25, "months_elapsed": 190110.25},
    {"period_start": dt.date(1902, 3, 4), "period_end": dt.date(1902, 5, 6), "year_start": dt.date(1902, 7, 8),
     "period_year": 290108.75, "period_months": 290109.75, "months_elapsed": 290110.75},
]


def _per_period(node: expr.Node | None, table: str, periods: list[Period], default: str) -> str:
    """SQL of a filter or amount. A period variable becomes a column of the periods table ``q``
    (compiled with stand-in literals that are then swapped for ``q.<variable>``; two different
    stand-in sets must give the same SQL, else it is compiled once per period in a CASE)."""
    if node is None:
        return default
    cols = SOURCES[table].columns
    ref = lambda c: f's."{c}"'  # noqa: E731
    if not (_names(node) & set(expr.PERIOD_VARIABLES)):
        return expr.compile_sql(node, cols, ref, period_variables(periods[0]))
    swapped = []
    for stand_in in _SENTINELS:
        sql = expr.compile_sql(node, cols, ref, stand_in)
        for name, v in stand_in.items():
            sql = sql.replace(expr.sql_literal(v), f"q.{name}")
        swapped.append(sql)
    if swapped[0] == swapped[1]:
        return swapped[0]
    whens = " ".join(f"WHEN {i} THEN {expr.compile_sql(node, cols, ref, period_variables(p))}"
                     for i, p in enumerate(periods))
    return f"(CASE q.pid {whens} END)"


def _aggregate(part: Part, periods: list[Period]) -> str:
    cond = _per_period(part.where, part.table, periods, "TRUE")
    if part.agg == "count":
        return f"count(*) FILTER (WHERE {cond})"
    if part.agg == "distinct":
        return f'count(DISTINCT s."{part.column}") FILTER (WHERE {cond})'
    amount = _per_period(part.amount, part.table, periods, "0")
    return f"coalesce(sum({amount}) FILTER (WHERE {cond}), 0)"


def _window_join(part: Part) -> str:
    """Join the records to the periods whose window holds them (metrics.query.condition_sql)."""
    if part.window == "all":
        return "CROSS JOIN periods q"
    d = f's."{part.date}"'
    lo = {"period": "q.period_start", "year_to_date": "q.year_start", "as_of": None}[part.window]
    cond = f"{d} <= q.period_end" + (f" AND {d} >= {lo}" if lo else "")
    return f"JOIN periods q ON {cond}"


def _parts_sql(parts: list[Part], periods: list[Period], level: str, province: str,
               sliced: bool = False) -> tuple[str, dict[Part, str]]:
    """One query: unit, pid, one column per part."""
    names = list(expr.PERIOD_VARIABLES)
    rows = ", ".join("(" + ", ".join([str(i)] + [expr.sql_literal(period_variables(p)[n]) for n in names]) + ")"
                     for i, p in enumerate(periods))
    ctes = [f"periods(pid, {', '.join(names)}) AS (VALUES {rows})"]
    tables = list(dict.fromkeys(p.table for p in parts))
    for t in tables:
        ctes.append(f"src_{t} AS MATERIALIZED ({placed_source_sql(t, level, province, sliced)})")
    groups: dict[tuple, list[Part]] = {}
    for p in parts:
        groups.setdefault((p.table, p.window, p.date if p.window != "all" else None), []).append(p)
    alias: dict[Part, str] = {}
    selects = []
    for g, (key, members) in enumerate(groups.items()):
        table = key[0]
        cols = []
        for p in members:
            alias[p] = f"c{len(alias)}"
            cols.append(f"{_aggregate(p, periods)} AS {alias[p]}")
        selects.append((g, f"SELECT s.unit, q.pid, {', '.join(cols)} FROM src_{table} s {_window_join(members[0])} "
                           f"GROUP BY s.unit, q.pid", [alias[p] for p in members]))
    # one row per unit × period: join every group's aggregates
    ctes.append(f"units AS ({units_sql(level, province)})")
    ctes += [f"g{g} AS ({sql})" for g, sql, _ in selects]
    cols = ", ".join(f"CAST(coalesce(g{g}.{a}, 0) AS DOUBLE) AS {a}" for g, _, names in selects for a in names)
    joins = " ".join(f"LEFT JOIN g{g} ON g{g}.unit = u.code AND g{g}.pid = q.pid" for g, _, _ in selects)
    sql = (f"WITH {', '.join(ctes)}\nSELECT u.code, u.name, q.pid, {cols} FROM units u CROSS JOIN periods q {joins} "
           f"ORDER BY q.pid, u.code")
    return sql, alias


def indicator_panel(con: duckdb.DuckDBPyConnection, periods: list[str | Period], level: str = "city",
                    province: str | None = None, scheme: Scheme | None = None,
                    indicators: list[str] | None = None) -> pd.DataFrame:
    """``compute_indicators`` for several periods in one query: the same long frame with a leading
    ``period`` column (the period as text, e.g. '2025Q3')."""
    periods = [Period.parse(p) for p in periods]
    scheme = scheme or load_scheme()
    level_name(level)
    province = resolve_province(con, province)
    codes = list(indicators) if indicators is not None else list(scheme.indicators)
    cols = ["period", *COLUMNS]
    if not periods:
        return pd.DataFrame(columns=cols)
    inds = [scheme.indicator(c) for c in codes]
    parts = list(dict.fromkeys([p for i in inds for p in (i.numerator, i.denominator) if p is not None]
                               + _ACTIVITY_PARTS))
    sql, alias = _parts_sql(parts, periods, level, province, sliced_for(con, province))
    wide = run(con, sql)
    active = sum(wide[alias[p]] for p in _ACTIVITY_PARTS) > 0
    frames = []
    for order, ind in enumerate(inds):
        num = wide[alias[ind.numerator]].astype(float)
        if ind.denominator is None:
            den = pd.Series(np.nan, index=wide.index)
            val = num
        else:
            den = wide[alias[ind.denominator]].astype(float)
            val = (num / den.where(den != 0)).where(den != 0)
        frames.append(pd.DataFrame({"pid": wide["pid"], "code": wide["code"], "name": wide["name"], "ord": order,
                                    "indicator": ind.code, "value": val, "numerator": num, "denominator": den,
                                    "indicator_name": ind.name, "unit": ind.unit, "assessed": active}))
    out = pd.concat(frames, ignore_index=True).sort_values(["pid", "code", "ord"], kind="stable")
    out.insert(0, "period", out["pid"].map({i: str(p) for i, p in enumerate(periods)}))
    out["assessed"] = out["assessed"].astype(bool)
    return out[cols].reset_index(drop=True)


def score_codes(scheme: Scheme) -> list[str]:
    """The indicators the quarterly score reads (items, bonus, deductions), in compute_score's order."""
    spec = scheme.require_score()
    return list(dict.fromkeys([it.indicator for it in spec.items] + [a.indicator for a in spec.bonus]
                              + [a.indicator for a in spec.deductions]))


def score_panel(con: duckdb.DuckDBPyConnection, quarters: list[str | Period], level: str = "city",
                province: str | None = None, scheme: Scheme | None = None,
                long: pd.DataFrame | None = None) -> pd.DataFrame:
    """``compute_score`` for several quarters, stacked with a leading ``period`` column; one query
    for all the quarters' indicators (or ``long``: an indicator_panel frame already at hand)."""
    quarters = [Period.parse(q) for q in quarters]
    if any(q.kind != "quarter" for q in quarters):
        raise ValueError("the score is quarterly: give quarters like 2024Q3")
    scheme = scheme or load_scheme()
    spec = scheme.require_score()
    province = resolve_province(con, province)
    codes = score_codes(scheme)
    if long is None:
        long = indicator_panel(con, quarters, level, province, scheme, codes)
    names = {c: scheme.indicator(c).name for c in codes}
    groups = None
    frames = []
    for q in quarters:
        one = long[(long["period"] == str(q)) & long["indicator"].isin(codes)]
        units = one.drop_duplicates("code")[["code", "name", "assessed"]].set_index("code")
        values = one.pivot(index="code", columns="indicator", values="value").reindex(index=units.index, columns=codes)
        df = units.join(score_items(values, spec, q, names)).reset_index()
        if groups is None:
            groups = peer_groups(con, df["code"], level, province, spec.peers)
        df = publish_score(df, groups.to_numpy(), scheme)
        df.insert(0, "period", str(q))
        frames.append(df)
    return pd.concat(frames, ignore_index=True)

