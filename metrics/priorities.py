"""Strengths and priority issues, as the US EPA's State Review Framework reports them: for a unit
(or the province as a whole) at most three areas of strong performance and at most three priority
issues, named from the index's own figures.

A priority issue is an index indicator in the 需改进 band (metrics.bands) that costs the index the
most points (metrics.breakdown.index_breakdown's ``lost``); a strength is an indicator in the 达标
band, highest normalised score first. For the province, an indicator is judged on its peers'
median normalised score and costs the mean of the points it takes off the units' indices. Both
the bulletin's 五、存在问题 and the 区域分析 page read these functions, so the page and the
document name the same indicators with the same figures.
"""
from __future__ import annotations

import math

import pandas as pd

from metrics.bands import band
from metrics.breakdown import index_breakdown
from metrics.rounding import round_half_away
from metrics.scheme import Scheme

TOP = 3
COLUMNS = ["kind", "indicator", "name", "value", "unit", "score", "band", "lost", "units_improve", "peers", "text"]


def _na(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def value_text(x, unit: str, decimals: int | None = None) -> str:
    """An indicator value as a bulletin writes it: 98.6%, 7.62万元, 86.5分, 12项; NA as 不适用."""
    if _na(x):
        return "不适用"
    x = float(x)
    if unit == "%":
        return f"{round_half_away(100 * x, 1):.1f}%"
    d = 2 if decimals is None and unit == "万元" else (1 if decimals is None else decimals)
    if d == 0 or (unit in ("件", "项", "次", "个", "家") and float(x).is_integer()):
        return f"{int(round_half_away(x, 0)):,}{unit}"
    return f"{round_half_away(x, d):,.{d}f}{unit}"


def _sentence(r, scheme: Scheme, kind: str) -> str:
    ind = scheme.indicators.get(r["indicator"])
    unit = ind.unit if ind else ""
    decimals = ind.decimals if ind else None
    what = f"{r['name']}{value_text(r['value'], unit, decimals)}" if "value" in r and not _na(r["value"]) else r["name"]
    score = f"标准化得分{round_half_away(float(r['score']), 1):.1f}"
    if kind == "priority":
        return f"{what}（{score}，{r['band']}，拉低指数{round_half_away(float(r['lost']), 1):.1f}分）"
    return f"{what}（{score}，{r['band']}）"


def unit_priorities(detail: pd.DataFrame, code: str, scheme: Scheme, top: int = TOP) -> pd.DataFrame:
    """One unit's priority issues and strengths from index_detail's frame: rows of kind
    'priority' (需改进, most index points lost first) and 'strength' (达标, highest score first),
    at most ``top`` each, with a sentence (``text``) that names the figures."""
    ib = index_breakdown(detail, code, scheme)
    meets, _, improve = scheme.bands.labels
    if ib.empty:
        return pd.DataFrame(columns=COLUMNS)
    ib = ib.assign(unit=ib["indicator"].map(lambda c: scheme.indicators[c].unit if c in scheme.indicators else ""),
                   units_improve=pd.NA, peers=pd.NA)
    issues = ib[(ib["band"] == improve) & ib["lost"].notna()].sort_values(["lost", "indicator"],
                                                                          ascending=[False, True]).head(top)
    strengths = ib[ib["band"] == meets].sort_values(["score", "weight", "indicator"],
                                                    ascending=[False, False, True]).head(top)
    out = pd.concat([issues.assign(kind="priority"), strengths.assign(kind="strength")], ignore_index=True)
    out["text"] = [_sentence(r, scheme, r["kind"]) for _, r in out.iterrows()]
    return out[COLUMNS].reset_index(drop=True)


def province_priorities(detail: pd.DataFrame, scheme: Scheme, top: int = TOP) -> pd.DataFrame:
    """The province's priority issues and strengths over its assessed units: each index indicator
    judged on the median of the units' normalised scores (banded as a unit's would be), ranked by
    the mean index points it takes off a unit (priority) or by that median (strength).
    ``units_improve`` = how many units are in 需改进 on it, ``peers`` = units with a score."""
    meets, _, improve = scheme.bands.labels
    assessed = detail[detail["assessed"].astype(bool)]
    codes = list(dict.fromkeys(assessed["code"]))
    if not codes:
        return pd.DataFrame(columns=COLUMNS)
    lost = pd.concat([index_breakdown(detail, c, scheme).assign(code=c) for c in codes], ignore_index=True)
    scored = lost[lost["score"].notna()]
    if scored.empty:
        return pd.DataFrame(columns=COLUMNS)
    g = scored.groupby("indicator", sort=False)
    agg = pd.DataFrame({
        "score": g["score"].median(),
        "lost": g["lost"].mean(),
        "units_improve": g["band"].apply(lambda b: int((b == improve).sum())),
        "peers": g.size(),
        "weight": g["weight"].first(),
    }).reset_index()
    agg["band"] = agg["score"].map(lambda s: band(float(s), scheme.bands))
    agg["name"] = agg["indicator"].map(lambda c: scheme.indicators[c].name if c in scheme.indicators else c)
    agg["unit"] = agg["indicator"].map(lambda c: scheme.indicators[c].unit if c in scheme.indicators else "")
    agg["value"] = pd.NA
    issues = agg[agg["band"] == improve].sort_values(["lost", "indicator"], ascending=[False, True]).head(top)
    strengths = agg[agg["band"] == meets].sort_values(["score", "weight", "indicator"],
                                                      ascending=[False, False, True]).head(top)
    out = pd.concat([issues.assign(kind="priority"), strengths.assign(kind="strength")], ignore_index=True)
    texts = []
    for _, r in out.iterrows():
        med = f"各单位标准化得分中位数{round_half_away(float(r['score']), 1):.1f}"
        if r["kind"] == "priority":
            texts.append(f"{r['name']}（{med}，{r['band']}；{int(r['units_improve'])}/{int(r['peers'])}个单位处于"
                         f"{improve}档，平均拉低指数{round_half_away(float(r['lost']), 1):.1f}分）")
        else:
            texts.append(f"{r['name']}（{med}，{r['band']}）")
    out["text"] = texts
    return out[COLUMNS].reset_index(drop=True)


def summary(priorities: pd.DataFrame, scheme: Scheme) -> tuple[str, str]:
    """Two sentences, (strengths, priority issues), in words even when there are none."""
    meets, _, improve = scheme.bands.labels
    s = priorities[priorities["kind"] == "strength"]["text"].tolist()
    p = priorities[priorities["kind"] == "priority"]["text"].tolist()
    strengths = ("优势方面：" + "；".join(s) + "。") if s else f"优势方面：没有处于{meets}档的指标。"
    issues = ("需重点改进：" + "；".join(p) + "。") if p else f"需重点改进：没有处于{improve}档的指标。"
    return strengths, issues
