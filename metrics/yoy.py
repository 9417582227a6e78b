"""Year-on-year growth (methodology §4, Jiangsu style): (now − then) / then against the same period
a year earlier, for the scheme's [yoy] indicators; NA where then is 0 or NA. The formula is
metrics.growth's, the one the compiler uses for a scheme's growth indicators."""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.growth import growth  # noqa: F401 — the one definition (metrics.growth); kept importable here
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.scheme import Scheme, load_scheme


def year_on_year(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                 province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """Long frame code, name, indicator, indicator_name, unit, value, previous, growth (a fraction)."""
    period = Period.parse(period)
    scheme = scheme or load_scheme()
    province = resolve_province(con, province)
    codes = list(scheme.yoy)
    now = compute_indicators(con, period, level, province, scheme, codes)
    then = compute_indicators(con, period.year_ago(), level, province, scheme, codes)
    df = now.merge(then[["code", "indicator", "value"]].rename(columns={"value": "previous"}),
                   on=["code", "indicator"], how="left")
    df["growth"] = growth(df["value"], df["previous"])
    return df[["code", "name", "indicator", "indicator_name", "unit", "value", "previous", "growth"]]
