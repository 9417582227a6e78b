"""Every rule of the contract: the row that breaks it is set aside with file, row number as the user
sees it, column, value and reason; the good row next to it loads."""
from __future__ import annotations

import csv
import datetime as dt
import json
import shutil

import pytest

from etl.load import load_files
from etl.validate import TYPE_HINTS
from tests.etl import helpers as h

TOMORROW = (h.TODAY + dt.timedelta(days=1)).isoformat()
TODAY = h.TODAY.isoformat()
BAD_CODE = h.bad_check_char(h.eid(9))

# (table, overrides for the bad row, column header in the report, value in the report, reason contains)
CASES = {
    # required cells left blank
    "required inspection_date": ("inspections", dict(inspection_date=None), "检查日期", None, "必填项为空"),
    "required enterprise name": ("enterprises", dict(name=""), "单位名称", None, "必填项为空"),
    "required hazard is_major": ("hazards", dict(is_major=None), "重大事故隐患", None, "必填项为空"),
    "required plan count": ("plans", dict(planned_inspections=" "), "计划检查次数", None, "必填项为空"),
    "required case enterprise": ("penalties", dict(enterprise_id=None), "统一社会信用代码", None, "必填项为空"),
    # values that do not parse
    "date 2024-13-01": ("inspections", dict(inspection_date="2024-13-01"), "检查日期", "2024-13-01", TYPE_HINTS["date"]),
    "date 2024-02-30": ("hazards", dict(found_date="2024-02-30"), "发现日期", "2024-02-30", TYPE_HINTS["date"]),
    "date words": ("penalties", dict(filed_date="三月五日"), "立案日期", "三月五日", TYPE_HINTS["date"]),
    "amount words": ("penalties", dict(fine_company="一万元"), "单位罚款(元)", "一万元", TYPE_HINTS["amount"]),
    "amount 1.2.3": ("penalties", dict(fine_person="1.2.3"), "个人罚款(元)", "1.2.3", TYPE_HINTS["amount"]),
    "amount inf": ("penalties", dict(fine_company="inf"), "单位罚款(元)", "inf", TYPE_HINTS["amount"]),
    "amount too big": ("penalties", dict(fine_company="1e30"), "单位罚款(元)", "1e30", "金额超出范围"),
    "bool maybe": ("enterprises", dict(key_unit="可能"), "重点检查单位", "可能", TYPE_HINTS["bool"]),
    "bool 2": ("inspections", dict(via_mobile="2"), "移动执法", "2", TYPE_HINTS["bool"]),
    "int fraction": ("plans", dict(planned_inspections="12.5"), "计划检查次数", "12.5", TYPE_HINTS["int"]),
    "int words": ("plans", dict(year="二〇二四"), "年度", "二〇二四", TYPE_HINTS["int"]),
    "int too big": ("plans", dict(planned_inspections="99999999999"), "计划检查次数", "99999999999", "超出范围"),
    "score text": ("penalties", dict(review_score="优"), "案卷评查得分", "优", TYPE_HINTS["score"]),
    # enumerations
    "industry": ("enterprises", dict(industry="化工"), "行业领域", "化工", "不在允许值内"),
    "inspection type": ("inspections", dict(inspection_type="日常检查"), "检查方式", "日常检查", "不在允许值内"),
    "region level": ("regions", dict(code="330198", level="区"), "层级", "区", "不在允许值内"),
    # credit codes
    "credit check char": ("enterprises", dict(enterprise_id=BAD_CODE), "统一社会信用代码", BAD_CODE, "GB 32100"),
    "credit 17 chars": ("enterprises", dict(enterprise_id=h.eid(9)[:17]), "统一社会信用代码", h.eid(9)[:17], "GB 32100"),
    "credit letter I": ("enterprises", dict(enterprise_id="I" + h.eid(9)[1:]), "统一社会信用代码", "I" + h.eid(9)[1:], "GB 32100"),
    # region codes and levels
    "county is a city": ("enterprises", dict(county_code=h.CITY), "所属区县代码", h.CITY, "不是有效的县级区划代码"),
    "county unknown": ("enterprises", dict(county_code="339999"), "所属区县代码", "339999", "不是有效的县级区划代码"),
    "agency unknown": ("inspections", dict(agency_code="999999"), "执法机构区划代码", "999999", "区划代码"),
    "plan agency 5 digits": ("plans", dict(agency_code="33010"), "执法机构区划代码", "33010", "区划代码"),
    "case agency unknown": ("penalties", dict(agency_code="330199"), "执法机构区划代码", "330199", "区划代码"),
    "region code 5 digits": ("regions", dict(code="33019"), "区划代码", "33019", "应为6位数字区划代码"),
    "region parent missing": ("regions", dict(code="330198", parent_code=None), "上级区划代码", None, "层级不是省时必填"),
    "region parent unknown": ("regions", dict(code="330198", parent_code="339900"), "上级区划代码", "339900", "在行政区划中不存在"),
    # bounds
    "inspection tomorrow": ("inspections", dict(inspection_date=TOMORROW), "检查日期", TOMORROW, "不能晚于今天"),
    "inspection 1999": ("inspections", dict(inspection_date="1999-12-31"), "检查日期", "1999-12-31", "不能早于2000-01-01"),
    "found tomorrow": ("hazards", dict(found_date=TOMORROW, deadline=None, needs_rectification="否", rectified_date=None),
                       "发现日期", TOMORROW, "不能晚于今天"),
    "rectified tomorrow": ("hazards", dict(rectified_date=TOMORROW), "整改完成日期", TOMORROW, "不能晚于今天"),
    "filed tomorrow": ("penalties", dict(filed_date=TOMORROW, decision_date=None), "立案日期", TOMORROW, "不能晚于今天"),
    "filed 1999": ("penalties", dict(filed_date="1999-06-30", decision_date=None), "立案日期", "1999-06-30", "不能早于2000-01-01"),
    "decided tomorrow": ("penalties", dict(decision_date=TOMORROW), "决定日期", TOMORROW, "不能晚于今天"),
    "plan year 1999": ("plans", dict(year="1999"), "年度", "1999", "不能小于2000"),
    "plan year 2101": ("plans", dict(year="2101"), "年度", "2101", "不能大于2100"),
    "plan negative": ("plans", dict(planned_inspections="-1"), "计划检查次数", "-1", "不能小于0"),
    "negative fine company": ("penalties", dict(fine_company="-500"), "单位罚款(元)", "-500", "不能小于0"),
    "negative fine person": ("penalties", dict(fine_person="-0.5万"), "个人罚款(元)", "-0.5万", "不能小于0"),
    "score 101": ("penalties", dict(review_score="101"), "案卷评查得分", "101", "不能大于100"),
    "score -1": ("penalties", dict(review_score="-1"), "案卷评查得分", "-1", "不能小于0"),
    # references
    "enterprise not in register": ("inspections", dict(enterprise_id=h.eid(9)), "统一社会信用代码", h.eid(9), "在执法对象名录中不存在"),
    "case enterprise not in register": ("penalties", dict(enterprise_id=h.eid(9)), "统一社会信用代码", h.eid(9), "在执法对象名录中不存在"),
    "hazard's inspection not loaded": ("hazards", dict(inspection_id="JC0099"), "检查编号", "JC0099", "在执法检查中不存在"),
    "case's inspection not loaded": ("penalties", dict(inspection_id="JC0099"), "检查编号", "JC0099", "在执法检查中不存在"),
    "case's hazard not loaded": ("penalties", dict(hazard_id="YH0099"), "隐患编号", "YH0099", "在隐患中不存在"),
    # dates in order
    "found before inspection": ("hazards", dict(found_date="2024-03-04", deadline="2024-04-01", rectified_date=None),
                                "发现日期", "2024-03-04 < 2024-03-05", "早于执法检查的检查日期"),
    "deadline before found": ("hazards", dict(deadline="2024/3/1"), "整改期限", "2024/3/1 < 2024-03-05", "早于发现日期"),
    "deadline required": ("hazards", dict(deadline=None), "整改期限", None, "“需整改”为是时必填"),
    "deadline required by default": ("hazards", dict(deadline=None, needs_rectification=""), "整改期限", None, "“需整改”为是时必填"),
    "rectified before found": ("hazards", dict(rectified_date="2024-03-01"), "整改完成日期", "2024-03-01 < 2024-03-05", "早于发现日期"),
    "decision before filed": ("penalties", dict(decision_date="2024-03-09"), "决定日期", "2024-03-09 < 2024-03-10", "早于立案日期"),
    # the staff roster, its training and the establishment (执法人员名录、培训、编制)
    "officer id required": ("officers", dict(officer_id=None), "执法证号", None, "必填项为空"),
    "officer post required": ("officers", dict(post=None), "岗位类别", None, "必填项为空"),
    "officer start required": ("officers", dict(start_date=None), "在岗起始日期", None, "必填项为空"),
    "officer post": ("officers", dict(post="协管员"), "岗位类别", "协管员", "不在允许值内（行政执法 / 技术检查员 / 执法辅助）"),
    "officer agency unknown": ("officers", dict(agency_code="999999"), "执法机构区划代码", "999999", "区划代码"),
    "officer agency 5 digits": ("officers", dict(agency_code="33010"), "执法机构区划代码", "33010", "区划代码"),
    "officer degree maybe": ("officers", dict(degree="大概"), "相关学历", "大概", TYPE_HINTS["bool"]),
    "officer entry training negative": ("officers", dict(entry_training_days="-3"), "入职培训天数", "-3", "不能小于0"),
    "officer entry training fraction": ("officers", dict(entry_training_days="2.5"), "入职培训天数", "2.5", TYPE_HINTS["int"]),
    "officer start tomorrow": ("officers", dict(start_date=TOMORROW), "在岗起始日期", TOMORROW, "不能晚于今天"),
    "officer start not a date": ("officers", dict(start_date="去年"), "在岗起始日期", "去年", TYPE_HINTS["date"]),
    "officer end tomorrow": ("officers", dict(end_date=TOMORROW), "离岗日期", TOMORROW, "不能晚于今天"),
    "officer end before start": ("officers", dict(end_date="2019-12-31"), "离岗日期", "2019-12-31 < 2020-01-01",
                                 "早于在岗起始日期"),
    "training officer not loaded": ("training", dict(officer_id="ZF0099"), "执法证号", "ZF0099", "在执法人员名录中不存在"),
    "training officer required": ("training", dict(officer_id=None), "执法证号", None, "必填项为空"),
    "training days required": ("training", dict(refresher_days=""), "复训天数", None, "必填项为空"),
    "training year 1999": ("training", dict(year="1999"), "年度", "1999", "不能小于2000"),
    "training year 2101": ("training", dict(year="2101"), "年度", "2101", "不能大于2100"),
    "training days negative": ("training", dict(refresher_days="-1"), "复训天数", "-1", "不能小于0"),
    "training days words": ("training", dict(refresher_days="两周"), "复训天数", "两周", TYPE_HINTS["score"]),
    "establishment agency unknown": ("establishment", dict(agency_code="999999"), "执法机构区划代码", "999999", "区划代码"),
    "establishment year 1999": ("establishment", dict(year="1999"), "年度", "1999", "不能小于2000"),
    "establishment year 2101": ("establishment", dict(year="2101"), "年度", "2101", "不能大于2100"),
    "establishment posts negative": ("establishment", dict(posts="-5"), "核定编制数", "-5", "不能小于0"),
    "establishment posts fraction": ("establishment", dict(posts="30.5"), "核定编制数", "30.5", TYPE_HINTS["int"]),
    "establishment posts required": ("establishment", dict(posts=None), "核定编制数", None, "必填项为空"),
}

REGION_CODES = iter(f"3301{n}" for n in range(60, 99))
YEARS = iter(str(y) for y in range(2041, 2100))  # ids of the training and establishment cases


def _bad_row(table: str, number: int, overrides: dict) -> dict:
    """The case's row, with an id of its own so that cases in one file do not collide."""
    if table == "regions":
        return h.region(**{"code": next(REGION_CODES), **overrides})
    if table == "plans":
        return h.plan(**{"year": str(2040 + number), **overrides})
    if table == "establishment":
        return h.establishment(**{"year": next(YEARS), **overrides})
    if table == "training":  # the good row's officer, another year
        return h.training(7, **{"year": next(YEARS), **overrides})
    return h.BUILDERS[table](number, **overrides)


def _good_row(table: str) -> dict:
    if table == "regions":
        return h.region("330159", "好区")
    if table == "plans":
        return h.plan(year="2039")
    if table == "establishment":
        return h.establishment(year="2039")
    return h.BUILDERS[table](7)


@pytest.fixture(scope="module", params=[".csv", ".xlsx"])
def run(request, tmp_path_factory, _base_warehouse):
    """All cases in one run, per format: per table a file with a good row (row 2), then one row
    per case. Returns (suffix, result, warehouse, {case: row number})."""
    suffix = request.param
    d = tmp_path_factory.mktemp("rules")
    db = d / "warehouse.duckdb"
    shutil.copyfile(_base_warehouse, db)
    where, paths = {}, []
    for table in h.CONTRACT.order:
        rows = [_good_row(table)]
        for number, (case, (t, overrides, *_)) in enumerate(CASES.items(), start=10):
            if t == table:
                rows.append(_bad_row(table, number, overrides))
                where[case] = len(rows) + 1  # + the header line
        paths.append(h.write(d / f"{table}{suffix}", table, rows))
    result = load_files(paths, db=db, today=h.TODAY, report_dir=d / "reports")
    h.assert_accounted(result)
    return suffix, result, db, where


def test_good_rows_load_and_every_case_is_set_aside(run):
    suffix, result, db, where = run
    for f in result.files:
        n_cases = sum(1 for t, *_ in CASES.values() if t == f.table)
        assert (f.read, f.loaded + f.replaced, f.set_aside) == (1 + n_cases, 1, n_cases), f.summary()
        rows = {r["row"] for r in h.set_aside(result, file=f"{f.table}{suffix}")}
        assert rows == {where[c] for c, (t, *_) in CASES.items() if t == f.table}
    assert h.one(db, "SELECT count(*) FROM inspections WHERE inspection_id = 'JC0007'") == 1
    assert h.one(db, "SELECT count(*) FROM penalties WHERE case_id = 'AJ0007'") == 1


@pytest.mark.parametrize("case", list(CASES))
def test_rule(run, case):
    suffix, result, db, where = run
    table, overrides, column, value, reason = CASES[case]
    rows = h.set_aside(result, file=f"{table}{suffix}", row=where[case])
    hit = [r for r in rows if r["column"] == column and reason in r["reason"]]
    assert hit, rows
    assert hit[0]["value"] == value
    # the report's raw row holds the cell as the user wrote it
    fields = [k for k in overrides if h.HEADER[table][k] == column]
    if fields:
        cell = overrides[fields[0]]
        assert json.loads(hit[0]["raw"])[column] == ((cell.strip() or None) if isinstance(cell, str) else cell)
    # the quarantine table holds the same
    assert (f"{table}{suffix}", where[case], column, value) in h.query(
        db, "SELECT file_name, row_number, column_name, value FROM quarantine")


def test_today_itself_is_not_future(base, load, files):
    f = h.only_file(load(h.write(files / "i.csv", "inspections", [h.inspection(9, inspection_date=TODAY)])))
    assert (f.loaded, f.set_aside) == (1, 0)


def test_future_is_relative_to_today(base, load, files):
    path = h.write(files / "i.csv", "inspections", [h.inspection(9, inspection_date="2026-12-01")])
    assert h.only_file(load(path)).set_aside == 1
    assert h.only_file(load(path, today=dt.date(2026, 12, 1))).loaded == 1


def test_bad_row_does_not_reach_the_warehouse(base, load, files):
    load(h.write(files / "i.csv", "inspections", [h.inspection(9, inspection_date="2024-13-01")]))
    assert h.query(base, "SELECT * FROM inspections WHERE inspection_id = 'JC0009'") == []


def test_no_deadline_needed_when_no_rectification(base, load, files):
    row = h.hazard(9, needs_rectification="否", deadline=None, rectified_date=None)
    assert h.only_file(load(h.write(files / "hz.csv", "hazards", [row]))).loaded == 1


def test_duplicate_id_in_a_file(base, load, files):
    rows = [h.inspection(9), h.inspection(10), h.inspection(9, inspection_type="复查")]
    result = load(h.write(files / "i.csv", "inspections", rows))
    f = h.only_file(result)
    assert (f.read, f.loaded, f.set_aside) == (3, 2, 1)
    [row] = h.set_aside(result)
    assert (row["file"], row["row"], row["column"], row["value"]) == ("i.csv", 4, "检查编号", "JC0009")
    assert "重复" in row["reason"] and "第2行" in row["reason"]
    assert h.one(base, "SELECT inspection_type FROM inspections WHERE inspection_id = 'JC0009'") == "双随机"  # first wins


def test_duplicate_composite_key_in_a_file(db, load, files):
    rows = [h.plan(h.COUNTY, "2024", "10"), h.plan(h.COUNTY, "2025", "10"), h.plan(h.COUNTY, "2024.0", "20")]
    result = load(h.write(files / "plans.csv", "plans", rows))
    [row] = h.set_aside(result)
    assert (row["row"], row["column"]) == (4, "执法机构区划代码")
    assert "第2行" in row["reason"]
    assert h.query(db, "SELECT year, planned_inspections FROM plans ORDER BY year") == [(2024, 10), (2025, 10)]


def test_a_row_breaking_several_rules_is_set_aside_once(base, load, files):
    bad = h.inspection(9, enterprise_id=h.eid(99), inspection_date="1999-01-01", inspection_type="抽查")
    result = load(h.write(files / "i.csv", "inspections", [bad]))
    f = h.only_file(result)
    assert (f.read, f.set_aside) == (1, 1)
    assert {r["column"] for r in h.set_aside(result)} == {"统一社会信用代码", "检查日期", "检查方式"}


def test_reference_to_a_row_set_aside_in_the_same_run(db, load, files):
    """A hazard whose inspection was set aside in the same run has no inspection to hang on."""
    result = load(
        h.write(files / "e.csv", "enterprises", [h.enterprise(1)]),
        h.write(files / "i.csv", "inspections", [h.inspection(1), h.inspection(2, inspection_date="2030-01-01")]),
        h.write(files / "hz.csv", "hazards", [h.hazard(1, insp=1), h.hazard(2, insp=2, found_date="2024-03-05")]),
    )
    hz = next(f for f in result.files if f.table == "hazards")
    assert (hz.loaded, hz.set_aside) == (1, 1)
    [row] = h.set_aside(result, file="hz.csv")
    assert (row["row"], row["value"]) == (3, "JC0002")


def test_region_parent_in_the_same_file(db, load, files):
    rows = [h.region("331200", "新市", "市", "330000"), h.region("331201", "新区", "县", "331200"),
            h.region("331202", "孤区", "县", None, ), {"code": None, "name": "无代码", "level": "县", "parent_code": "330100"}]
    result = load(h.write(files / "r.csv", "regions", rows))
    f = h.only_file(result)
    assert (f.loaded, f.set_aside) == (2, 2)
    assert {(r["row"], r["column"]) for r in h.set_aside(result)} == {(4, "上级区划代码"), (5, "区划代码")}


def test_totals_row_in_csv(base, load, files):
    rows = [h.penalty(1), h.penalty(2, fine_company="5000")]
    total = {"case_id": "合计", "fine_company": "15000"}
    result = load(h.write(files / "p.csv", "penalties", [*rows, total]))
    f = h.only_file(result)
    assert (f.read, f.loaded, f.set_aside) == (3, 2, 1)
    [row] = h.set_aside(result)
    assert row["row"] == 4 and "合计" in row["reason"]


def test_report_file(base, load, files, tmp_path):
    result = load(h.write(files / "i.csv", "inspections", [h.inspection(9, inspection_date="2024-13-01"),
                                                           h.inspection(10, agency_code="=1+1")]))
    assert result.report is not None and result.report.parent == tmp_path / "reports"
    raw = result.report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["文件", "行号", "列", "值", "原因", "原始行"]
    assert rows[1][:4] == ["i.csv", "2", "检查日期", "2024-13-01"]
    assert rows[2][:4] == ["i.csv", "3", "执法机构区划代码", "'=1+1"]  # never a formula in Excel
    assert json.loads(rows[1][5])["检查编号"] == "JC0009"


def test_no_report_when_nothing_is_set_aside(base, load, files):
    result = load(h.write(files / "i.csv", "inspections", [h.inspection(9)]))
    assert result.report is None and result.set_aside_rows == []


def test_region_parent_check_survives_a_row_without_code(db, load, files):
    """A blank code in the same file must not switch off the parent check of the other rows
    (x NOT IN (… NULL …) is never true in SQL)."""
    rows = [{"code": None, "name": "无代码", "level": "县", "parent_code": h.CITY},
            h.region("331203", "悬空区", "县", "339900")]
    result = load(h.write(files / "r.csv", "regions", rows))
    f = h.only_file(result)
    assert (f.loaded, f.set_aside) == (0, 2)
    assert {(r["row"], r["column"]) for r in h.set_aside(result)} == {(2, "区划代码"), (3, "上级区划代码")}
