"""Year-on-year (and period-on-period) growth, defined once (methodology §4): (now − then) / then,
NA where then is 0 or either value is NA.

The compiler's growth indicators (metrics.query, ``growth = "…"`` in a scheme), metrics.yoy's
table, the bulletin's 同比 and 环比 and the overview's KPI tiles all call this function, so a
growth shown in two places is the same number."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd


def growth(now: pd.Series, then: pd.Series) -> pd.Series:
    """(now − then) / then, element-wise; NA where then is 0, where either is NA, and where the
    result is not finite."""
    now, then = pd.Series(now).astype(float), pd.Series(then).astype(float)
    out = ((now - then) / then.where(then != 0)).where(now.notna() & then.notna())
    return out.where(np.isfinite(out))


def growth_of(now, then) -> float | None:
    """growth() of two single values; None where it is NA."""
    g = growth(pd.Series([now], dtype=float), pd.Series([then], dtype=float)).iloc[0]
    return None if g is None or math.isnan(g) else float(g)
