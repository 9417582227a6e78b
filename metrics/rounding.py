"""Published rounding: decimal half away from zero, forgiving binary float noise.

Staff check published figures by hand, so 90.95 must print as 91.0 even when the float that
reaches us reads 90.94999999999999. A value within 1e-9 of a .x5 boundary rounds away from zero.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

TOLERANCE = 1e-9


def round_half_away(x, decimals: int = 1):
    """Round a number, array or Series; NaN/None stay missing. Returns the same shape."""
    if isinstance(x, pd.Series):
        return pd.Series(round_half_away(x.to_numpy(dtype=float, na_value=np.nan), decimals), index=x.index, name=x.name)
    scalar = np.isscalar(x) or x is None
    a = np.asarray(np.nan if x is None else x, dtype=float)
    scale = 10.0 ** decimals
    magnitude = np.floor(np.abs(a) * scale + 0.5 + TOLERANCE * scale)
    out = np.sign(a) * magnitude / scale
    out = np.where(out == 0, 0.0, out)  # no "-0.0" in published tables
    return float(out) if scalar else out
