"""Year-on-year growth (methodology §4, Jiangsu style): (now − then) / then against the same period
a year earlier, for the scheme's [yoy] indicators; NA where then is 0 or NA."""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.scheme import Scheme, load_scheme


def growth(now: pd.Series, then: pd.Series) -> pd.Series:
    """(now − then) / then; NA where then is 0 or either is NA."""
    now, then = now.astype(float), then.astype(float)
    return ((now - then) / then.where(then != 0)).where(now.notna() & then.notna())


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
    df["growth"] = df["growth"].replace([np.inf, -np.inf], np.nan)
    return df[["code", "name", "indicator", "indicator_name", "unit", "value", "previous", "growth"]]
