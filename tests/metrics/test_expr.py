"""The scheme filter language: parsed, type-checked, compiled to SQL with two-valued logic."""
import datetime as dt

import duckdb
import pytest

from metrics import expr
from metrics.expr import ExprError, check, compile_sql, parse

COLS = {"d": expr.DATE, "n": expr.NUMBER, "b": expr.BOOL, "t": expr.TEXT}
VARS = {"period_start": dt.date(2024, 1, 1), "period_end": dt.date(2024, 3, 31), "year_start": dt.date(2024, 1, 1),
        "period_year": 2024, "period_months": 3, "months_elapsed": 3}
ROWS = [  # d, n, b, t
    (dt.date(2024, 2, 1), 5.0, True, "危险化学品"),
    (None, 0.0, False, "煤矿"),
    (dt.date(2024, 4, 2), None, None, None),
    (dt.date(2023, 12, 31), 12.5, True, "it's"),
]


def rows_matching(text: str) -> list[int]:
    node = parse(text)
    check(node, COLS, expr.BOOL)
    sql = compile_sql(node, COLS, lambda c: c, VARS)
    con = duckdb.connect()
    con.execute("CREATE TABLE r (i INT, d DATE, n DOUBLE, b BOOLEAN, t VARCHAR)")
    con.executemany("INSERT INTO r VALUES (?, ?, ?, ?, ?)", [(i, *r) for i, r in enumerate(ROWS)])
    return [r[0] for r in con.execute(f"SELECT i FROM r WHERE {sql} ORDER BY i").fetchall()]


@pytest.mark.parametrize("text, expected", [
    ("d <= period_end", [0, 3]),
    ("NOT d <= period_end", [1, 2]),              # a blank date: the comparison is false, NOT is true
    ("d IS NULL OR d > period_end", [1, 2]),
    ("d BETWEEN_ IS NULL", None),
    ("b", [0, 3]),
    ("NOT b", [1, 2]),
    ("n > 0 AND b", [0, 3]),
    ("n * 2 >= 10 OR t = 'it''s'", [0, 3]),
    ("t IN ('煤矿', '危险化学品')", [0, 1]),
    ("t NOT IN ('煤矿')", [0, 3]),
    ("d >= year_start AND d - 30 < DATE '2024-01-05'", [0]),
    ("d - period_start > 60", [2]),
    ("n / 0 IS NULL", [0, 1, 2, 3]),                # division by zero is blank
    ("-n < -10", [3]),
    ("period_months * 4 = 12 AND period_year = 2024", [0, 1, 2, 3]),
])
def test_semantics_against_duckdb(text, expected):
    if expected is None:
        with pytest.raises(ExprError):
            rows_matching(text)
    else:
        assert rows_matching(text) == expected


@pytest.mark.parametrize("text, message", [
    ("", "empty expression"),
    ("n >", "expected a value"),
    ("(b", "expected ')'"),
    ("b b", "unexpected 'b'"),
    ("n AND b", "AND joins conditions"),
    ("d + d", "cannot add a date and a date"),
    ("t * 2", "works on numbers"),
    ("b < TRUE", "compare only with = or !="),
    ("n IN ('a')", "IN list value 'a' is a text"),
    ("DATE '2024-13-01' = d", "not a date"),
    ("x = 1", "unknown column 'x'"),
    ("n = 1 -- comment", "unknown column 'comment'"),  # 1 - (-comment): refused all the same
    ("n = 1 /* c */", "expected a value"),
    ('t = "x"', "unexpected character '\"'"),
])
def test_errors(text, message):
    with pytest.raises(ExprError, match=None) as e:
        check(parse(text), COLS, expr.BOOL)
    assert message in str(e.value)


def test_nothing_from_the_text_reaches_sql_but_names_and_literals():
    sql = compile_sql(parse("t = 'x'' OR 1=1 --'"), COLS, lambda c: f'"{c}"', VARS)
    assert sql == "coalesce(\"t\" = 'x'' OR 1=1 --', FALSE)"
    assert expr.names(parse("a AND b OR NOT c")) == {"a", "b", "c"}
