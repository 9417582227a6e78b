"""Every indicator shown on 区域分析 (the scheme's, in its 指标明细 table) traced to its records: the
list behind each numerator and denominator holds exactly the records a plain pandas reading of
the raw tables selects for that number (written here from the spec's definitions), and adds up to
the number the indicator shows. The drill-down's enterprise list adds up to the same numbers —
its 逾期未整改重大隐患 is the indicator's backlog at the period's end."""
from __future__ import annotations


import pandas as pd
import pytest

from etl import warehouse
from metrics import drill, kpis
from metrics.explain import records
from metrics.indicators import compute_indicators
from metrics.periods import Period
from metrics.scheme import SCHEME_DIR, load_scheme
from tests.metrics.metrics_data import hangzhou_q1
from tests.metrics.test_province_filter import _with_sichuan

SCHEME = load_scheme()
UNITS = [("city", "330100"), ("county", "330102"), ("county", "330105"), ("city", "330200")]


def _raw(con) -> dict[str, pd.DataFrame]:
    t = {n: con.execute(f"SELECT * FROM {n}").df() for n in ("regions", "enterprises", "inspections", "hazards",
                                                              "penalties", "plans", "officers", "training",
                                                              "establishment")}
    for df in t.values():
        for c in df.columns:
            if c.endswith("_date") or c == "deadline":
                df[c] = pd.to_datetime(df[c])
    return t


def _reference(t: dict, period: Period, level: str, code: str) -> dict[tuple[str, str], pd.DataFrame]:
    """indicator, part → the records behind it (the spec's definitions, read plainly)."""
    r = t["regions"].set_index("code")
    if level == "city":
        mine = set(r.index[(r.level == "市") & (r.index == code)]) | set(r.index[(r.level == "县") & (r.city_code == code)])
        located = set(r.index[(r.level == "县") & (r.city_code == code)]) | {code}
    else:
        mine = {code} if r.loc[code, "level"] == "县" else set()
        located = {code}
    start, end = pd.Timestamp(period.start), pd.Timestamp(period.end)
    ystart = pd.Timestamp(period.year_start)
    ent = t["enterprises"].set_index("enterprise_id")
    ins = t["inspections"][t["inspections"].agency_code.isin(mine)].copy()
    ins["key_unit"] = ins.enterprise_id.map(ent.key_unit).fillna(False).astype(bool)
    found = t["hazards"].groupby("inspection_id").size()
    ins["hazards_found"] = ins.inspection_id.map(found).fillna(0)
    haz = t["hazards"][t["hazards"].inspection_id.isin(ins.inspection_id)]
    pen = t["penalties"][t["penalties"].agency_code.isin(mine)].copy()
    reg = t["enterprises"][t["enterprises"].county_code.isin(located)]
    plans = t["plans"][t["plans"].agency_code.isin(mine) & (t["plans"].year == period.year)]
    inp = lambda s: (s >= start) & (s <= end)
    i_p, h_p, c_p = ins[inp(ins.inspection_date)], haz[inp(haz.found_date)], pen[inp(pen.filed_date)]
    by_end = lambda df: df.rectified_date.notna() & (df.rectified_date <= end)
    asof = haz[haz.found_date <= end]
    due = asof[asof.needs_rectification & asof.deadline.notna() & (asof.deadline <= end)
               & ~(asof.rectified_date.notna() & (asof.rectified_date < start))]
    major_due = haz[haz.is_major & haz.deadline.notna() & inp(haz.deadline)]
    decided = c_p[c_p.decision_date.notna()]
    dual = c_p[(c_p.fine_company > 0) & (c_p.fine_person > 0)]
    # §7: staff in post on the last day; the unit's own bureau's reporting windows ended in the period
    off = t["officers"][t["officers"].agency_code.isin(mine)].copy()
    off["training_id"] = off.officer_id
    post = off[(off.start_date <= end) & ~(off.end_date <= end)]
    sworn = post[post.post == "行政执法"]
    tr = t["training"].merge(sworn[["officer_id"]], on="officer_id")
    tr["training_id"] = tr.officer_id + " " + tr.year.astype(str)
    est = t["establishment"][t["establishment"].agency_code.isin(mine) & (t["establishment"].year == period.year)]
    lv = {"city": "市", "county": "县"}[level]
    own = code if r.loc[code, "level"] == lv else None
    months = {"市": 3, "县": 2}[lv]
    windows = []
    for y in range(period.year - 1, period.year + 1):
        for m in range(1, 13, months):
            w0 = pd.Timestamp(y, m, 1)
            w1 = w0 + pd.offsets.MonthEnd(months)
            if own and start <= w1 <= end:
                cases = pen[(pen.agency_code == own) & pen.case_reported & (pen.filed_date >= w0) & (pen.filed_date <= w1)]
                windows.append(dict(window_id=f"{own} {w0:%Y-%m}", met=len(cases) > 0))
    win = pd.DataFrame(windows, columns=["window_id", "met"])
    return {
        ("report_cadence", "numerator"): win[win.met.astype(bool)], ("report_cadence", "denominator"): win,
        ("officers", "numerator"): post[post.post.isin(["行政执法", "技术检查员"])],
        ("qualified_share", "numerator"): sworn[sworn.degree | sworn.qualification | sworn.experience],
        ("qualified_share", "denominator"): sworn,
        ("tech_inspector_ratio", "numerator"): post[post.post == "技术检查员"],
        ("tech_inspector_ratio", "denominator"): sworn,
        ("inspections_per_officer", "numerator"): i_p, ("inspections_per_officer", "denominator"): sworn,
        ("training_met", "numerator"): tr[(tr.year == period.year) & (tr.refresher_days >= 10)],
        ("training_met", "denominator"): sworn,
        ("establishment_filled", "numerator"): post[post.post.isin(["行政执法", "技术检查员"])],
        ("establishment_filled", "denominator"): est,
        ("coverage", "numerator"): i_p, ("coverage", "denominator"): reg,
        ("key_coverage", "numerator"): ins[(ins.inspection_date >= ystart) & (ins.inspection_date <= end) & ins.key_unit],
        ("key_coverage", "denominator"): reg[reg.key_unit],
        ("rectification", "numerator"): h_p[h_p.needs_rectification & by_end(h_p)],
        ("rectification", "denominator"): h_p[h_p.needs_rectification],
        ("major_on_time", "numerator"): major_due[major_due.rectified_date.notna()
                                                  & (major_due.rectified_date <= major_due.deadline)],
        ("major_on_time", "denominator"): major_due,
        ("penalty_rate", "numerator"): c_p, ("penalty_rate", "denominator"): i_p[i_p.hazards_found > 0],
        ("avg_fine", "numerator"): decided, ("avg_fine", "denominator"): decided,
        ("major_filing", "numerator"): c_p[c_p.for_major_hazard], ("major_filing", "denominator"): h_p[h_p.is_major],
        ("dual_penalty", "numerator"): dual, ("dual_penalty", "denominator"): c_p[c_p.fine_company > 0],
        ("review_score", "numerator"): c_p[c_p.review_score.notna()],
        ("review_score", "denominator"): c_p[c_p.review_score.notna()],
        ("plan_completion", "numerator"): i_p, ("plan_completion", "denominator"): plans,
        ("mobile_share", "numerator"): i_p[i_p.via_mobile], ("mobile_share", "denominator"): i_p,
        ("transfers", "numerator"): c_p[c_p.transferred], ("reported_cases", "numerator"): c_p[c_p.case_reported],
        ("overdue_major", "numerator"): asof[asof.is_major & asof.deadline.notna() & (asof.deadline < end) & ~by_end(asof)],
        ("key_matter_findings", "numerator"): h_p[h_p.key_matter], ("fines_total", "numerator"): c_p,
        ("rectification_due", "numerator"): due[by_end(due)], ("rectification_due", "denominator"): due,
        ("dual_penalty_cases", "numerator"): dual,
    }


KEYS = {"inspections": "inspection_id", "hazards": "hazard_id", "penalties": "case_id", "enterprises": "enterprise_id",
        "plans": "agency_code", "officers": "officer_id", "training": "training_id", "establishment": "agency_code",
        "report_windows": "window_id"}


def _with_staff():
    """The records of _with_sichuan and a staff roster: 上城 and the 杭州 city bureau, one officer
    leaving in 2024Q1, training in two years, posts for 2024."""
    d = _with_sichuan()
    d.officer("330102", "行政执法", "2020-01-01", degree=True, oid="O1")
    d.officer("330102", "行政执法", "2021-01-01", "2024-02-15", oid="O2")
    d.officer("330102", "技术检查员", "2022-01-01", oid="O3")
    d.officer("330100", "行政执法", "2024-04-01", experience=True, oid="O4")
    d.officer("330105", "执法辅助", "2019-01-01", oid="O5")
    d.training("O1", 2024, 12)
    d.training("O1", 2023, 20)
    d.training("O4", 2024, 6)
    d.posts("330102", 2024, 4)
    d.posts("330100", 2024, 2)
    return d


# every installed scheme the page offers (ui.data.scheme_files: a file with an index or a score, or
# extending another); indicators.toml alone is a library of indicators the page never shows, and every
# one of its indicators is walked under the default scheme, which extends it unchanged (asserted below)
SCHEME_FILES = sorted(SCHEME_DIR.glob("*.toml"))
LIBRARIES = [p for p in SCHEME_FILES if load_scheme(p).index is None and load_scheme(p).score is None]
SHOWN_SCHEMES = [p for p in SCHEME_FILES if p not in LIBRARIES]


def test_every_scheme_file_is_walked_or_a_library_of_the_default():
    assert {p.name for p in SHOWN_SCHEMES} >= {"default.toml", "hunan.toml", "jiangsu.toml"}
    assert [p.name for p in LIBRARIES] == ["indicators.toml"]
    default = load_scheme(SCHEME_DIR / "default.toml").indicators
    for lib in LIBRARIES:
        assert all(default.get(c) == ind for c, ind in load_scheme(lib).indicators.items()), lib.name


def _walked():
    """_with_staff and a year earlier for the growth indicators (jiangsu.toml): 2023Q1 and 2023Q2
    inspections, hazards (a key matter, major ones) and cases (dual fines, for a major hazard) of
    上城, 拱墅 and the 杭州 city bureau."""
    d = _with_staff()
    a = d.inspection("330102", "E1", "2023-02-10", iid="Y1")
    d.hazard(a, "2023-02-10", major=True, key_matter=True, deadline="2023-03-10", rectified="2023-03-01", hid="YH1")
    d.hazard(a, "2023-02-10", key_matter=True, deadline="2023-03-10", hid="YH2")
    b = d.inspection("330105", "E3", "2023-05-05", iid="Y2")
    d.hazard(b, "2023-05-05", major=True, deadline="2023-06-05", rectified="2023-06-01", hid="YH3")
    d.penalty("330102", "E1", "2023-02-15", decided="2023-02-20", fine_company=40000, fine_person=6000, major=True,
              cid="YP1")
    d.penalty("330100", "E3", "2023-03-01", decided="2023-03-05", fine_company=12000, cid="YP2")
    d.penalty("330105", "E4", "2023-05-10", decided="2023-05-12", fine_company=8000, fine_person=2000, cid="YP3")
    return d


@pytest.fixture(scope="module")
def walk_warehouse(tmp_path_factory):
    """_walked() as a warehouse file built the way loads build it, opened read-only the way the app
    opens it (etl.warehouse.connect_read: the marts are checked once, not on every read as on a
    writable connection — that check was two thirds of the walk's time), and its raw tables."""
    path = _walked().build(tmp_path_factory.mktemp("walk") / "warehouse.duckdb")
    con = warehouse.connect_read(path)
    yield con, _raw(con)
    con.close()


def _listed_total(got: pd.DataFrame, part) -> float:
    """What a record list adds up to under its part's aggregation."""
    if part.agg == "count":
        return len(got)
    if part.agg == "distinct":
        return got[part.column].nunique()
    return float(got["amount"].sum())


@pytest.mark.parametrize("scheme_file", SHOWN_SCHEMES, ids=lambda p: p.stem)
@pytest.mark.parametrize("quarter", ["2024Q1", "2024Q2"])
def test_every_indicator_on_the_page_traces_to_exactly_its_records(quarter, scheme_file, walk_warehouse):
    """Every indicator of every scheme the page offers. A count, sum or ratio: the list behind each
    part holds exactly the reference's records and adds up to the number shown. A year-on-year growth
    (``growth = …``) compares two periods and has no records of its own; the rule, asserted here:
    its 分子 is the base indicator's value now and its 分母 the value a year earlier, and its list is
    the base's numerator records of that period — adding up to the number shown when the base is a
    count or sum, and to the base's numerator when the base is a ratio (the page then shows the
    base's value as numerator ÷ denominator beside the list: tests/pages/test_region_growth.py)."""
    scheme = load_scheme(scheme_file)
    con, t = walk_warehouse
    period = Period.parse(quarter)
    ago = period.year_ago()
    walked = set()
    for level, code in UNITS:
        shown = compute_indicators(con, period, level, "330000", scheme).set_index(["code", "indicator"])
        refs = {period: _reference(t, period, level, code), ago: _reference(t, ago, level, code)}
        base_rows = {}
        for ind in scheme.indicators.values():
            if ind.growth_of:
                base = scheme.indicators[ind.growth_of]
                for part_name, when in (("numerator", period), ("denominator", ago)):
                    if when not in base_rows:
                        base_rows[when] = compute_indicators(con, when, level, "330000", scheme).set_index(
                            ["code", "indicator"])
                    then = base_rows[when].loc[(code, base.code)]
                    got = records(con, period, code, ind.code, part_name, scheme)
                    want = refs[when][(base.code, "numerator")]
                    key = KEYS[base.numerator.table]
                    assert sorted(got[key]) == sorted(want[key]), (scheme_file.stem, code, ind.code, part_name)
                    number = shown.loc[(code, ind.code), part_name]
                    assert _same(number, then["value"]), (code, ind.code, part_name, number, then["value"])
                    total = _listed_total(got, base.numerator)
                    assert total == pytest.approx(then["numerator"])
                    if base.denominator is None:   # a count or sum: the list adds up to the number
                        assert total == pytest.approx(number)
                    walked.add((ind.code, part_name))
                continue
            for part_name, part in (("numerator", ind.numerator), ("denominator", ind.denominator)):
                if part is None:   # a count or sum: the page offers no 分母 (pages/region.py: is_ratio)
                    assert not ind.is_ratio
                    continue
                got = records(con, period, code, ind.code, part_name, scheme)
                want = refs[period][(ind.code, part_name)]
                key = KEYS[part.table]
                assert sorted(got[key]) == sorted(want[key]), (scheme_file.stem, level, code, ind.code, part_name)
                assert _listed_total(got, part) == pytest.approx(shown.loc[(code, ind.code), part_name])
                walked.add((ind.code, part_name))
    assert {c for c, _ in walked} == set(scheme.indicators)
    assert {(c, p) for c, i in scheme.indicators.items() for p in ("numerator", "denominator")
            if p == "numerator" or i.is_ratio} == walked


def _same(a, b) -> bool:
    return (pd.isna(a) and pd.isna(b)) or (not pd.isna(a) and not pd.isna(b) and a == pytest.approx(b))


@pytest.mark.parametrize("quarter", ["2024Q1", "2024Q2"])
def test_the_enterprise_list_adds_up_to_the_indicators_and_tiles(quarter):
    con = _with_sichuan().memory()
    for level, code in UNITS:
        shown = compute_indicators(con, quarter, level, "330000", SCHEME).set_index(["code", "indicator"])
        ents = drill.enterprises(con, quarter, code, scheme=SCHEME)
        tot = kpis.region_totals(con, quarter, code, SCHEME)
        # 逾期未整改重大隐患: the indicator's backlog at the period's end, not the hazards found in it
        assert ents.overdue_major.sum() == shown.loc[(code, "overdue_major"), "numerator"]
        rect = shown.loc[(code, "rectification")]
        assert ents.open_hazards.sum() == rect["denominator"] - rect["numerator"]
        assert ents.major_hazards.sum() == shown.loc[(code, "major_filing"), "denominator"] == tot["major_hazards"]
        assert ents.fines.sum() == pytest.approx(shown.loc[(code, "fines_total"), "numerator"])
        assert (ents.inspections.sum(), ents.hazards.sum(), ents.cases.sum()) == \
            (tot["inspections"], tot["hazards"], tot["cases"])
        assert tot["rectified"] == rect["numerator"] and tot["needing"] == rect["denominator"]


def test_a_backlog_hazard_found_in_an_earlier_quarter_is_listed():
    """H6 (上城, major, found 2023-12-31, deadline 2024-01-31, never rectified) is overdue at the end
    of 2024Q1 though found in 2023Q4: the indicator counts it, so the drill-down lists it."""
    con = hangzhou_q1().memory()
    ents = drill.enterprises(con, "2024Q1", "330102", scheme=SCHEME).set_index("enterprise_id")
    assert ents.loc["E2", "overdue_major"] == 1 and ents.loc["E2", "hazards"] == 0


# 逾期未整改重大隐患 redefined: 15 days' grace after the deadline, or due on the period's last day too
_OVERDUE = ('extends = "default"\n[indicators.overdue_major]\nname = "逾期未整改重大隐患数"\nunit = "项"\n'
            'direction = "-"\ndecimals = 0\nnumerator = {{ table = "hazards", window = "as_of", '
            'where = "is_major AND {due} AND NOT rectified_date <= period_end" }}\n')
OVERDUE_SCHEMES = {"default": None, "grace": "deadline + 15 < period_end", "strict": "deadline <= period_end"}


@pytest.mark.parametrize("name", OVERDUE_SCHEMES)
def test_a_hazards_status_follows_the_schemes_overdue_major(name, tmp_path):
    """drill.records' hazard status: 逾期未整改 on a major hazard is exactly what the scheme's
    逾期未整改重大隐患 counts (a hard-coded ``deadline < period_end`` used to label it whatever the
    scheme said); a hazard that is not major keeps the plain rule (open and past its deadline)."""
    if OVERDUE_SCHEMES[name]:
        (tmp_path / f"{name}.toml").write_text(_OVERDUE.format(due=OVERDUE_SCHEMES[name]), encoding="utf-8")
        scheme = load_scheme(tmp_path / f"{name}.toml")
    else:
        scheme = SCHEME
    d = hangzhou_q1()
    i2 = "I2"  # 上城 → E1, 2024-02-10
    d.hazard(i2, "2024-03-01", major=True, deadline="2024-03-25", hid="HX")   # overdue by 6 days at 03-31
    d.hazard(i2, "2024-03-01", major=True, deadline="2024-03-31", hid="HY")   # due on the period's last day
    d.hazard(i2, "2024-03-01", deadline="2024-03-20", hid="HZ")               # not major, overdue
    con = d.memory()
    for level, code in UNITS:
        listed = drill.records(con, "2024Q1", code, "hazards", scheme=scheme)
        counted = set(records(con, "2024Q1", code, "overdue_major", "numerator", scheme)["hazard_id"])
        major = listed[listed["is_major"]]
        assert set(major.loc[major["status"] == "逾期未整改", "hazard_id"]) == counted & set(listed["hazard_id"]), code
        shown = compute_indicators(con, "2024Q1", level, "330000", scheme).set_index(["code", "indicator"])
        ents = drill.enterprises(con, "2024Q1", code, scheme=scheme)
        assert ents["overdue_major"].sum() == len(counted) == shown.loc[(code, "overdue_major"), "numerator"]
    status = drill.records(con, "2024Q1", "330102", "hazards", scheme=scheme).set_index("hazard_id")["status"]
    want = {"default": ("逾期未整改", "未整改"), "grace": ("未整改", "未整改"), "strict": ("逾期未整改", "逾期未整改")}[name]
    assert (status["HX"], status["HY"], status["HZ"]) == (*want, "逾期未整改")
