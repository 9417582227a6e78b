"""Header matching: Chinese or canonical names, full-/half-width folding and spaces, any column
order, unknown extra columns kept aside (reported, not an error)."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from etl.contract import fold, load_contract
from tests.etl import helpers as h

INSPECTION_ROW = ("JC0001", h.eid(1), h.COUNTY, dt.date(2024, 3, 5), "双随机", True, False)


def _inspections(db):
    return h.query(db, "SELECT * EXCLUDE (load_id) FROM inspections ORDER BY inspection_id")


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_canonical_headers(base, load, files, suffix):
    path = h.write(files / f"penalties{suffix}", "penalties", [h.penalty(1, fine_company="1.5万")], headers="canonical")
    f = h.only_file(load(path))
    assert (f.table, f.loaded, f.extra_columns) == ("penalties", 1, [])
    assert h.one(base, "SELECT fine_company FROM penalties") == Decimal("15000.00")


def test_canonical_headers_any_case(base, load, files):
    cols = {c: c.upper() for c in h.inspection()}
    path = h.write(files / "inspections.csv", "inspections", [h.inspection(9)], headers=cols)
    assert h.only_file(load(path)).loaded == 1


def test_mixed_chinese_and_canonical_headers(base, load, files):
    path = h.write(files / "i.csv", "inspections", [h.inspection(9)],
                   headers={"inspection_id": "inspection_id", "inspection_date": "inspection_date"})
    f = h.only_file(load(path))
    assert (f.table, f.loaded) == ("inspections", 1)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_full_width_and_spaces_in_headers(base, load, files, suffix):
    headers = {
        "case_id": " 案件编号 ",                 # padded
        "enterprise_id": "统一社会 信用代码",     # a space inside
        "agency_code": "执法机构区划代码\u3000",  # ideographic space
        "filed_date": "立案日期",
        "fine_company": "单位罚款（元）",         # full-width brackets
        "fine_person": "个人罚款(元)",            # half-width brackets
        "review_score": "案卷评查得分",
    }
    row = {k: h.penalty(1)[k] for k in headers}
    f = h.only_file(load(h.write(files / f"p{suffix}", "penalties", [row], headers=headers)))
    assert (f.table, f.loaded, f.set_aside, f.extra_columns) == ("penalties", 1, 0, [])


def test_full_width_latin_canonical_header(base, load, files):
    """ＩＮＳＰＥＣＴＩＯＮ＿ＩＤ typed with a Chinese input method folds to inspection_id."""
    headers = {"inspection_id": "ｉｎｓｐｅｃｔｉｏｎ＿ｉｄ"}
    f = h.only_file(load(h.write(files / "i.csv", "inspections", [h.inspection(9)], headers=headers)))
    assert f.loaded == 1


def test_alias_and_unit_in_brackets(base, load, files):
    headers = {"fine_company": "单位罚款", "fine_person": "个人罚款（元）"}
    f = h.only_file(load(h.write(files / "p.csv", "penalties", [h.penalty(1, fine_person="300")], headers=headers)))
    assert (f.loaded, f.extra_columns) == (1, [])
    assert h.one(base, "SELECT fine_person FROM penalties") == Decimal("300.00")


def test_amount_header_in_wan_yuan_scales_the_amounts(base, load, files):
    """A column headed 单位罚款（万元） holds 万元: 1.2 there is 12,000 元, not 1.2 元."""
    headers = {"fine_company": "单位罚款（万元）", "fine_person": "个人罚款(万元)"}
    rows = [h.penalty(1, fine_company="1.2", fine_person="0.5"), h.penalty(2, fine_company="3万", fine_person="")]
    f = h.only_file(load(h.write(files / "p.csv", "penalties", rows, headers=headers)))
    assert (f.loaded, f.set_aside) == (2, 0)
    assert h.query(base, "SELECT fine_company, fine_person FROM penalties ORDER BY case_id") == [
        (Decimal("12000.00"), Decimal("5000.00")), (Decimal("30000.00"), Decimal("0.00"))]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_column_order_does_not_matter(base, load, files, suffix):
    row = h.inspection(1)
    columns = list(reversed(row))
    path = h.write(files / f"i{suffix}", "inspections", [row], columns=columns)
    assert h.grid("inspections", [row], columns)[0][0] == "专家参与"  # really reversed
    f = h.only_file(load(path))
    assert (f.replaced, f.unchanged, f.set_aside) == (1, 1, 0)  # same record as the base's JC0001
    assert _inspections(base)[0] == INSPECTION_ROW


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_unknown_extra_columns_are_reported_not_an_error(base, load, files, suffix):
    rows = [dict(h.inspection(7), 备注="复查合格", 检查人员="张三、李四")]
    f = h.only_file(load(h.write(files / f"i{suffix}", "inspections", rows)))
    assert (f.loaded, f.set_aside) == (1, 0)
    assert f.extra_columns == ["备注", "检查人员"]
    assert h.one(base, "SELECT extra_columns FROM load_history WHERE load_id = ?", [f.load_id]) == "备注|检查人员"
    assert "备注" not in [c[0] for c in h.query(base, "DESCRIBE inspections")]


def test_optional_columns_may_be_left_out(base, load, files):
    row = {k: v for k, v in h.inspection(8).items() if k not in ("via_mobile", "with_expert")}
    f = h.only_file(load(h.write(files / "i.csv", "inspections", [row])))
    assert f.loaded == 1
    assert h.query(base, "SELECT via_mobile, with_expert FROM inspections WHERE inspection_id = 'JC0008'") == [
        (False, False)]


def test_two_columns_for_one_field_is_refused(base, load, files):
    headers = {"inspection_id": "检查编号"}
    row = dict(h.inspection(1), inspection_id_again="JC0009")
    path = h.write(files / "i.csv", "inspections", [row], headers={**headers, "inspection_id_again": "inspection_id"})
    f = h.only_file(load(path))
    assert f.refused and "表头重复" in f.refused and "检查编号" in f.refused


def test_fold():
    assert fold(" 单位罚款（元） ") == "单位罚款(元)"
    assert fold("ＣＡＳＥ＿ＩＤ") == "case_id"
    assert fold("检查\u3000日期") == "检查日期"


def test_every_header_and_canonical_name_is_accepted():
    for table in load_contract().tables.values():
        for c in table.columns:
            assert table.match_headers([c.header, c.name]) == {0: c.name, 1: c.name}


def test_repeated_extra_headers_keep_every_cell_in_the_report(base, load, files):
    path = h.write(files / "i.csv", "inspections", [dict(h.inspection(9, inspection_type="抽查"), a="甲", b="乙", c="丙")],
                   headers={"a": "备注", "b": "备注", "c": ""})
    result = load(path)
    assert h.only_file(result).extra_columns == ["备注", "备注"]
    [row] = h.set_aside(result)
    raw = json.loads(row["raw"])
    assert (raw["备注"], raw["备注(2)"], raw["列10"]) == ("甲", "乙", "丙")


def test_starred_required_headers(base, load, files):
    """Official templates mark required columns with * (or full-width ＊)."""
    headers = {"inspection_id": "*检查编号", "enterprise_id": "＊统一社会信用代码", "inspection_date": "检查日期*",
               "agency_code": "* 执法机构区划代码", "inspection_type": "检查方式（必填）"}
    f = h.only_file(load(h.write(files / "i.csv", "inspections", [h.inspection(9)], headers=headers)))
    assert (f.loaded, f.extra_columns) == (1, [])
