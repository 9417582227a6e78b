"""SRF-style bands of a 0–100 score (methodology §5), as the US EPA's State Review Framework bands
states: meets (达标) at or above `meets`, attention (关注) at or above `attention`, else
improvement (需改进). Thresholds and labels come from the scheme's [bands]."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd

from metrics.scheme import Bands

DEFAULT = Bands()


def band(score: float | None, bands: Bands = DEFAULT) -> str | None:
    """The band of one score; None for NA."""
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return None
    meets, attention, improve = bands.labels
    return meets if score >= bands.meets else attention if score >= bands.attention else improve


def band_series(scores: pd.Series, bands: Bands = DEFAULT) -> pd.Series:
    """Vectorised ``band``: NA stays NA."""
    s = scores.astype(float)
    meets, attention, improve = bands.labels
    out = np.select([s >= bands.meets, s >= bands.attention, s.notna()], [meets, attention, improve], default="")
    return pd.Series(out, index=scores.index, dtype=object).replace("", None)
