"""The records behind a number: for a region, period and indicator, the rows its numerator or
denominator counts (or sums), through the same SQL the indicator uses."""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics import expr
from metrics.periods import Period
from metrics.query import condition_sql, period_variables, placed_source_sql, run, sliced_for
from metrics.scheme import Scheme, load_scheme
from metrics.sources import LEVEL_OF_CHINESE, SOURCES


def records(con: duckdb.DuckDBPyConnection, period: str | Period, code: str, indicator: str,
            part: str = "numerator", scheme: Scheme | None = None) -> pd.DataFrame:
    """The rows behind ``part`` of ``indicator`` for region ``code`` (a city, county or province).

    A count: one row per record (len = the number). A sum: the rows with an ``amount`` column whose
    total is the number. A distinct count: every matching record, the number being how many
    distinct values of the counted column they hold.
    """
    period = Period.parse(period)
    scheme = scheme or load_scheme()
    ind = scheme.indicator(indicator)
    if part not in ("numerator", "denominator"):
        raise ValueError(f"part is 'numerator' or 'denominator', not {part!r}")
    p = ind.numerator if part == "numerator" else ind.denominator
    if p is None:
        raise ValueError(f"{indicator} is a count or sum: it has no denominator")
    region = run(con, "SELECT level, province_code FROM regions WHERE code = ?", [str(code)])
    if region.empty:
        raise ValueError(f"no region {code}")
    level, province = LEVEL_OF_CHINESE[region.iloc[0, 0]], region.iloc[0, 1]
    src = SOURCES[p.table]
    extra = ""
    if p.agg == "sum":
        amount = expr.compile_sql(p.amount, src.columns, lambda c: f's."{c}"', period_variables(period))
        extra = f", {amount} AS amount"
    order = f's."{p.column}", s."{src.key}"' if p.agg == "distinct" else f's."{src.key}"'
    sql = (f"SELECT s.* EXCLUDE (unit){extra} FROM ({placed_source_sql(p.table, level, province, sliced_for(con, province))}) s "
           f"WHERE s.unit = {expr.sql_literal(str(code))} AND {condition_sql(p, period)} ORDER BY {order}")
    return run(con, sql)
