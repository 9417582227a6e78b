"""The numbers a warning notice states, as tidy frames: the warned units, the items where each
lost points (with the figures behind them), its overdue major hazards, what the province calls
the peers, and how the warned units did in the next quarter.

Read-only and document-free: official.notice words and lays these out; pages may show them.
Every figure comes from the same functions the score sheet uses (compute_score,
compute_indicators, metrics.explain.records), so a notice cannot disagree with the sheet.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from metrics.periods import Period
from metrics.provinces import resolve_province
from metrics.rounding import round_half_away
from metrics.scheme import Scheme, load_scheme

LOST_COLUMNS = ["code", "indicator", "name", "kind", "full", "points", "value", "numerator", "denominator",
                "target", "unit", "na"]
HAZARD_COLUMNS = ["hazard_id", "enterprise", "place", "found_date", "deadline", "days_overdue"]
LEVEL_NOUNS = {"city": "市（州）", "county": "县（市、区）"}


def warned_units(score: pd.DataFrame) -> pd.DataFrame:
    """The warned rows of a compute_score frame, lowest score first within each peer group."""
    return score[score["warned"].fillna(False).astype(bool)].sort_values(["group", "score", "code"])


def _num(x) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def lost_items(con: duckdb.DuckDBPyConnection, quarter: str | Period, level: str = "city",
               province: str | None = None, scheme: Scheme | None = None,
               score: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per warned unit, the score items it scored below their points (kind 项目) and the deductions
    it suffered (kind 扣分), in the scheme's order, with the indicator's value, numerator,
    denominator and the target the full points need (prorated to the quarter when the item is).

    Columns: LOST_COLUMNS; ``full`` is empty for a deduction, ``points`` unrounded (scored for an
    item, deducted for a deduction), ``na`` when the item did not apply (denominator 0).
    """
    from metrics.indicators import compute_indicators
    from metrics.score import compute_score

    period = Period.parse(quarter)
    scheme = scheme or load_scheme()
    province = resolve_province(con, province)
    if score is None:
        score = compute_score(con, period, level, province, scheme)
    warned = warned_units(score)
    if warned.empty:
        return pd.DataFrame(columns=LOST_COLUMNS)
    spec = scheme.require_score()
    codes = list(dict.fromkeys([it.indicator for it in spec.items] + [a.indicator for a in spec.deductions]))
    long = compute_indicators(con, period, level, province, scheme, codes)
    long = long[long["code"].isin(warned["code"])].set_index(["code", "indicator"])
    rows = []
    for _, row in warned.iterrows():
        code = str(row["code"])
        for it in spec.items:
            points = float(row[f"{it.indicator}_points"])
            if round_half_away(points, 1) >= it.points:
                continue
            ind = scheme.indicator(it.indicator)
            f = long.loc[(code, it.indicator)]
            target = it.target * (period.months_elapsed / 12.0 if it.prorate else 1.0)
            rows.append((code, it.indicator, ind.name, "项目", float(it.points), points, _num(f["value"]),
                         _num(f["numerator"]), _num(f["denominator"]), target, ind.unit,
                         bool(row[f"{it.indicator}_na"])))
        for a in spec.deductions:
            points = float(row[f"{a.indicator}_points"])
            if points <= 0:
                continue
            ind = scheme.indicator(a.indicator)
            f = long.loc[(code, a.indicator)]
            rows.append((code, a.indicator, ind.name, "扣分", None, points, _num(f["value"]),
                         _num(f["numerator"]), None, None, ind.unit, False))
    return pd.DataFrame(rows, columns=LOST_COLUMNS)


def region_names(con: duckdb.DuckDBPyConnection, province: str) -> dict[str, str]:
    rows = con.execute("SELECT code, name FROM regions WHERE province_code = ?", [province]).fetchall()
    return dict(rows)


def overdue_hazards(con: duckdb.DuckDBPyConnection, period: str | Period, code: str, scheme: Scheme | None = None,
                    names: dict[str, str] | None = None) -> pd.DataFrame:
    """The unit's overdue, unrectified major hazards at the quarter's end: exactly the records the
    overdue_major deduction counted (metrics.explain), longest overdue first. Columns:
    HAZARD_COLUMNS (place: the county the enterprise lies in)."""
    from metrics.explain import records

    period = Period.parse(period)
    df = records(con, period, code, "overdue_major", "numerator", scheme or load_scheme())
    if df.empty:
        return pd.DataFrame(columns=HAZARD_COLUMNS)
    ids = list(df["enterprise_id"].dropna().unique())
    firms = dict(con.execute("SELECT enterprise_id, name FROM mart_enterprises WHERE enterprise_id IN "
                             "(SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()) if ids else {}
    names = names if names is not None else {}
    rows = []
    for r in df.itertuples(index=False):
        deadline = pd.Timestamp(r.deadline).date()
        rows.append((str(r.hazard_id), firms.get(r.enterprise_id, str(r.enterprise_id or "")),
                     names.get(str(r.enterprise_county), str(r.enterprise_county or "")),
                     pd.Timestamp(r.found_date).date(), deadline, (period.end - deadline).days))
    rows.sort(key=lambda h: (-h[5], h[0]))
    return pd.DataFrame(rows, columns=HAZARD_COLUMNS)


def level_noun(con: duckdb.DuckDBPyConnection, province: str, level: str) -> str:
    """What a province calls its units of a level: 设区市 where every city is a 市, 市（州） where
    some are autonomous prefectures, 盟市 / 地市 likewise; counties are 县（市、区）."""
    if level != "city":
        return LEVEL_NOUNS.get(level, level)
    names = [n for (n,) in con.execute("SELECT name FROM regions WHERE province_code = ? AND level = '市'",
                                       [province]).fetchall()]
    if names and all(n.endswith("市") for n in names):
        return "设区市"
    if any(n.endswith("盟") for n in names):
        return "盟市"
    if any(n.endswith("地区") for n in names) and not any(n.endswith("州") for n in names):
        return "地市"
    return "市（州）"


def next_quarter(period: Period) -> Period:
    return Period(period.year + 1, "quarter", 1) if period.number == 4 else Period(period.year, "quarter", period.number + 1)


def follow_up(con: duckdb.DuckDBPyConnection, quarter: str | Period, level: str = "city",
              province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """The units warned in ``quarter`` and how they did in the next one.

    code, name, score, rank, peers, next_score, next_rank, change, next_warned, left_list (no
    longer on the warning list), improved (left the list or scored higher). Next-quarter columns
    are empty while the next quarter has no data.
    """
    from metrics.score import compute_score

    period = Period.parse(quarter)
    scheme = scheme or load_scheme()
    province = resolve_province(con, province)
    now = compute_score(con, period, level, province, scheme)
    warned = warned_units(now)[["code", "name", "score", "rank", "peers"]]
    nxt = compute_score(con, next_quarter(period), level, province, scheme)
    nxt = nxt[["code", "score", "rank", "warned", "assessed"]].rename(
        columns={"score": "next_score", "rank": "next_rank", "warned": "next_warned", "assessed": "next_assessed"})
    out = warned.merge(nxt, on="code", how="left")
    has_next = out["next_assessed"].fillna(False).astype(bool)
    out["change"] = round_half_away((out["next_score"] - out["score"]).where(has_next), 1)
    out["left_list"] = pd.array([(not bool(w)) if h else pd.NA for w, h in zip(out["next_warned"].fillna(False), has_next)],
                                dtype="boolean")
    out["improved"] = pd.array([(bool(l) or c > 0) if h else pd.NA
                                for l, c, h in zip(out["left_list"].fillna(False), out["change"].fillna(0), has_next)],
                               dtype="boolean")
    cols = ["code", "name", "score", "rank", "peers", "next_score", "next_rank", "change",
            "next_warned", "left_list", "improved"]
    return out[cols].reset_index(drop=True)
