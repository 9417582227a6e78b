"""Cached data access for 分析工具 (pages/analysis.py): metrics.weights / uncertainty /
quality / early_warning / whatif over the frames ui.data already caches.

Same pattern as ui.data (and built on it): every memoised function (ui.cache) takes the warehouse
key ``(path, version)`` first and the scheme key, so a load or a scheme edit never serves stale
results; queries run on their own cursor of the cached read-only connection. The period's index
and score come from ui.data (shared with the other pages); the history every tool needs — all
quarters' indicators — is one query (metrics.panel), cached once per level and reused by the
quality flags and the early warning.

Access: the tools compute over every unit (cached, ``_name``); what a page gets back is filtered
by the user's scope (ui.data.scope): a city user sees its own units' details and, for the others,
only what ui.auth.PUBLIC allows (rank positions, published index / score).
"""
from __future__ import annotations

import dataclasses

import pandas as pd

from metrics.periods import Period
from ui import auth, data
from ui.cache import memo

Key = data.Key


def _directions(scheme) -> dict[str, str]:
    return {n.code: scheme.indicator(n.code).direction for n in scheme.require_index().leaves}


@memo(max_entries=8, show_spinner="正在汇总各季度指标…")
def _history(k: Key, level: str, province: str, skey: tuple[str, int], quarters: tuple[str, ...]) -> pd.DataFrame:
    """Every quarter's indicators (the score's, the index's and the quality profile's), one query."""
    from metrics.panel import indicator_panel, score_codes
    from metrics.quality import PROFILE_EXTRA

    sc = data.scheme(skey)
    codes = score_codes(sc) + [n.code for n in sc.require_index().leaves] + \
        [c for c in (*PROFILE_EXTRA, "coverage", "key_coverage") if c in sc.indicators]
    with data._cursor(k) as cur:
        return indicator_panel(cur, list(quarters), level, province, sc, list(dict.fromkeys(codes)))


@memo(max_entries=8, show_spinner="正在计算各季度考评得分…")
def _score_history(k: Key, level: str, province: str, skey: tuple[str, int], quarters: tuple[str, ...]) -> pd.DataFrame:
    from metrics.panel import score_panel

    long = _history(k, level, province, skey, quarters)
    with data._cursor(k) as cur:
        return score_panel(cur, list(quarters), level, province, data.scheme(skey), long=long)


@memo(max_entries=32, show_spinner="正在计算客观权重…")
def _weights(k: Key, period: str, level: str, province: str, skey: tuple[str, int]):
    from metrics.weights import compare_weights

    sc = data.scheme(skey)
    detail = data._index_detail(k, period, level, province, skey)
    return compare_weights(detail, sc.require_index(), {c: i.name for c, i in sc.indicators.items()})


@memo(max_entries=32, show_spinner="正在进行蒙特卡洛模拟…")
def _uncertainty(k: Key, period: str, level: str, province: str, skey: tuple[str, int], draws: int = 1000,
                spread: float = 0.5, normalisations: tuple[str, ...] = ("scheme", "minmax", "zscore", "rank"),
                seed: int = 0):
    from metrics.uncertainty import rank_uncertainty

    sc = data.scheme(skey)
    detail = data._index_detail(k, period, level, province, skey)
    return rank_uncertainty(detail, sc.require_index(), period, _directions(sc), draws=draws, spread=spread,
                            normalisations=normalisations, seed=seed, last=sc.warning.last)


@memo(max_entries=32, show_spinner="正在检验预警名单的稳健性…")
def _robustness(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int], draws: int = 1000,
               spread: float = 0.5, seed: int = 0) -> pd.DataFrame:
    """Per unit of the quarter's score sheet: warned_share, robust, verdict (metrics.uncertainty)."""
    from metrics.uncertainty import warning_robustness

    sc = data.scheme(skey)
    sheet = data._score(k, quarter, level, province, skey)
    return warning_robustness(sheet, sc.require_score(), sc.warning, draws=draws, spread=spread, seed=seed)


@memo(max_entries=16, show_spinner="正在检查数据质量…")
def _quality(k: Key, period: str, level: str, province: str, skey: tuple[str, int], quarters: tuple[str, ...]):
    from metrics.quality import quality_report

    long = _history(k, level, province, skey, quarters)
    with data._cursor(k) as cur:
        return quality_report(cur, period, level, province, data.scheme(skey), long=long, quarters=list(quarters))


@memo(max_entries=16, show_spinner="正在训练预警模型并回测…")
def _outlook(k: Key, as_of: str, level: str, province: str, skey: tuple[str, int], quarters: tuple[str, ...]):
    from metrics.early_warning import early_warning

    scores = _score_history(k, level, province, skey, quarters)
    return early_warning(scores, data.scheme(skey), as_of=as_of)


def _whatif_index(k: Key, period: str, level: str, province: str, skey: tuple[str, int],
                 weights: dict[str, float], targets: dict[str, float]) -> pd.DataFrame:
    from metrics.whatif import whatif_index as run

    sc = data.scheme(skey)
    detail = data._index_detail(k, period, level, province, skey)
    return run(detail, sc.require_index(), Period.parse(period), _directions(sc), weights=weights, targets=targets)


def _whatif_score(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int],
                 points: dict[str, float], targets: dict[str, float]) -> pd.DataFrame:
    from metrics.whatif import whatif_score as run

    sc = data.scheme(skey)
    sheet = data._score(k, quarter, level, province, skey)
    return run(sheet, sc.require_score(), sc.warning, quarter, points=points, targets=targets)


# --- what the pages get: filtered by the user's scope ----------------------------------------------------
def weights(k: Key, period: str, level: str, province: str, skey: tuple[str, int]):
    """Objective vs expert weights (aggregate) and each unit's rank under each (rank positions)."""
    cmp = _weights(k, period, level, province, skey)
    return dataclasses.replace(cmp, ranks=auth.limit_units(cmp.ranks, data.scope()))


def uncertainty(k: Key, period: str, level: str, province: str, skey: tuple[str, int], draws: int = 1000,
                spread: float = 0.5, normalisations: tuple[str, ...] = ("scheme", "minmax", "zscore", "rank"),
                seed: int = 0):
    mc = _uncertainty(k, period, level, province, skey, draws, spread, normalisations, seed)
    sc = data.scope()
    if sc.full:
        return mc
    mine = mc.units["code"].astype(str).isin(sc.codes).to_numpy()
    ranks = mc.ranks[mine] if getattr(mc.ranks, "shape", (0,))[0] == len(mine) else None  # units × draws
    return dataclasses.replace(mc, units=auth.limit_units(mc.units, sc), ranks=ranks)


def robustness(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int], draws: int = 1000,
               spread: float = 0.5, seed: int = 0) -> pd.DataFrame:
    return auth.limit_units(_robustness(k, quarter, level, province, skey, draws, spread, seed), data.scope())


def quality(k: Key, period: str, level: str, province: str, skey: tuple[str, int], quarters: tuple[str, ...]):
    rep = _quality(k, period, level, province, skey, quarters)
    sc = data.scope()
    if sc.full:
        return rep
    return dataclasses.replace(rep, panel=auth.only_units(rep.panel, sc), flags=auth.only_units(rep.flags, sc),
                               outlier_scores=auth.only_units(rep.outlier_scores, sc))


def outlook(k: Key, as_of: str, level: str, province: str, skey: tuple[str, int], quarters: tuple[str, ...]):
    ew = _outlook(k, as_of, level, province, skey, quarters)
    sc = data.scope()
    if sc.full:
        return ew
    bt = ew.backtest
    return dataclasses.replace(
        ew, risk=auth.limit_units(ew.risk, sc),
        backtest=dataclasses.replace(bt, predictions=auth.only_units(bt.predictions, sc)))


def whatif_index(k: Key, period: str, level: str, province: str, skey: tuple[str, int],
                 weights: dict[str, float], targets: dict[str, float]) -> pd.DataFrame:
    """A city user sees its own units only (ranks under weights of one's choosing would spell
    out the others' indicators)."""
    return auth.only_units(_whatif_index(k, period, level, province, skey, weights, targets), data.scope())


def whatif_score(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int],
                 points: dict[str, float], targets: dict[str, float]) -> pd.DataFrame:
    return auth.only_units(_whatif_score(k, quarter, level, province, skey, points, targets), data.scope())


# every frame a page gets is formula-safe (see the end of ui.data): the memoised figures once, when
# computed; the what-if reads (not memoised) on their way out
data._guard_when_computed(_weights, _uncertainty, _robustness, _quality, _outlook)
for _name in ("whatif_index", "whatif_score"):
    globals()[_name] = data._formula_safe(globals()[_name])
