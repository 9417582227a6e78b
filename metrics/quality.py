"""Data quality: the per-unit panel of methodology §5 and the review flags of §6.

Flags are for review only: nothing here changes an indicator, index, score, rank or warning
(every function reads; the page shows flags beside the unchanged figures).

The panel (``QualityReport.panel``), per unit of the level, for the period:

* ``coverage`` / ``key_coverage`` above 100% — more distinct enterprises inspected than the
  register holds (a register that is incomplete or enterprises placed in the wrong county);
* hazards without an inspection — hazards whose found_date is more than ``found_gap_days`` (7)
  after the date of the inspection they cite (a finding with no site visit on record). Hazards
  citing an inspection the warehouse does not hold cannot be placed in any unit: they are counted
  for the whole warehouse (``orphan_hazards``, from the ETL's mart_orphan_hazards; the data
  contract refuses them, so this is 0 unless records reached the warehouse another way);
* rectified before found — hazards of the period with rectified_date < found_date (refused by the
  contract; counted so the panel proves it);
* cases without a decision after 90 days — cases filed in the year before the period's end and at
  least 90 days before it, with no decision recorded by the period's end (count and share);
* records entered late — a record (inspection, hazard, case of the period, by its counting date)
  is late when the load that last wrote it (``load_id`` → ``load_history.loaded_at``) came more
  than ``late_days`` (30) days after the end of the record's quarter — after the quarter's figures
  are normally published. The warehouse's first load run is the initial backfill of history and
  is never late. A correction reloaded later counts as late too: it changed a published quarter.

The flags (``QualityReport.flags``: code, name, rule, rule_name, reason — Chinese, with the
figures, so a person can check them against the records):

* ``coverage_over_100``, ``key_coverage_over_100``, ``found_after_inspection``,
  ``rectified_before_found`` — any such record;
* ``undecided_90`` — at least 3 cases and 10% of the eligible cases without a decision;
* ``late_entry`` — at least 10% of the period's records entered late (and at least 5 records);
* ``same_day_rectification`` — rectification ≥ 99% of at least 10 hazards needing it, and at
  least 90% of them rectified on the day they were found (the province's usual same-day share is
  shown beside it). "Needing it" is the scheme's 隐患整改率 denominator, as the indicator and the
  tiles count it (a scheme that redefines it moves this rule with it: ``same_day_part``);
* ``fine_bunching`` — for each threshold (5万元): a company fine (fine_company) just below it,
  in [t − 0.5万, t), against just above, [t, t + 0.5万), over the cases filed in the 12 months to
  the period's end. Flagged when at least 5 fall just below and a one-sided binomial test against
  the other units' share below (leave-one-out, kept within 0.2–0.8) gives p < 0.001 (strict: the
  test runs for every unit every period);
* ``sudden_jump`` — an indicator of the period (its last quarter, for a year) against the unit's
  own previous quarters (at least 4 of the last 8): robust z = (v − median) / max(1.4826·MAD,
  floor) with |z| ≥ 5 and a change of at least 20 percentage points (ratios; floor 2 points; the
  ratio's denominator at least 10) or at least the median itself (amounts and review scores, i.e.
  doubling or collapse; floor 5% of the median);
* ``outlier_profile`` — an IsolationForest (scikit-learn; 200 trees, seeded, contamination 5%)
  fitted on the units of the level in the period (the peers are the reference), over each unit's
  profile: the index's indicators, mobile_share, plan_completion, the same-day rectification
  share, and each indicator's change against the unit's own median of its previous quarters (its
  own history). NA → the peers' median; features scaled by their interquartile range. A flagged
  unit's reason names the three features furthest from the peers' median (robust z), with the
  unit's value and the median. Not fitted below 8 units.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import warnings

import duckdb
import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.ensemble import IsolationForest

from metrics import expr
from metrics.expr import sql_literal
from metrics.kpis import totals
from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.query import ensure_marts, run
from metrics.scheme import Part, Scheme, load_scheme
from metrics.sources import placed_sql, units_sql

RULES = {
    "coverage_over_100": "执法检查覆盖率超过100%",
    "key_coverage_over_100": "重点单位覆盖率超过100%",
    "found_after_inspection": "隐患无对应检查",
    "rectified_before_found": "整改早于发现",
    "undecided_90": "立案超90天未决定",
    "late_entry": "补录比例高",
    "same_day_rectification": "整改率100%且均为当日整改",
    "fine_bunching": "罚款集中在门槛以下",
    "sudden_jump": "指标较自身历史突变",
    "outlier_profile": "指标画像异常（孤立森林）",
}
FLAG_COLUMNS = ["code", "name", "rule", "rule_name", "reason", "value"]


@dataclasses.dataclass
class QualitySettings:
    found_gap_days: int = 7
    late_days: int = 30
    undecided_days: int = 90
    undecided_min: int = 3
    undecided_share: float = 0.10
    late_share: float = 0.10
    late_min: int = 5
    same_day_min_hazards: int = 10
    same_day_rectification: float = 0.99
    same_day_share: float = 0.90
    fine_thresholds: tuple[float, ...] = (5.0,)  # 万元
    fine_window: float = 0.5                       # 万元 either side
    fine_min_below: int = 5
    fine_p: float = 0.001
    history: int = 8
    history_min: int = 4
    jump_z: float = 5.0
    jump_ratio_change: float = 0.20
    jump_ratio_floor: float = 0.02
    jump_rel_change: float = 1.0
    jump_rel_floor: float = 0.05
    jump_min_denominator: float = 10
    contamination: float = 0.05
    trees: int = 200
    outlier_min_units: int = 8
    seed: int = 0


@dataclasses.dataclass
class QualityReport:
    period: str
    panel: pd.DataFrame        # one row per unit (see the module docstring)
    flags: pd.DataFrame        # code, name, rule, rule_name, reason, value
    orphan_hazards: int        # hazards citing an inspection not in the warehouse (not placeable)
    settings: QualitySettings
    outlier_scores: pd.DataFrame  # code, name, anomaly (higher = more isolated), outlier


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


# --- SQL: the panel's counts ------------------------------------------------------------------------
def _panel_sql(period: Period, level: str, province: str, s: QualitySettings) -> str:
    start, end = sql_literal(period.start), sql_literal(period.end)
    q_end = "(date_trunc('quarter', {d}) + INTERVAL 3 MONTH - INTERVAL 1 DAY)"
    late = f"(lh.loaded_at > {q_end} + INTERVAL {int(s.late_days)} DAY AND lh.run_id <> (SELECT first_run FROM backfill))"
    dec_lo = sql_literal(period.end - dt.timedelta(days=365))
    dec_hi = sql_literal(period.end - dt.timedelta(days=s.undecided_days))
    return f"""
    WITH backfill AS (SELECT run_id AS first_run FROM load_history ORDER BY load_id LIMIT 1),
    h AS (SELECT s.* FROM ({placed_sql('hazards', level, province, ('load_id',))}) s
          WHERE s.found_date BETWEEN {start} AND {end}),
    hz AS (SELECT unit,
                  count(*) FILTER (WHERE rectified_date < found_date) AS rectified_before_found,
                  count(*) FILTER (WHERE found_date > inspection_date + {int(s.found_gap_days)}) AS found_after_inspection
           FROM h GROUP BY unit),
    pc AS (SELECT unit,
                  count(*) FILTER (WHERE filed_date > {dec_lo} AND filed_date <= {dec_hi}) AS decidable,
                  count(*) FILTER (WHERE filed_date > {dec_lo} AND filed_date <= {dec_hi}
                                   AND (decision_date IS NULL OR decision_date > {end})) AS undecided_90
           FROM ({placed_sql('penalties', level, province)}) s GROUP BY unit),
    recs AS (
        SELECT s.unit, s.load_id, s.inspection_date AS d FROM ({placed_sql('inspections', level, province, ('load_id',))}) s
        WHERE s.inspection_date BETWEEN {start} AND {end}
        UNION ALL
        SELECT unit, load_id, found_date FROM h
        UNION ALL
        SELECT s.unit, s.load_id, s.filed_date FROM ({placed_sql('penalties', level, province, ('load_id',))}) s
        WHERE s.filed_date BETWEEN {start} AND {end}),
    lt AS (SELECT r.unit, count(*) AS records,
                  count(*) FILTER (WHERE {late.format(d='r.d')}) AS late_records
           FROM recs r LEFT JOIN load_history lh ON lh.load_id = r.load_id GROUP BY r.unit)
    SELECT u.code, hz.* EXCLUDE (unit), pc.* EXCLUDE (unit), lt.* EXCLUDE (unit)
    FROM ({units_sql(level, province)}) u
    LEFT JOIN hz ON hz.unit = u.code LEFT JOIN pc ON pc.unit = u.code LEFT JOIN lt ON lt.unit = u.code
    ORDER BY u.code"""


def _orphans_sql(period: Period) -> str:
    """Hazards of the period (by found_date) citing an inspection not in the warehouse: summed from
    the months of etl.marts' ``mart_orphan_hazards`` (a period is whole months)."""
    from etl.marts import ORPHANS_MART

    return (f"SELECT coalesce(sum(hazards), 0) FROM {ORPHANS_MART} "
            f"WHERE month BETWEEN {sql_literal(period.start)} AND {sql_literal(period.end)}")


def _fines_sql(period: Period, level: str, province: str, s: QualitySettings) -> str:
    lo = sql_literal(period.end - dt.timedelta(days=365))
    cols = []
    for k, t in enumerate(s.fine_thresholds):
        a, b, c = (t - s.fine_window) * 10000, t * 10000, (t + s.fine_window) * 10000
        cols.append(f"count(*) FILTER (WHERE fine_company >= {a} AND fine_company < {b}) AS below_{k}, "
                    f"count(*) FILTER (WHERE fine_company >= {b} AND fine_company < {c}) AS above_{k}")
    return (f"SELECT unit AS code, count(*) AS cases, {', '.join(cols)} "
            f"FROM ({placed_sql('penalties', level, province)}) s "
            f"WHERE filed_date > {lo} AND filed_date <= {sql_literal(period.end)} GROUP BY unit")


SAME_DAY = "rectified_date = found_date"


def same_day_part(scheme: Scheme) -> Part | None:
    """The scheme's 隐患整改率 denominator (the hazards needing rectification, as the scheme defines
    them) restricted to those rectified the day they were found: the same-day share's numerator,
    so that it divides by the very ``needing`` the panel and the indicator show. None when the
    denominator is not a count of hazards (no found or rectified date to compare)."""
    den = scheme.indicator("rectification").denominator
    if den is None or den.table != "hazards":
        return None
    same = expr.parse(SAME_DAY)
    where = same if den.where is None else expr.Binary(den.where.pos, "and", den.where, same)
    text = {**den.text, "where": f"({den.text['where']}) AND {SAME_DAY}" if den.text.get("where") else SAME_DAY}
    return dataclasses.replace(den, where=where, text=text)


def rectification_counts(con: duckdb.DuckDBPyConnection, periods: list[Period], level: str, province: str,
                         scheme: Scheme | None = None) -> pd.DataFrame:
    """period, code, name, hazards, needing, rectified, same_day per unit × period, compiled in one
    query by metrics.kpis.totals: hazards the tiles' count, needing and rectified the scheme's
    隐患整改率 denominator and numerator, same_day ``same_day_part`` (0 when it has none)."""
    scheme = scheme or load_scheme()
    same = same_day_part(scheme)
    cols = ("hazards", "needing", "rectified") + (("same_day",) if same is not None else ())
    df = totals(con, periods, level, province, scheme, columns=cols,
                extra={"same_day": same} if same is not None else None)
    if same is None:
        df["same_day"] = 0
    return df


def same_day_history(con: duckdb.DuckDBPyConnection, periods: list[Period], level: str, province: str,
                     scheme: Scheme | None = None) -> pd.DataFrame:
    """period, code, needing, same_day, same_day_share per unit × period (the outlier profile asks
    for a quarter), for the units with hazards found or needing rectification in the period:
    needing is the scheme's 隐患整改率 denominator, same_day those of its hazards rectified the day
    they were found (rectification_counts), as the panel counts them."""
    cols = ["period", "code", "needing", "same_day", "same_day_share"]
    if not periods:
        return pd.DataFrame(columns=cols)
    df = rectification_counts(con, periods, level, province, scheme)
    df = df[(df["hazards"] > 0) | (df["needing"] > 0)].copy()
    df["same_day_share"] = (df["same_day"] / df["needing"].where(df["needing"] > 0)).astype(float)
    return df[cols].reset_index(drop=True)


# --- rules on frames (pure) -------------------------------------------------------------------------
def panel_flags(panel: pd.DataFrame, s: QualitySettings) -> pd.DataFrame:
    """The explicit §5/§6 rules on the panel frame (one row per unit)."""
    rows = []
    usual = panel.loc[panel["needing"] >= s.same_day_min_hazards, "same_day_share"].median()
    for r in panel.itertuples(index=False):
        if pd.notna(r.coverage) and r.coverage > 1:
            rows.append((r.code, r.name, "coverage_over_100",
                         f"执法检查覆盖率 {_pct(r.coverage)}：检查的不同企业数多于名录内企业数，名录可能不全或企业归属区县有误",
                         r.coverage))
        if pd.notna(r.key_coverage) and r.key_coverage > 1:
            rows.append((r.code, r.name, "key_coverage_over_100",
                         f"重点单位覆盖率 {_pct(r.key_coverage)}：检查的重点单位多于名录内重点单位数", r.key_coverage))
        if r.found_after_inspection > 0:
            rows.append((r.code, r.name, "found_after_inspection",
                         f"{int(r.found_after_inspection)} 项隐患的发现日期比所引用的检查晚{s.found_gap_days}天以上（共{int(r.hazards)}项隐患），无对应的现场检查记录",
                         r.found_after_inspection))
        if r.rectified_before_found > 0:
            rows.append((r.code, r.name, "rectified_before_found",
                         f"{int(r.rectified_before_found)} 项隐患的整改完成日期早于发现日期", r.rectified_before_found))
        if r.undecided_90 >= s.undecided_min and r.decidable and r.undecided_90 / r.decidable >= s.undecided_share:
            rows.append((r.code, r.name, "undecided_90",
                         f"近一年立案且已满{s.undecided_days}天的 {int(r.decidable)} 件案件中，{int(r.undecided_90)} 件"
                         f"（{_pct(r.undecided_90 / r.decidable)}）至期末仍无决定日期", r.undecided_90 / r.decidable))
        if r.records >= s.late_min and r.late_records / r.records >= s.late_share:
            rows.append((r.code, r.name, "late_entry",
                         f"本期 {int(r.records)} 条记录中 {int(r.late_records)} 条（{_pct(r.late_records / r.records)}）"
                         f"在所属季度结束{s.late_days}天后才录入或改动", r.late_records / r.records))
        if (r.needing >= s.same_day_min_hazards and r.rectified / r.needing >= s.same_day_rectification
                and r.same_day / r.needing >= s.same_day_share):
            rows.append((r.code, r.name, "same_day_rectification",
                         f"本期需整改隐患 {int(r.needing)} 项，整改率 {_pct(r.rectified / r.needing)}，其中 {int(r.same_day)} 项"
                         f"（{_pct(r.same_day / r.needing)}）在发现当天即整改完毕；同级单位当日整改占比中位数 "
                         f"{_pct(usual) if pd.notna(usual) else '—'}", r.same_day / r.needing))
    return pd.DataFrame(rows, columns=["code", "name", "rule", "reason", "value"])


def fine_bunching(fines: pd.DataFrame, names: dict[str, str], s: QualitySettings) -> pd.DataFrame:
    """``fines``: code, below_k, above_k per threshold k (counts of company fines just below / above).
    A unit is flagged when ≥ ``fine_min_below`` fall just below and a one-sided binomial test
    against the other units' share below gives p < ``fine_p``."""
    rows = []
    for k, t in enumerate(s.fine_thresholds):
        b, a = fines[f"below_{k}"].astype(int), fines[f"above_{k}"].astype(int)
        tb, ta = b.sum(), a.sum()
        for i, code in enumerate(fines["code"]):
            nb, na = int(b.iloc[i]), int(a.iloc[i])
            if nb < s.fine_min_below:
                continue
            ob, oa = tb - nb, ta - na
            p0 = float(np.clip(ob / (ob + oa), 0.2, 0.8)) if ob + oa > 0 else 0.5
            p = binomtest(nb, nb + na, p0, alternative="greater").pvalue
            if p < s.fine_p:
                lo, hi = t - s.fine_window, t + s.fine_window
                rows.append((code, names.get(code, code), "fine_bunching",
                             f"近12个月单位罚款在{lo:g}万–{t:g}万元之间 {nb} 件、{t:g}万–{hi:g}万元之间 {na} 件，"
                             f"集中在{t:g}万元以下（其他单位同区间低于{t:g}万的占 {_pct(p0)}，二项检验 p={p:.2g}）",
                             nb / (nb + na)))
    return pd.DataFrame(rows, columns=["code", "name", "rule", "reason", "value"])


def _scale_kind(unit: str) -> str:
    return "ratio" if unit == "%" else "amount"


def _fmt(v: float, unit: str) -> str:
    if unit == "%":
        return _pct(v)
    return f"{v:,.2f}{unit}" if unit in ("万元",) else f"{v:,.1f}{unit}"


def own_history(long: pd.DataFrame, period: str, history: int, indicators: list[str] | None = None) -> pd.DataFrame:
    """Per unit × indicator of ``period``: value, denominator, indicator_name, unit and the unit's own
    previous ``history`` quarters' median, MAD and count (``long``: an indicator_panel frame)."""
    cols = ["code", "name", "indicator", "indicator_name", "unit", "value", "denominator", "median", "mad", "n"]
    quarters = sorted(long["period"].unique(), key=Period.parse)
    if period not in quarters:
        return pd.DataFrame(columns=cols)
    i = quarters.index(period)
    prev = quarters[max(0, i - history):i]
    d = long[long["assessed"]]
    if indicators is not None:
        d = d[d["indicator"].isin(indicators)]
    cur = d[d["period"] == period].set_index(["code", "indicator"])
    if prev:
        H = d[d["period"].isin(prev)].pivot_table(index=["code", "indicator"], columns="period", values="value",
                                                  aggfunc="first", dropna=False).reindex(cur.index)
        A = H.to_numpy(dtype=float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a unit with no history: all NaN
            med = np.nanmedian(A, axis=1)
            mad = np.nanmedian(np.abs(A - med[:, None]), axis=1)
        n = (~np.isnan(A)).sum(axis=1)
    else:
        med = mad = np.full(len(cur), np.nan)
        n = np.zeros(len(cur), dtype=int)
    out = cur.assign(median=med, mad=mad, n=n).reset_index()
    return out[cols]


def sudden_jumps(hist: pd.DataFrame, s: QualitySettings) -> pd.DataFrame:
    """Robust z of each unit's indicator against its own previous quarters (``hist``: own_history)."""
    m = hist.dropna(subset=["value", "median"])
    m = m[m["n"] >= s.history_min]
    ratio = m["unit"].eq("%")
    floor = np.where(ratio, s.jump_ratio_floor, s.jump_rel_floor * m["median"].abs().clip(lower=1e-9))
    spread = np.maximum(1.4826 * m["mad"], floor)
    change = m["value"] - m["median"]
    z = change / spread
    big = np.where(ratio, change.abs() >= s.jump_ratio_change, change.abs() >= s.jump_rel_change * m["median"].abs())
    enough = ~ratio | (m["denominator"].fillna(0) >= s.jump_min_denominator)
    m = m.assign(z=z, change=change, spread=spread)
    hit = m[(z.abs() >= s.jump_z).to_numpy() & big & enough.to_numpy()]
    rows = []
    for r in hit.itertuples(index=False):
        if r.unit == "%":
            ch, usual = f"{r.change * 100:+.1f}个百分点", f"±{r.spread * 100:.1f}个百分点"
        else:
            ch, usual = f"{r.change:+,.2f}{r.unit}", f"±{r.spread:,.2f}{r.unit}"
        rows.append((r.code, r.name, "sudden_jump",
                     f"{r.indicator_name} 本季度 {_fmt(r.value, r.unit)}，本单位前{int(r.n)}个季度中位数 "
                     f"{_fmt(r.median, r.unit)}（常见波动 {usual}），变化 {ch}（稳健z={r.z:+.1f}）", float(r.z)))
    return pd.DataFrame(rows, columns=["code", "name", "rule", "reason", "value"])


# --- the outlier model ---------------------------------------------------------------------------------
def profile_features(hist: pd.DataFrame, same_day: pd.Series, codes: list[str]
                     ) -> tuple[pd.DataFrame, dict[str, tuple[str, str]]]:
    """Units of the period × features, and per feature (Chinese label, unit): the indicators'
    values, the same-day rectification share (``same_day``: by code), and each indicator's change
    against the unit's own median of the previous quarters. NA → the peers' median (then 0)."""
    meta = hist.drop_duplicates("indicator").set_index("indicator")
    labels = {c: (meta["indicator_name"].get(c, c), meta["unit"].get(c, "")) for c in codes}
    value = hist.pivot(index="code", columns="indicator", values="value").reindex(columns=codes)
    change = (hist.assign(chg=hist["value"] - hist["median"])
              .pivot(index="code", columns="indicator", values="chg").reindex(index=value.index, columns=codes))
    value["same_day_share"] = same_day.reindex(value.index).to_numpy(dtype=float)
    labels["same_day_share"] = ("当日整改占比", "%")
    for c in codes:
        labels[f"{c}__chg"] = (f"{labels[c][0]}较自身历史中位数变化", labels[c][1])
    X = pd.concat([value, change.add_suffix("__chg")], axis=1).astype(float)
    X = X.fillna(X.median()).fillna(0.0)
    return X, labels


def outlier_model(X: pd.DataFrame, s: QualitySettings) -> tuple[np.ndarray, float]:
    """An IsolationForest on robustly scaled features: (anomaly per row — higher is more
    isolated, −score_samples —, the threshold above which a row is an outlier)."""
    med = X.median()
    iqr = X.quantile(0.75) - X.quantile(0.25)
    sd = X.std().fillna(0.0)
    scale = iqr.where(iqr > 0, sd.where(sd > 0, 1.0))
    Z = ((X - med) / scale).to_numpy(dtype=float)
    model = IsolationForest(n_estimators=s.trees, contamination=s.contamination, random_state=s.seed).fit(Z)
    return -model.score_samples(Z), float(-model.offset_)


def _feature_text(v: float, unit: str, change: bool) -> str:
    if unit == "%":
        return f"{v * 100:+.1f}个百分点" if change else _pct(v)
    return f"{v:+,.2f}{unit}" if change else f"{v:,.2f}{unit}"


def outlier_flags(X: pd.DataFrame, labels: dict[str, tuple[str, str]], names: dict[str, str],
                  s: QualitySettings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(flags, scores) for the units (rows of X); the reason names the three features furthest from
    the peers' median (robust z among the peers) with the unit's value and the median."""
    empty = pd.DataFrame(columns=["code", "name", "rule", "reason", "value"])
    if len(X) < s.outlier_min_units:
        return empty, pd.DataFrame(columns=["code", "name", "anomaly", "outlier"])
    anomaly, threshold = outlier_model(X, s)
    med = X.median()
    mad = (X - med).abs().median() * 1.4826
    sd = X.std().fillna(0.0)
    zpeer = (X - med) / mad.where(mad > 0, sd.where(sd > 0, 1.0))
    scores = pd.DataFrame({"code": X.index, "name": X.index.map(names), "anomaly": anomaly,
                           "outlier": anomaly > threshold})
    place = scores["anomaly"].rank(ascending=False, method="min").astype(int)
    rows = []
    for j in np.flatnonzero(scores["outlier"].to_numpy()):
        code = X.index[j]
        parts = []
        for f in zpeer.iloc[j].abs().sort_values(ascending=False).index[:3]:
            label, unit = labels.get(f, (f, ""))
            chg = f.endswith("__chg")
            parts.append(f"{label} {_feature_text(X.iloc[j][f], unit, chg)}（同级中位数 {_feature_text(med[f], unit, chg)}）")
        rows.append((code, names.get(code, code), "outlier_profile",
                     f"指标组合与同级单位差异大（孤立森林异常分 {anomaly[j]:.2f}，{len(X)}个单位中第{place.iloc[j]}高）。"
                     "最突出：" + "；".join(parts), float(anomaly[j])))
    return pd.DataFrame(rows, columns=["code", "name", "rule", "reason", "value"]), scores


# --- the report ---------------------------------------------------------------------------------------
PROFILE_EXTRA = ("mobile_share", "plan_completion")


def history_quarters(period: Period, available: list[str], history: int) -> list[Period]:
    """The quarters of the history window ending at the period's last quarter (those with data)."""
    last = Period(period.year, "quarter", 4) if period.kind == "year" else (
        Period(period.year, "quarter", (period.number - 1) // 3 + 1) if period.kind == "month" else period)
    out, q = [], last
    for _ in range(history + 1):
        out.append(q)
        q = q.previous()
    have = set(available)
    return sorted(p for p in out if not have or str(p) in have)


def quality_report(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                   province: str | None = None, scheme: Scheme | None = None,
                   settings: QualitySettings | None = None, long: pd.DataFrame | None = None,
                   quarters: list[str] | None = None) -> QualityReport:
    """The §5 panel and §6 flags of every unit of the level for ``period``.

    ``long`` may be an indicator_panel frame already at hand (it must hold the history quarters and
    the index's indicators + mobile_share, plan_completion); ``quarters`` the quarters with data
    (default: metrics.catalog.periods)."""
    from metrics.catalog import periods as catalog_periods
    from metrics.panel import indicator_panel

    s = settings or QualitySettings()
    ensure_marts(con)
    period = Period.parse(period)
    scheme = scheme or load_scheme()
    province = resolve_province(con, province)
    spec = scheme.require_index()
    codes = [n.code for n in spec.leaves] + [c for c in PROFILE_EXTRA if c in scheme.indicators]
    codes = list(dict.fromkeys(codes))
    available = quarters if quarters is not None else catalog_periods(con, "quarter")
    hq = history_quarters(period, available, s.history)
    cur_q = str(hq[-1]) if hq else None
    needed = {str(q) for q in hq} | ({str(period)} if period.kind == "quarter" else set())
    if long is None or not needed <= set(long["period"]) or not set(codes) <= set(long["indicator"]):
        want = hq + ([period] if period.kind != "quarter" else [])
        long = indicator_panel(con, want, level, province, scheme, list(dict.fromkeys(codes + ["coverage", "key_coverage"])))
    long = long[long["indicator"].isin(set(codes) | {"coverage", "key_coverage"})]
    now = long[long["period"] == str(period)]
    if now.empty:
        from metrics.indicators import compute_indicators
        now = compute_indicators(con, period, level, province, scheme, ["coverage", "key_coverage"])
    cov = now.pivot(index="code", columns="indicator", values="value")
    units = now.drop_duplicates("code")[["code", "name", "assessed"]].set_index("code")
    names = units["name"].to_dict()

    counts = run(con, _panel_sql(period, level, province, s)).set_index("code")
    # hazards found, needing rectification, rectified and rectified the same day: the tiles' and
    # 隐患整改率's own definitions (rectification_counts)
    shared = rectification_counts(con, [period], level, province, scheme)
    shared = shared.set_index("code")[["hazards", "needing", "rectified", "same_day"]]
    panel = units.join(cov.reindex(columns=["coverage", "key_coverage"])).join(shared).join(counts)
    num_cols = ["hazards", "needing", "rectified", "same_day", "rectified_before_found", "found_after_inspection",
                "decidable", "undecided_90", "records", "late_records"]
    panel[num_cols] = panel[num_cols].fillna(0).astype(int)
    panel["same_day_share"] = (panel["same_day"] / panel["needing"].where(panel["needing"] > 0)).astype(float)
    panel["undecided_share"] = (panel["undecided_90"] / panel["decidable"].where(panel["decidable"] > 0)).astype(float)
    panel["late_share"] = (panel["late_records"] / panel["records"].where(panel["records"] > 0)).astype(float)
    panel = panel.reset_index()

    fines = run(con, _fines_sql(period, level, province, s))
    parts = [panel_flags(panel, s), fine_bunching(fines, names, s)]
    scores = pd.DataFrame(columns=["code", "name", "anomaly", "outlier"])
    if cur_q is not None:
        hist = own_history(long[long["period"].isin({str(q) for q in hq})], cur_q, s.history, codes)
        parts.append(sudden_jumps(hist, s))
        same = panel.set_index("code")["same_day_share"] if str(period) == cur_q else \
            same_day_history(con, [hq[-1]], level, province, scheme).set_index("code")["same_day_share"]
        X, labels = profile_features(hist, same, codes)
        out_flags, scores = outlier_flags(X, labels, names, s)
        parts.append(out_flags)
    flags = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=["code", "name", "rule", "reason", "value"])
    flags["rule_name"] = flags["rule"].map(RULES)
    flags = flags[FLAG_COLUMNS].sort_values(["code", "rule"], kind="stable").reset_index(drop=True)
    panel["flags"] = panel["code"].map(flags.groupby("code").size()).fillna(0).astype(int)
    panel = panel.merge(scores[["code", "anomaly", "outlier"]], on="code", how="left") if len(scores) else \
        panel.assign(anomaly=np.nan, outlier=False)
    orphans = int(run(con, _orphans_sql(period)).iloc[0, 0])
    return QualityReport(str(period), panel, flags, orphans, s, scores)
