"""Who moved most between two periods' index rankings (the overview's 名次变化; the bulletin's
三、各地排名 says the same in words)."""
from __future__ import annotations

import pandas as pd


def rank_moves(now: pd.DataFrame, before: pd.DataFrame | None) -> pd.DataFrame:
    """code, name, index, rank, previous_index, previous_rank, rank_change (+ = moved up,
    previous_rank − rank), index_change; one row per unit ranked in both periods, biggest
    rise first. Frames are metrics.index results (code, name, index, rank)."""
    cols = ["code", "name", "index", "rank", "previous_index", "previous_rank", "rank_change", "index_change"]
    if before is None or now.empty or before.empty:
        return pd.DataFrame(columns=cols)
    m = now[["code", "name", "index", "rank"]].merge(
        before[["code", "index", "rank"]].rename(columns={"index": "previous_index", "rank": "previous_rank"}),
        on="code", how="inner")
    m = m[m["rank"].notna() & m["previous_rank"].notna()].copy()
    m["rank_change"] = (m["previous_rank"].astype(float) - m["rank"].astype(float)).astype(int)
    m["index_change"] = m["index"].astype(float) - m["previous_index"].astype(float)
    return m.sort_values(["rank_change", "index_change", "code"], ascending=[False, False, True])[cols] \
        .reset_index(drop=True)


def movers(moves: pd.DataFrame, n: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(up to `n` that rose most, up to `n` that fell most); units whose rank did not change are in neither."""
    up = moves[moves["rank_change"] > 0].head(n)
    down = moves[moves["rank_change"] < 0].sort_values(["rank_change", "index_change", "code"]).head(n)
    return up.reset_index(drop=True), down.reset_index(drop=True)
