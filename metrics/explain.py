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


# code columns people read as names: (code column, name column it gets, what holds the names)
NAMED = (("enterprise_id", "enterprise", "enterprise"), ("agency_code", "agency", "region"),
         ("enterprise_county", "enterprise_county_name", "region"), ("county_code", "county", "region"))


def with_names(con: duckdb.DuckDBPyConnection, df: pd.DataFrame) -> pd.DataFrame:
    """`df` with each known code column's name beside it (企业名称 before its credit code, the
    agency's and the county's names before their codes); the codes stay. Missing names stay blank."""
    out = df.copy()
    for code_col, name_col, source in NAMED:
        if code_col not in out.columns or name_col in out.columns:
            continue
        codes = [str(c) for c in out[code_col].dropna().unique().tolist()]
        if codes:
            sql = ("SELECT enterprise_id AS code, name FROM mart_enterprises WHERE enterprise_id IN "
                   "(SELECT unnest($codes))" if source == "enterprise" else
                   "SELECT code, name FROM regions WHERE code IN (SELECT unnest($codes))")
            names = dict(con.execute(sql, {"codes": codes}).fetchall())
        else:
            names = {}
        out.insert(out.columns.get_loc(code_col), name_col, out[code_col].map(lambda c: names.get(str(c), "")))
    return out
