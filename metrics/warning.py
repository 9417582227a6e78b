"""The warning rule (提醒敦促函, methodology §3) as one object: it evaluates and it describes itself.

A unit is warned for a quarter when its published score is below ``threshold`` AND it ranks in
the last ``last`` of its assessed peers (rank 1 = highest score; units tied with the
``last``-th from the bottom all count). With fewer than ``min_peers`` assessed peers there is
no list. The published score sheet (metrics.score), the rank simulations (metrics.uncertainty,
metrics.whatif, metrics.early_warning), the pages and the notices all ask this object — so the
rule and its sentence (低于…分且位列后…名) exist once.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

NOT_ASSESSED = "无数据：本季度无检查、无隐患、无立案"


def ranks(values: np.ndarray, higher_first: bool = True) -> np.ndarray:
    """Rank each column of ``values`` (1 = best, ties share the best place); NaN stays NaN."""
    values = np.asarray(values, dtype=float)
    out = np.full(values.shape, np.nan)
    ok = ~np.isnan(values)
    if ok.any():
        filled = np.where(ok, -values if higher_first else values, np.inf)
        # pandas' rank, not scipy.stats.rankdata: the same places, and importing scipy.stats took
        # 0.6 s of a server's first page (every index and score ranks)
        table = pd.DataFrame(filled.reshape(len(filled), -1))
        placed = table.rank(axis=0, method="min").to_numpy().reshape(filled.shape)
        out = np.where(ok, placed, np.nan)
    return out


def rank_in_groups(score: pd.Series, group: pd.Series, ascending: bool = False) -> pd.Series:
    """Rank within each peer group: 1 = highest (or lowest), ties share the best place; NA stays NA."""
    return score.groupby(group).rank(method="min", ascending=ascending).astype("Int64")


@dataclass(frozen=True)
class WarningRule:
    threshold: float = 80.0       # warned when the published score is below this …
    last: int = 3                 # … and the unit ranks in the last `last` (ties included)
    min_peers: int = 4            # fewer assessed peers: no list

    @property
    def last_n(self) -> int:
        return self.last

    # --- evaluation ------------------------------------------------------------------------------
    def has_list(self, peers):
        """Whether a peer group of ``peers`` assessed units has a warning list (scalar or array)."""
        return np.asarray(peers) >= self.min_peers

    def is_warned(self, score, from_bottom, peers):
        """The rule on published scores, their places counted from the bottom (1 = lowest, ties
        sharing the lowest place) and the group sizes; arrays broadcast. NaN score: not warned."""
        score = np.asarray(score, dtype=float)
        with np.errstate(invalid="ignore"):
            return (self.has_list(peers) & (score < self.threshold)
                    & (np.nan_to_num(np.asarray(from_bottom, dtype=float), nan=np.inf) <= self.last))

    def gap(self, score):
        """Published score − threshold (negative: below the line)."""
        return score - self.threshold

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        """A copy of a frame with score, assessed and group, plus rank, peers, warned (NA for a unit
        not assessed) and reason (why warned, why there is no list, or 无数据)."""
        out = df.copy()
        assessed = out["assessed"].astype(bool)
        score = out["score"].astype(float).where(assessed)
        out["rank"] = rank_in_groups(score, out["group"])
        from_bottom = rank_in_groups(score, out["group"], ascending=True)
        out["peers"] = assessed.groupby(out["group"]).transform("sum").astype(int)
        warned = assessed.to_numpy() & self.is_warned(score.to_numpy(), from_bottom.astype("Float64").to_numpy(
            dtype=float, na_value=np.nan), out["peers"].to_numpy())
        out["warned"] = pd.array(warned, dtype="boolean")
        out.loc[~assessed, "warned"] = pd.NA
        has_list = self.has_list(out["peers"].to_numpy())
        out["reason"] = [
            NOT_ASSESSED if not a else self.no_list_reason(p) if not h else
            self.warned_reason(s, int(b), p) if w else ""
            for a, h, w, s, b, p in zip(assessed, has_list, warned, score, from_bottom.fillna(0), out["peers"])]
        return out

    def evaluate_draws(self, scores: np.ndarray, group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(warned, rank) for units × draws of published scores (NaN in the first column = not
        assessed), per peer group: the rule of ``apply`` for many draws at once."""
        warned = np.zeros(scores.shape, dtype=bool)
        rank = np.full(scores.shape, np.nan)
        for g in pd.unique(group):
            rows = np.flatnonzero((group == g) & ~np.isnan(scores[:, 0]))
            if len(rows) == 0:
                continue
            s = scores[rows]
            rank[rows] = ranks(s)
            warned[rows] = self.is_warned(s, ranks(s, higher_first=False), len(rows))
        return warned, rank

    # --- description -----------------------------------------------------------------------------
    def condition(self) -> str:
        """The two conditions, as a notice and a page say them: 低于80分且位列后3名."""
        return f"低于{self.threshold:g}分且位列后{self.last}名"

    def describe(self) -> str:
        """One sentence for a legend or a caption."""
        return f"季度考评得分{self.condition()}，两项同时满足"

    def describe_full(self) -> str:
        """The whole rule: both conditions, ties and the minimum number of peers."""
        return (f"季度考评得分{self.condition()}的单位列入预警名单（两项同时满足；与倒数第{self.last}名"
                f"并列的单位一并计入）。{self.no_list_rule()}")

    def no_list_rule(self) -> str:
        return f"参评单位少于{self.min_peers}个时不设预警名单。"

    def no_list_reason(self, peers: int, noun: str = "单位") -> str:
        """Why a peer group has no list."""
        return f"参评{noun}{int(peers)}个，少于{self.min_peers}个，不设预警名单"

    def warned_reason(self, score: float, from_bottom: int, peers: int) -> str:
        """Why this unit is warned: its published score and its place from the bottom."""
        return f"得分{score:.1f}，{self.condition()}（倒数第{int(from_bottom)}名，共{int(peers)}个参评单位）"

    def none_warned(self, noun: str = "单位") -> str:
        """A quarter with a list but nobody on it."""
        return f"本季度没有{noun}同时满足“得分低于{self.threshold:g}分”与“位列后{self.last}名”"

    def threshold_label(self) -> str:
        """The line on a chart."""
        return f"预警线 {self.threshold:g}"
