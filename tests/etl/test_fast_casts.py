"""The cheap casts for canonical cells (etl.validate._fast_cast, number_expr's guard) give exactly
what the full casts give, for any text: the guard may only admit cells the full cast would read the
same way. Checked on hand-picked edge cases and on random text from the alphabets that matter."""
from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.contract import Column
from etl.validate import _cast_full, _number_full, cast_expr, number_expr

COLUMNS = {
    "text": Column("name", "单位名称", "text"),
    "enum": Column("industry", "行业领域", "enum", values=("煤矿", "其他")),
    "id": Column("inspection_id", "检查编号", "id"),
    "region": Column("agency_code", "执法机构区划代码", "region"),
    "region_code": Column("code", "区划代码", "region_code"),
    "credit_code": Column("enterprise_id", "统一社会信用代码", "credit_code"),
    "date": Column("inspection_date", "检查日期", "date"),
    "bool": Column("via_mobile", "移动执法", "bool"),
    "amount": Column("fine_company", "单位罚款(元)", "amount"),
    "int": Column("planned_inspections", "计划检查次数", "int"),
    "score": Column("review_score", "案卷评查得分", "score"),
}
EDGES = [
    "", " ", "　", "a", " a", "a ", "\ta", "a\u3000", "ＪＣ０１", "jc01", "JC0001", "JC 0001", "9133010",
    "91330102MA2H3X4Y5Z", "91330102ma2h3x4y5z", "９１３３", "2024-03-05", "2024-02-30", "2024-13-01",
    "2024-3-5", "2024/03/05", "2024年3月5日", "20240305", "0999-01-01", "1000-01-01", "2999-12-31",
    " 2024-03-05", "2024-03-05 ", "２０２４-03-05", "2024-03-05 00:00", "是", "否", "Y", "y", "N", "是 ",
    "√", "×", "不是", "true", "TRUE", "1", "0", "10", "1234.5", "1,234.5", "1.2万", "0.005", "00012",
    "123456789012345", "1234567890123456", "99999999999", "1e5", "NaN", "inf", "-1", "+1", ".5", "5.",
    "12.3456789", "85", "100.0", "#N/A", "合计",
]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect()
    yield c
    c.close()


def _same(con, kind: str, values: list[str], header: str | None = None) -> None:
    col = COLUMNS[kind]
    ref_type = "credit_code" if kind == "id" else None
    fast = cast_expr(col, "v", header, ref_type)
    full = _cast_full(col, "v", header, ref_type)
    con.execute("CREATE OR REPLACE TEMP TABLE cells AS SELECT unnest(?::VARCHAR[]) AS v", [values])
    diff = con.execute(f"SELECT v, {fast} AS fast, {full} AS full FROM cells "
                       f"WHERE ({fast}) IS DISTINCT FROM ({full})").fetchall()
    assert diff == [], f"{kind}: {diff[:5]}"
    if kind in ("amount", "int"):
        fast_n, full_n = number_expr(col, "v", header), _number_full(col, "v", header)
        diff = con.execute(f"SELECT v FROM cells WHERE ({fast_n}) IS DISTINCT FROM ({full_n})").fetchall()
        assert diff == [], f"{kind} number: {diff[:5]}"


@pytest.mark.parametrize("kind", list(COLUMNS))
def test_edge_cases(con, kind):
    _same(con, kind, EDGES)


def test_amount_in_wan_yuan(con):
    _same(con, "amount", EDGES, header="单位罚款(万元)")


ALPHABET = st.sampled_from(list("0123456789-/.,:+ 　０１２９－ＡＢａｂabcXYZ是否年月日万元#\t\u3000\u00a0"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(ALPHABET, min_size=1, max_size=12), min_size=1, max_size=40))
def test_random_text(values):
    con = duckdb.connect()
    try:
        for kind in COLUMNS:
            _same(con, kind, values)
    finally:
        con.close()
