"""A synthetic, seeded, realistic demo warehouse for one real province.

Built on the real GB/T 2260 regions of the province. Magnitudes follow the published figures in
the data contract (1.36 hazards per inspection, 98.6% rectification, 7.62万元 per case, 24% of
cases at 5万元 or more, 49.7 major hazards per 1,000 inspections, plan completion around 100–120%).
Each city gets a profile — strong, weak, improving, declining, erratic, average — and its counties
inherit it with noise, so rankings and warnings have something to find. One county is made
implausible on purpose (every hazard "rectified" the day it was found) for the data-quality tools.

The generated records are written as CSV files in the contract's format and loaded through the
ETL (etl.load), so the demo exercises the same validation as real data.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from etl import warehouse
from etl.contract import load_contract
from etl.credit_code import make as make_credit_code
from etl.load import load_files
from etl.regions import reference_regions

PROFILES = {
    # base strength, change per year, quarter-to-quarter noise
    "strong": (0.85, 0.00, 0.03),
    "average": (0.62, 0.00, 0.05),
    "weak": (0.30, 0.00, 0.05),
    "improving": (0.28, 0.22, 0.04),
    "declining": (0.80, -0.15, 0.04),
    "erratic": (0.55, 0.00, 0.22),
}
PROFILE_CYCLE = ["strong", "weak", "improving", "erratic", "average", "declining", "weak", "strong",
                 "average", "improving", "average", "erratic"]
PROFILE_NAMES = {"strong": "强", "average": "中", "weak": "弱", "improving": "进步", "declining": "退步",
                 "erratic": "波动", "suspicious": "可疑"}

INDUSTRIES = {  # share of the register, chance of being a key unit, name word
    "工贸其他": (0.52, 0.08, ["机械", "纺织", "电子", "塑料", "食品", "家具"]),
    "危险化学品": (0.11, 0.55, ["化工", "精细化工", "石化"]),
    "其他": (0.14, 0.05, ["物流", "建材", "仓储"]),
    "涉爆粉尘": (0.08, 0.35, ["木业", "粉末冶金", "铝业"]),
    "金属冶炼": (0.06, 0.45, ["冶金", "铸造", "钢铁"]),
    "非煤矿山": (0.05, 0.50, ["矿业", "石料"]),
    "烟花爆竹": (0.02, 0.70, ["烟花"]),
    "煤矿": (0.02, 0.90, ["煤业"]),
}
TRADE_NAMES = list("宏达鑫源华盛永安恒泰金利兴隆瑞丰天成博远振华新欣嘉和宇通信诚锦程东升")
INSPECTION_TYPES = {"重点检查": 0.35, "双随机": 0.30, "专项检查": 0.20, "联合执法": 0.06, "异地执法": 0.02, "复查": 0.07}
# month weights: Spring Festival lull, June safety month, year-end push
SEASON = np.array([0.75, 0.55, 1.0, 1.05, 1.05, 1.2, 0.95, 0.9, 1.0, 0.95, 1.15, 1.45])


@dataclasses.dataclass
class DemoConfig:
    province: str = "330000"
    seed: int = 7
    first_year: int = 2023
    last_year: int = 2025
    scale: float = 1.0                # 1 ≈ 250 enterprises per county
    enterprises_per_county: float = 250.0


def _strength(rng, profile: str, base_shift: float, quarters: int) -> np.ndarray:
    base, trend, noise = PROFILES.get(profile, PROFILES["average"])
    t = np.arange(quarters) / 4.0
    s = base + base_shift + trend * t + rng.normal(0, noise, quarters)
    return np.clip(s, 0.05, 0.98)


def _units(cfg: DemoConfig, rng) -> tuple[pd.DataFrame, pd.DataFrame]:
    regions = reference_regions()
    prov = regions[regions.code == cfg.province]
    if prov.empty or prov.iloc[0].level != "省":
        raise ValueError(f"{cfg.province} is not a GB/T 2260 province code (e.g. 330000 浙江, 510000 四川)")
    inside = regions[(regions.province_code == cfg.province) & (regions.code != cfg.province)]
    cities = inside[inside.level == "市"].sort_values("code").reset_index(drop=True)
    counties = inside[inside.level == "县"].sort_values("code").reset_index(drop=True)
    order = rng.permutation(len(cities))
    cities["profile"] = [PROFILE_CYCLE[k % len(PROFILE_CYCLE)] for k in np.argsort(order)]
    city_profile = dict(zip(cities.code, cities.profile))
    counties["profile"] = [city_profile.get(c, "average") for c in counties.city_code]
    counties["shift"] = rng.normal(0, 0.08, len(counties))
    # one county looks too good to be true: the data-quality tools should catch it
    suspicious = rng.integers(len(counties))
    counties.loc[suspicious, "profile"] = "suspicious"
    return cities, counties


def last_complete_quarter(today: dt.date | None = None) -> tuple[int, int, dt.date]:
    """(year, quarter, last day) of the last quarter that has ended before `today`: on
    2026-12-01 that is 2026 Q3, ending 2026-09-30; on 2027-01-01, 2026 Q4."""
    today = today or dt.date.today()
    start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)   # this quarter's first day
    end = start - dt.timedelta(days=1)
    return end.year, (end.month - 1) // 3 + 1, end


def default_years(today: dt.date | None = None, span: int = 3) -> tuple[int, int]:
    """The demo's default years: `span` years up to the last complete quarter's year."""
    last = last_complete_quarter(today)[0]
    return last - span + 1, last


def generate(cfg: DemoConfig) -> dict[str, pd.DataFrame]:
    """All tables of the contract, as DataFrames with canonical column names."""
    rng = np.random.default_rng(cfg.seed)
    years = list(range(cfg.first_year, cfg.last_year + 1))
    n_q = 4 * len(years)
    # no record after the last complete quarter: a quarter still under way would look like a collapse
    data_end = min(dt.date(cfg.last_year, 12, 31), last_complete_quarter()[2])
    cities, counties = _units(cfg, rng)
    if counties.empty:
        raise ValueError(f"{cfg.province} has no county-level regions")

    # --- the register -----------------------------------------------------------------
    ind_names = list(INDUSTRIES)
    ind_share = np.array([INDUSTRIES[i][0] for i in ind_names])
    ind_share /= ind_share.sum()
    ent_parts = []
    serial = 0
    for _, c in counties.iterrows():
        n = max(20, int(round(cfg.scale * cfg.enterprises_per_county * rng.lognormal(0, 0.45))))
        ind = rng.choice(len(ind_names), size=n, p=ind_share)
        key = rng.random(n) < np.array([INDUSTRIES[ind_names[i]][1] for i in ind])
        short = c["name"].rstrip("区县市旗") or c["name"]
        names = [
            f"{c['name'] if len(short) < 2 else short}{rng.choice(TRADE_NAMES)}{rng.choice(TRADE_NAMES)}"
            f"{rng.choice(INDUSTRIES[ind_names[i]][2])}有限公司" for i in ind
        ]
        ids = [make_credit_code(c.code, serial + k) for k in range(n)]
        serial += n
        ent_parts.append(pd.DataFrame({
            "enterprise_id": ids, "name": names, "county_code": c.code,
            "industry": [ind_names[i] for i in ind], "key_unit": key,
        }))
    enterprises = pd.concat(ent_parts, ignore_index=True)
    # names must not repeat: append a serial where they do
    dup = enterprises.name.duplicated(keep=False)
    enterprises.loc[dup, "name"] = enterprises.loc[dup, "name"].str.replace(
        "有限公司", "", regex=False) + (enterprises.index[dup] % 97).astype(str).str.zfill(2) + "号有限公司"

    # --- agencies: county bureaus, city bureaus, the province bureau ----------------------
    agencies = []
    for _, c in counties.iterrows():
        agencies.append(dict(code=c.code, kind="县", profile=c.profile, shift=c["shift"],
                             domain=np.flatnonzero(enterprises.county_code.values == c.code)))
    for _, c in cities.iterrows():
        in_city = counties.code[counties.city_code == c.code].values
        agencies.append(dict(code=c.code, kind="市", profile=c.profile, shift=0.0,
                             domain=np.flatnonzero(np.isin(enterprises.county_code.values, in_city))))
    agencies.append(dict(code=cfg.province, kind="省", profile="strong", shift=0.0,
                         domain=np.flatnonzero(enterprises.key_unit.values)))
    for a in agencies:
        a["strength"] = _strength(rng, "average" if a["profile"] == "suspicious" else a["profile"], a["shift"], n_q)

    # --- plans --------------------------------------------------------------------------
    plans = []
    per_ent = {"县": 1.05, "市": 0.16, "省": 0.04}
    for a in agencies:
        for y in years:
            if a["kind"] == "县" and rng.random() < 0.03:
                continue  # a county that filed no plan this year
            planned = int(round(len(a["domain"]) * per_ent[a["kind"]] * rng.uniform(0.9, 1.1)))
            plans.append((a["code"], y, max(planned, 5)))
    plans = pd.DataFrame(plans, columns=["agency_code", "year", "planned_inspections"])
    plan_of = {(r.agency_code, r.year): r.planned_inspections for r in plans.itertuples()}

    # --- inspections --------------------------------------------------------------------
    key = enterprises.key_unit.values
    types, type_p = list(INSPECTION_TYPES), np.array(list(INSPECTION_TYPES.values()))
    insp = {k: [] for k in ("enterprise", "agency", "date", "type", "mobile", "expert", "strength", "suspicious")}
    for a in agencies:
        if len(a["domain"]) == 0:
            continue
        w = 1.0 + key[a["domain"]] * (1.0 + 3.0 * a["strength"].mean())
        w = w / w.sum()
        for yi, y in enumerate(years):
            planned = plan_of.get((a["code"], y), len(a["domain"]) * per_ent[a["kind"]])
            for m in range(1, 13):
                first = dt.date(y, m, 1)
                if first > data_end:
                    break
                s = a["strength"][yi * 4 + (m - 1) // 3]
                expected = planned / 12 * SEASON[m - 1] / SEASON.mean() * (0.72 + 0.5 * s)
                k = rng.poisson(expected)
                if k == 0:
                    continue
                last = (dt.date(y + (m == 12), m % 12 + 1, 1) - dt.timedelta(days=1))
                last = min(last, data_end)
                days = rng.integers(0, (last - first).days + 1, k)
                if m == 12:  # the year-end push crowds the last weeks
                    days = np.maximum(days, rng.integers(0, (last - first).days + 1, k))
                insp["enterprise"].append(rng.choice(a["domain"], size=k, p=w))
                insp["agency"].append(np.repeat(a["code"], k))
                insp["date"].append(np.datetime64(first) + days.astype("timedelta64[D]"))
                insp["type"].append(rng.choice(types, size=k, p=type_p))
                insp["mobile"].append(rng.random(k) < 0.45 + 0.52 * s)
                insp["expert"].append(rng.random(k) < 0.08 + 0.2 * s)
                insp["strength"].append(np.repeat(s, k))
                insp["suspicious"].append(np.repeat(a["profile"] == "suspicious", k))
    cat = {k: np.concatenate(v) for k, v in insp.items()}
    order = np.argsort(cat["date"], kind="stable")
    cat = {k: v[order] for k, v in cat.items()}
    n_insp = len(order)
    prefix = cfg.province[:2]
    inspections = pd.DataFrame({
        "inspection_id": [f"JC{prefix}{i:08d}" for i in range(1, n_insp + 1)],
        "enterprise_id": enterprises.enterprise_id.values[cat["enterprise"]],
        "agency_code": cat["agency"],
        "inspection_date": cat["date"],
        "inspection_type": cat["type"],
        "via_mobile": cat["mobile"],
        "with_expert": cat["expert"],
    })
    s_insp = cat["strength"]

    # --- hazards ------------------------------------------------------------------------
    n_h = rng.poisson(1.36 * (0.75 + 0.5 * s_insp))
    h_of = np.repeat(np.arange(n_insp), n_h)
    nh = len(h_of)
    s_h = s_insp[h_of]
    found = cat["date"][h_of]
    major = rng.random(nh) < 0.0365
    needs = rng.random(nh) < 0.99
    allowed = np.where(major, rng.choice([30, 45, 60, 90], nh), rng.choice([7, 15, 15, 30, 30, 60], nh))
    deadline = found + allowed.astype("timedelta64[D]")
    # major hazards are nearly always put right in the end; weak units leave a few open for good
    rectified_ok = rng.random(nh) < np.where(major, 1 - 0.06 * (1 - s_h) ** 2, 0.968 + 0.03 * s_h)
    on_time = rng.random(nh) < np.where(major, 0.45 + 0.53 * s_h, 0.70 + 0.28 * s_h)
    lag = np.where(on_time, np.ceil(rng.uniform(0.05, 1.0, nh) * allowed),
                   allowed + np.ceil(rng.gamma(1.6, 9.0, nh)))
    rect = found + lag.astype("timedelta64[D]")
    suspicious = cat["suspicious"][h_of]
    rect = np.where(suspicious, found, rect)
    rectified_ok = rectified_ok | suspicious
    end64 = np.datetime64(data_end)
    rect_known = needs & rectified_ok & (rect <= end64)
    hazards = pd.DataFrame({
        "hazard_id": [f"YH{prefix}{i:09d}" for i in range(1, nh + 1)],
        "inspection_id": inspections.inspection_id.values[h_of],
        "found_date": found,
        "is_major": major,
        "key_matter": rng.random(nh) < 0.22 + 0.15 * s_h,
        "needs_rectification": needs,
        "deadline": pd.Series(deadline).where(needs),
        "rectified_date": pd.Series(rect).where(rect_known),
    })

    # --- penalty cases ------------------------------------------------------------------
    has_h = np.bincount(h_of, minlength=n_insp) > 0
    # cases filed for major hazards
    m_idx = np.flatnonzero(major)
    m_filed = m_idx[rng.random(len(m_idx)) < 0.45 + 0.5 * s_h[m_idx]]
    # other cases from inspections that found hazards
    cand = np.flatnonzero(has_h)
    o_insp = cand[rng.random(len(cand)) < 0.025 + 0.2 * s_insp[cand] ** 1.5]
    first_h = np.searchsorted(h_of, np.arange(n_insp))
    case_insp = np.concatenate([h_of[m_filed], o_insp])
    case_haz = np.concatenate([m_filed, np.where(rng.random(len(o_insp)) < 0.5, first_h[o_insp], -1)])
    for_major = np.concatenate([np.ones(len(m_filed), bool), np.zeros(len(o_insp), bool)])
    nc = len(case_insp)
    s_c = s_insp[case_insp]
    filed = cat["date"][case_insp] + rng.integers(0, 21, nc).astype("timedelta64[D]")
    filed = np.minimum(filed, end64)
    decided = filed + rng.integers(7, 76, nc).astype("timedelta64[D]")
    pending = (rng.random(nc) < 0.03) | (decided > end64)
    fine_c = np.clip(rng.lognormal(np.log(13000), 1.8, nc) * (0.6 + 0.5 * s_c), 2000, 3_000_000)
    fine_c = np.round(fine_c, -2)
    fine_c[rng.random(nc) < 0.04] = 0.0  # warnings only
    dual = (fine_c > 0) & (rng.random(nc) < 0.08 + 0.55 * s_c)
    fine_p = np.where(dual, np.round(np.clip(rng.lognormal(np.log(12000), 0.7, nc), 1000, 200_000), -2), 0.0)
    reviewed = rng.random(nc) < 0.6
    score = np.round(np.clip(rng.normal(76 + 20 * s_c, 5, nc), 40, 100), 1)
    penalties = pd.DataFrame({
        "case_id": [f"AJ{prefix}{i:08d}" for i in range(1, nc + 1)],
        "inspection_id": inspections.inspection_id.values[case_insp],
        "enterprise_id": inspections.enterprise_id.values[case_insp],
        "agency_code": inspections.agency_code.values[case_insp],
        "filed_date": filed,
        "decision_date": pd.Series(decided).where(~pending),
        "fine_company": fine_c,
        "fine_person": fine_p,
        "for_major_hazard": for_major,
        "hazard_id": pd.Series(np.where(case_haz >= 0, hazards.hazard_id.values[np.maximum(case_haz, 0)], None)),
        "transferred": rng.random(nc) < 0.004 + 0.016 * s_c,
        "review_score": pd.Series(score).where(reviewed),
        "case_reported": rng.random(nc) < 0.008 + 0.03 * s_c,
    }).sort_values("filed_date", kind="stable").reset_index(drop=True)

    capacity = _capacity(cfg, agencies, plan_of, years, data_end)
    _report_cases(cfg, agencies, penalties, data_end)

    profiles = pd.concat([
        cities.assign(kind="市")[["code", "name", "kind", "profile"]],
        counties.assign(kind="县")[["code", "name", "kind", "profile"]],
    ], ignore_index=True)
    return dict(enterprises=enterprises, plans=plans, inspections=inspections, hazards=hazards,
                penalties=penalties, **capacity, _profiles=profiles)


# --- enforcement capacity and case reporting ----------------------------------------------------
# Drawn from their own random stream (seed + 1), after everything else: the records above are the
# same with or without them.
POSTS = ("行政执法", "技术检查员", "执法辅助")
CAPACITY_TABLES = ("officers", "training", "establishment")


def _capacity(cfg: DemoConfig, agencies: list[dict], plan_of: dict, years: list[int],
              data_end: dt.date) -> dict[str, pd.DataFrame]:
    """A roster, refresher training and approved posts per bureau, with differences the published
    targets can find: some bureaus below 75% qualified staff (Yunnan), some without technical
    inspectors or short of them (Beijing 1:2), some short of the 2 weeks' refresher (Jiangsu), an
    establishment that grows over the years (Hunan: 1,952 → 2,767 posts) and is filled 80–100%."""
    rng = np.random.default_rng([cfg.seed, 1])
    officers, training, establishment = [], [], []
    serial = 0
    first = dt.date(years[0], 1, 1)
    for a in agencies:
        code, kind = a["code"], a["kind"]
        planned = plan_of.get((code, years[0]), 40)
        s = float(a["strength"].mean())
        # officers at the start; 40 inspections a year each is the Shandong benchmark
        n0 = max({"县": 3, "市": 6, "省": 10}[kind], int(round(planned / rng.uniform(22, 55))))
        growth = rng.choice([0.0, 0.05, 0.12, 0.2], p=[0.25, 0.3, 0.3, 0.15])  # a year, compounded
        qualified_p = float(np.clip(rng.normal(0.55 + 0.35 * s, 0.1), 0.35, 0.98))
        tech_ratio = 0.0 if rng.random() < 0.2 else float(rng.uniform(0.15, 0.65))
        trained_p = float(np.clip(rng.normal(0.45 + 0.5 * s, 0.15), 0.1, 1.0))
        fill = rng.uniform(0.8, 1.0)

        def hire(start: dt.date, post: str) -> None:
            nonlocal serial
            serial += 1
            q = rng.random() < qualified_p
            # a qualified officer has a relevant degree, qualification or experience (at least one)
            degree, qualification, experience = (rng.random(3) < [0.7, 0.4, 0.5]) if q else (False, False, False)
            officers.append(dict(
                officer_id=f"ZF{cfg.province[:2]}{serial:06d}", agency_code=code, name=None, post=post,
                degree=bool(degree or (q and not (qualification or experience))), qualification=bool(qualification),
                experience=bool(experience),
                entry_training_days=None if rng.random() < 0.1 else int(rng.choice([30, 60, 90, 90, 90, 120])),
                start_date=start, end_date=None, _met=rng.random() < trained_p))

        def staff(n_exec: int, start_of: callable) -> None:
            for _ in range(n_exec):
                hire(start_of(), "行政执法")
            for _ in range(int(round(n_exec * tech_ratio))):
                hire(start_of(), "技术检查员")
            for _ in range(rng.binomial(max(n_exec // 3, 1), 0.5)):
                hire(start_of(), "执法辅助")

        staff(n0, lambda: first - dt.timedelta(days=int(rng.integers(30, 15 * 365))))
        target = float(n0)
        for y in years:
            if dt.date(y, 1, 1) > data_end:
                break
            # about 5% leave in a year (retirement, transfer), on a day of the year
            for o in officers:
                if o["agency_code"] == code and o["end_date"] is None and o["start_date"] < dt.date(y, 1, 1) \
                        and rng.random() < 0.05:
                    leave = dt.date(y, 1, 1) + dt.timedelta(days=int(rng.integers(0, 365)))
                    if leave <= data_end:
                        o["end_date"] = leave
            if y > years[0]:
                target *= 1 + growth
                new = int(round(target)) - sum(1 for o in officers if o["agency_code"] == code
                                               and o["post"] == "行政执法" and o["end_date"] is None)
                last = min(dt.date(y, 12, 31), data_end)
                staff(max(new, 0), lambda: dt.date(y, 1, 1) + dt.timedelta(
                    days=int(rng.integers(0, (last - dt.date(y, 1, 1)).days + 1))))
            in_post = [o for o in officers if o["agency_code"] == code and o["start_date"] <= dt.date(y, 12, 31)
                       and (o["end_date"] is None or o["end_date"].year >= y)]
            for o in in_post:
                if o["post"] == "执法辅助":
                    continue
                days = rng.uniform(10, 21) if o["_met"] or rng.random() < 0.15 else rng.uniform(0, 9.5)
                training.append(dict(officer_id=o["officer_id"], year=y, refresher_days=round(days * 2) / 2))
            year_end = min(dt.date(y, 12, 31), data_end)
            sworn = sum(1 for o in in_post if o["post"] != "执法辅助" and (o["end_date"] is None or o["end_date"] > year_end))
            establishment.append(dict(agency_code=code, year=y, posts=int(np.ceil(sworn / fill))))
    roster = pd.DataFrame(officers).drop(columns="_met")
    return dict(officers=roster, training=pd.DataFrame(training), establishment=pd.DataFrame(establishment))


def _report_cases(cfg: DemoConfig, agencies: list[dict], penalties: pd.DataFrame, data_end: dt.date) -> None:
    """Case reporting to the Ministry (应急厅函〔2021〕92号): in each reporting window of its level
    (province half-years, city quarters, county two-month windows) a bureau reports one of its own
    cases with a chance that follows its strength, so some bureaus miss windows and others do not."""
    rng = np.random.default_rng([cfg.seed, 2])
    step = {"省": 6, "市": 3, "县": 2}
    filed = pd.to_datetime(penalties["filed_date"])
    month0 = (filed.dt.year * 12 + filed.dt.month - 1).to_numpy()
    agency = penalties["agency_code"].to_numpy()
    reported = penalties["case_reported"].to_numpy().copy()
    for a in agencies:
        own = np.flatnonzero(agency == a["code"])
        if len(own) == 0:
            continue
        k = step[a["kind"]]
        p = float(np.clip(0.35 + 0.65 * a["strength"].mean(), 0.2, 0.97))
        windows = (month0[own] // 12) * 12 + ((month0[own] % 12) // k) * k
        for w in np.unique(windows):
            cases = own[windows == w]
            if not reported[cases].any() and rng.random() < p:
                reported[rng.choice(cases)] = True
    penalties["case_reported"] = reported


def _to_contract_csv(table: str, frame: pd.DataFrame, path: Path) -> None:
    """Write with the Chinese headers users type, 是/否 booleans and ISO dates."""
    t = load_contract()[table]
    out = pd.DataFrame()
    for c in t.columns:
        col = frame[c.name]
        if c.type == "bool":
            col = col.map({True: "是", False: "否"})
        elif c.type == "date":
            col = pd.to_datetime(col).dt.strftime("%Y-%m-%d")
        elif c.type == "int":
            col = col.astype("Int64")  # 90, not 90.0, where some cells are blank
        out[c.header] = col
    out.to_csv(path, index=False, encoding="utf-8")


def build_demo(cfg: DemoConfig, db=None, progress: bool = False) -> str:
    """Generate, write as contract CSVs, load through the ETL into a fresh warehouse; return a summary."""
    import time

    t0 = time.perf_counter()
    data = generate(cfg)
    t_gen = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="demo-") as tmp:
        paths = []
        for table in ("enterprises", "plans", "inspections", "hazards", "penalties", *CAPACITY_TABLES):
            p = Path(tmp) / f"demo_{table}.csv"
            _to_contract_csv(table, data[table], p)
            paths.append(p)
        meta = {
            "demo": "true", "demo_province": cfg.province, "demo_seed": str(cfg.seed),
            "demo_years": f"{cfg.first_year}-{cfg.last_year}", "demo_scale": str(cfg.scale),
            "demo_built_at": dt.datetime.now().isoformat(timespec="seconds"),
            "demo_profiles": data["_profiles"].to_json(orient="records", force_ascii=False),
        }
        bar = None
        if progress:
            from etl.__main__ import _progress_bar
            bar = _progress_bar()
        result = load_files(paths, db=db, fresh=True, meta=meta, user="demo", progress=bar)
    t_all = time.perf_counter() - t0
    return summarize(data, result, cfg, t_gen, t_all, warehouse.db_path(db))


def summarize(data, result, cfg: DemoConfig, t_gen: float, t_all: float, db: Path) -> str:
    lines = [f"demo warehouse {db} — province {cfg.province}, seed {cfg.seed}, years "
             f"{cfg.first_year}-{cfg.last_year}, scale {cfg.scale} (generated {t_gen:.1f}s, total {t_all:.1f}s)"]
    for f in result.files:
        lines.append("  " + f.summary())
    ins, haz, pen = data["inspections"], data["hazards"], data["penalties"]
    n_ent = len(data["enterprises"])
    lines.append(f"register: {n_ent:,} enterprises, {data['enterprises'].key_unit.mean():.1%} key units")
    lines.append(f"inspections: {len(ins):,}; hazards per inspection {len(haz) / max(len(ins), 1):.2f}; "
                 f"major per 1,000 inspections {haz.is_major.sum() / max(len(ins), 1) * 1000:.1f}")
    per_year = ins.groupby(pd.to_datetime(ins.inspection_date).dt.year).size()
    lines.append("inspections by year: " + ", ".join(f"{y}: {n:,}" for y, n in per_year.items()))
    need = haz[haz.needs_rectification]
    done = need.rectified_date.notna()
    lag = (pd.to_datetime(need.rectified_date) - pd.to_datetime(need.found_date)).dt.days[done]
    late = (pd.to_datetime(need.rectified_date) > pd.to_datetime(need.deadline))[done]
    end = pd.Timestamp(min(dt.date(cfg.last_year, 12, 31), last_complete_quarter()[2]))
    overdue = need[~done & (pd.to_datetime(need.deadline) < end)]
    lines.append(f"rectification: {done.mean():.1%} of {len(need):,} needing; lag days median {lag.median():.0f}, "
                 f"p90 {lag.quantile(0.9):.0f}, max {lag.max():.0f}; rectified late {late.mean():.1%}; "
                 f"overdue open {len(overdue):,} (major {int(overdue.is_major.sum())})")
    total = (pen.fine_company + pen.fine_person) / 10000
    decided = total[pen.decision_date.notna()]
    lines.append(f"penalty cases: {len(pen):,} ({len(pen) / max(ins.enterprise_id.nunique(), 1):.1%} of inspected units); "
                 f"fines 万元 mean {decided.mean():.2f}, median {decided.median():.2f}, p90 {decided.quantile(0.9):.2f}, "
                 f"max {decided.max():.1f}; ≥5万 {(decided >= 5).mean():.1%}; "
                 f"一案双罚 {((pen.fine_company > 0) & (pen.fine_person > 0)).sum() / max((pen.fine_company > 0).sum(), 1):.1%}; "
                 f"transferred {int(pen.transferred.sum())}, reported {int(pen.case_reported.sum())}")
    off, tr, est = data["officers"], data["training"], data["establishment"]
    sworn = off[off.post == "行政执法"]
    qualified = (sworn.degree | sworn.qualification | sworn.experience).mean()
    last = est[est.year == est.year.max()].posts.sum()
    lines.append(f"staff: {len(off):,} on the roster ({len(sworn):,} 行政执法, {(off.post == '技术检查员').sum():,} "
                 f"技术检查员), {qualified:.1%} of 行政执法 qualified; refresher ≥ 10 days {(tr.refresher_days >= 10).mean():.1%} "
                 f"of training rows; posts {est[est.year == est.year.min()].posts.sum():,} → {last:,}")
    prof = data["_profiles"]
    city = prof[prof.kind == "市"]
    lines.append("city profiles: " + "，".join(f"{n}({PROFILE_NAMES[p]})" for n, p in zip(city.name, city.profile)))
    odd = prof[prof.profile == "suspicious"]
    if len(odd):
        lines.append(f"implausible on purpose: {odd.iloc[0]['name']} ({odd.iloc[0]['code']}) rectifies every hazard the day it is found")
    return "\n".join(lines)
