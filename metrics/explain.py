"""The records behind a number: for a region, period and indicator, the rows its numerator or
denominator counts (or sums), through the same compiler pieces the indicator uses (metrics.query)."""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.periods import Period
from metrics.query import ensure_marts, part_records_sql, run
from metrics.scheme import Scheme, load_scheme
from metrics.sources import LEVEL_OF_CHINESE


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
    if ind.growth_of:  # year-on-year: the other indicator's records now (numerator) or a year earlier
        return records(con, period if part == "numerator" else period.year_ago(), code, ind.growth_of,
                       "numerator", scheme)
    p = ind.numerator if part == "numerator" else ind.denominator
    if p is None:
        raise ValueError(f"{indicator} is a count or sum: it has no denominator")
    region = run(con, "SELECT level, province_code FROM regions WHERE code = ?", [str(code)])
    if region.empty:
        raise ValueError(f"no region {code}")
    level, province = LEVEL_OF_CHINESE[region.iloc[0, 0]], region.iloc[0, 1]
    ensure_marts(con)
    return run(con, part_records_sql(p, period, level, province, str(code)))
