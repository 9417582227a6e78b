"""The yardstick for the metrics benchmark: a straightforward pandas implementation of the same
numbers — every base indicator, the effectiveness index for cities and counties, the quarterly score
— written from ../shared/spec/indicators.md and the default scheme (metrics/schemes/default.toml),
not from the metrics package's code.

"Straightforward" as an analyst would write it: read the warehouse tables into DataFrames, place
every record in its unit with merges, filter and group by. bench/bench_metrics.py checks that it
gives the metrics package's numbers on the same warehouse, then times both.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

# the default scheme's index tree and score rules (metrics/schemes/default.toml)
INDEX = {  # leaf: (group, weight, normalise, target, prorate, winsorise)
    "coverage": ("A", 10, "minmax", None, False, None),
    "key_coverage": ("A", 10, "target", 1.0, True, None),
    "rectification": ("B", 10, "target", 1.0, False, None),
    "major_on_time": ("B", 10, "target", 1.0, False, None),
    "penalty_rate": ("C", 10, "minmax", None, False, None),
    "avg_fine": ("C", 10, "minmax", None, False, (0.05, 0.95)),
    "major_filing": ("D", 15, "target", 1.0, False, None),
    "dual_penalty": ("E", 15, "target", 0.6, False, None),
    "review_score": ("F", 10, "target", 100.0, False, None),
}
GROUPS = {"A": 20, "B": 20, "C": 20, "D": 15, "E": 15, "F": 10}
SCORE_ITEMS = [  # indicator, points, target, prorate, na points ('full' or 'zero')
    ("plan_completion", 20, 1.0, False, "zero"),
    ("key_coverage", 15, 1.0, True, "full"),
    ("rectification_due", 20, 1.0, False, "full"),
    ("penalty_rate", 15, 0.30, False, "full"),
    ("major_filing", 10, 1.0, False, "full"),
    ("dual_penalty", 10, 0.60, False, "full"),
    ("mobile_share", 10, 1.0, False, "zero"),
]
BONUS = [("transfers", 1, 3), ("reported_cases", 1, 2)]
DEDUCTIONS = [("overdue_major", 2, 10)]
SCORE_MAX = 105
LEVEL = {"city": "市", "county": "县"}


def round_half_away(x, decimals=1):
    a = np.asarray(x, dtype=float)
    s = 10.0 ** decimals
    out = np.sign(a) * np.floor(np.abs(a) * s + 0.5 + 1e-9 * s) / s
    return np.where(out == 0, 0.0, out)


class Data:
    """The warehouse's tables as DataFrames (read once)."""

    def __init__(self, con):
        q = lambda sql: con.execute(sql).df()
        self.regions = q("SELECT code, name, level, province_code, city_code FROM regions")
        self.enterprises = q("SELECT enterprise_id, county_code, key_unit FROM enterprises")
        self.inspections = q("SELECT inspection_id, enterprise_id, agency_code, inspection_date, via_mobile FROM inspections")
        self.hazards = q("SELECT inspection_id, found_date, is_major, key_matter, needs_rectification, deadline, "
                         "rectified_date FROM hazards")
        self.penalties = q("SELECT agency_code, filed_date, decision_date, fine_company, fine_person, for_major_hazard, "
                           "transferred, review_score, case_reported FROM penalties")
        self.plans = q("SELECT agency_code, year, planned_inspections FROM plans")
        for df, cols in ((self.inspections, ["inspection_date"]), (self.hazards, ["found_date", "deadline", "rectified_date"]),
                         (self.penalties, ["filed_date", "decision_date"])):
            for c in cols:
                df[c] = pd.to_datetime(df[c])
        for c in ("fine_company", "fine_person"):
            self.penalties[c] = self.penalties[c].astype(float)
        # hazards found per inspection (all of them, whatever their date)
        self.hazards_found = self.hazards.groupby("inspection_id").size()


def _unit_of(regions: pd.DataFrame, level: str, province: str) -> pd.Series:
    """region code -> the unit of `level` its agency's records count for (the contract's rule)."""
    r = regions[regions.province_code == province]
    if level == "city":
        unit = np.where(r.level == "市", r.code, np.where(r.level == "县", r.city_code, None))
    else:
        unit = np.where(r.level == "县", r.code, None)
    s = pd.Series(unit, index=r.code.values)
    return s.dropna()


def _period(p: str):
    """'2025' or '2025Q3' -> (start, end, months, months_elapsed, year)."""
    year = int(p[:4])
    if "Q" in p:
        q = int(p[-1])
        start = dt.date(year, 3 * q - 2, 1)
        months, elapsed = 3, 3 * q
    else:
        start, months, elapsed = dt.date(year, 1, 1), 12, 12
    end = (dt.date(year + 1, 1, 1) if elapsed == 12 else dt.date(year, elapsed + 1, 1)) - dt.timedelta(days=1)
    return pd.Timestamp(start), pd.Timestamp(end), months, elapsed, year


def indicators(d: Data, period: str, level: str, province: str) -> pd.DataFrame:
    """code × indicator: numerator, denominator, value (NA where the denominator is 0), assessed."""
    start, end, months, elapsed, year = _period(period)
    ystart = pd.Timestamp(dt.date(year, 1, 1))
    unit_of = _unit_of(d.regions, level, province)
    units = d.regions[(d.regions.province_code == province) & (d.regions.level == LEVEL[level])][["code", "name"]]
    idx = pd.Index(units.code, name="code")

    ins = d.inspections[d.inspections.agency_code.isin(unit_of.index)].copy()
    ins["unit"] = ins.agency_code.map(unit_of)
    ins["key_unit"] = ins.enterprise_id.map(d.enterprises.set_index("enterprise_id").key_unit).fillna(False).astype(bool)
    ins["hazards_found"] = ins.inspection_id.map(d.hazards_found).fillna(0)
    haz = d.hazards.merge(ins[["inspection_id", "unit"]], on="inspection_id")
    pen = d.penalties[d.penalties.agency_code.isin(unit_of.index)].copy()
    pen["unit"] = pen.agency_code.map(unit_of)
    ent = d.enterprises.copy()
    loc = d.regions.set_index("code")
    ent["unit"] = ent.county_code.map(loc.city_code) if level == "city" else ent.county_code
    ent = ent[ent.unit.isin(idx)]
    plans = d.plans[(d.plans.agency_code.isin(unit_of.index)) & (d.plans.year == year)].copy()
    plans["unit"] = plans.agency_code.map(unit_of)

    in_p = lambda s: (s >= start) & (s <= end)
    i_p = ins[in_p(ins.inspection_date)]
    h_p = haz[in_p(haz.found_date)]
    c_p = pen[in_p(pen.filed_date)]
    count = lambda df: df.groupby("unit").size().reindex(idx, fill_value=0).astype(float)
    total = lambda df, col: df.groupby("unit")[col].sum().reindex(idx, fill_value=0).astype(float)
    fines = (c_p.fine_company + c_p.fine_person) / 10000
    decided = c_p[c_p.decision_date.notna()]
    asof = haz[haz.found_date <= end]
    rect_by_end = lambda df: df.rectified_date.notna() & (df.rectified_date <= end)
    due = asof[asof.needs_rectification & asof.deadline.notna() & (asof.deadline <= end)
               & ~(asof.rectified_date.notna() & (asof.rectified_date < start))]
    ytd = ins[(ins.inspection_date >= ystart) & (ins.inspection_date <= end) & ins.key_unit]
    deadline_in = haz[haz.is_major & haz.deadline.notna() & in_p(haz.deadline)]
    parts = {
        "coverage": (i_p.groupby("unit").enterprise_id.nunique().reindex(idx, fill_value=0), count(ent)),
        "key_coverage": (ytd.groupby("unit").enterprise_id.nunique().reindex(idx, fill_value=0), count(ent[ent.key_unit])),
        "rectification": (count(h_p[h_p.needs_rectification & rect_by_end(h_p)]), count(h_p[h_p.needs_rectification])),
        "major_on_time": (count(deadline_in[deadline_in.rectified_date.notna()
                                            & (deadline_in.rectified_date <= deadline_in.deadline)]), count(deadline_in)),
        "penalty_rate": (count(c_p), count(i_p[i_p.hazards_found > 0])),
        "avg_fine": (total(decided.assign(f=fines[decided.index]), "f"), count(decided)),
        "major_filing": (count(c_p[c_p.for_major_hazard]), count(h_p[h_p.is_major])),
        "dual_penalty": (count(c_p[(c_p.fine_company > 0) & (c_p.fine_person > 0)]), count(c_p[c_p.fine_company > 0])),
        "review_score": (total(c_p[c_p.review_score.notna()], "review_score"), count(c_p[c_p.review_score.notna()])),
        "plan_completion": (count(i_p), total(plans.assign(p=plans.planned_inspections * months / 12), "p")),
        "mobile_share": (count(i_p[i_p.via_mobile]), count(i_p)),
        "transfers": (count(c_p[c_p.transferred]), None),
        "reported_cases": (count(c_p[c_p.case_reported]), None),
        "overdue_major": (count(asof[asof.is_major & asof.deadline.notna() & (asof.deadline < end) & ~rect_by_end(asof)]), None),
        "key_matter_findings": (count(h_p[h_p.key_matter]), None),
        "fines_total": (total(c_p.assign(f=fines), "f"), None),
        "rectification_due": (count(due[rect_by_end(due)]), count(due)),
        "dual_penalty_cases": (count(c_p[(c_p.fine_company > 0) & (c_p.fine_person > 0)]), None),
    }
    assessed = (count(i_p) + count(h_p) + count(c_p)) > 0
    rows = []
    for code, (num, den) in parts.items():
        num = num.astype(float)
        if den is None:
            value, den = num, pd.Series(np.nan, index=idx)
        else:
            den = den.astype(float)
            value = (num / den).where(den != 0)
        rows.append(pd.DataFrame({"code": idx, "indicator": code, "value": value.values, "numerator": num.values,
                                  "denominator": den.values, "assessed": assessed.values}))
    return pd.concat(rows, ignore_index=True)


def index(d: Data, period: str, level: str, province: str, long: pd.DataFrame | None = None) -> pd.DataFrame:
    """code, index, A…F, rank (index and sub-indices rounded; NA for units not assessed)."""
    *_, elapsed, _ = _period(period)
    long = indicators(d, period, level, province) if long is None else long
    wide = long.pivot(index="code", columns="indicator", values="value")
    assessed = long.groupby("code").assessed.first()
    scores = {}
    for leaf, (group, weight, norm, target, prorate, wins) in INDEX.items():
        v = wide[leaf].where(assessed)
        peers = v.dropna()
        if norm == "target":
            t = target * (elapsed / 12 if prorate else 1)
            s = (100 * (v / t).clip(0, 1))
        else:
            if wins is not None and len(peers):
                lo, hi = peers.quantile(list(wins))
                v = v.clip(lo, hi)
                peers = v.dropna()
            vmin, vmax = (peers.min(), peers.max()) if len(peers) else (np.nan, np.nan)
            span = vmax - vmin
            s = pd.Series(100.0, index=v.index) if abs(span) <= 1e-12 * max(1.0, abs(vmax)) else 100 * (v - vmin) / span
            s = s.where(v.notna())
        scores[leaf] = s.clip(0, 100)
    scores = pd.DataFrame(scores)
    out = pd.DataFrame(index=wide.index)
    for g in GROUPS:
        leaves = [lf for lf, spec in INDEX.items() if spec[0] == g]
        w = pd.Series({lf: INDEX[lf][1] for lf in leaves})
        present = scores[leaves].notna()
        out[g] = (scores[leaves].fillna(0) * w).sum(axis=1) / (present * w).sum(axis=1).replace(0, np.nan)
    gw = pd.Series(GROUPS)
    present = out[list(GROUPS)].notna()
    out["index"] = (out[list(GROUPS)].fillna(0) * gw).sum(axis=1) / (present * gw).sum(axis=1).replace(0, np.nan)
    out = out.where(assessed, np.nan)
    for c in ["index", *GROUPS]:
        out[c] = round_half_away(out[c])
    out["rank"] = out["index"].rank(method="min", ascending=False)
    return out.reset_index()


def score(d: Data, quarter: str, level: str, province: str) -> pd.DataFrame:
    """code, score (published, 0–105), rank; NA for units not assessed."""
    *_, elapsed, _ = _period(quarter)
    long = indicators(d, quarter, level, province)
    wide = long.pivot(index="code", columns="indicator", values="value")
    assessed = long.groupby("code").assessed.first()
    items = pd.Series(0.0, index=wide.index)
    for ind, points, target, prorate, na in SCORE_ITEMS:
        t = target * (elapsed / 12 if prorate else 1)
        v = wide[ind]
        pts = points * (v / t).clip(0, 1)
        # §3: each item's points are published to one decimal and the score adds the published points
        items += pd.Series(round_half_away(pts.fillna(points if na == "full" else 0.0)), index=wide.index)
    bonus = sum((points * wide[i].fillna(0)).clip(0, mx) for i, points, mx in BONUS)
    deduction = sum((points * wide[i].fillna(0)).clip(0, mx) for i, points, mx in DEDUCTIONS)
    raw = (items + bonus - deduction).clip(0, SCORE_MAX)
    out = pd.DataFrame({"score": round_half_away(raw)}, index=wide.index).where(assessed, np.nan)
    out["rank"] = out["score"].rank(method="min", ascending=False)
    return out.reset_index()


def workload(con, province: str, year: int = 2025) -> dict[str, pd.DataFrame]:
    """The benchmark's numbers: every base indicator for the year (cities, counties), the index for
    cities and counties, the quarterly score for the year's four quarters (cities, counties)."""
    d = Data(con)
    out = {}
    for level in ("city", "county"):
        long = indicators(d, str(year), level, province)
        out[f"indicators/{level}"] = long
        out[f"index/{level}"] = index(d, str(year), level, province, long)
        for q in range(1, 5):
            out[f"score/{year}Q{q}/{level}"] = score(d, f"{year}Q{q}", level, province)
    return out
