"""The contract's rules, compiled to one SQL pass over a staged file.

Staging only renames and casts (jaffle-shop's `renamed` CTE); every rule is a predicate that
yields a violation (row, column, value, reason). A row with any violation is set aside whole.
Casts use TRY_ functions so a bad cell becomes a violation, never an error. Values from the
contract (enum values, levels, bounds) go in as SQL literals escaped here; no user text is
ever pasted into SQL (file cells are only ever read as column values).
"""
from __future__ import annotations

import datetime as dt

from etl.contract import Column, Contract, Table, fold
from etl.read import TOTAL_MARKERS, TOTAL_PATTERN, WHITESPACE, Staged

DATE_FORMATS = ["%Y-%m-%d", "%Y/%m/%d", "%Y年%m月%d日", "%Y%m%d", "%Y.%m.%d",
                "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"]  # Excel saves date-time cells to CSV as 2024/3/5 0:00
TRUE_WORDS = ["是", "y", "yes", "1", "true", "t", "√", "✓", "✔", "对"]
FALSE_WORDS = ["否", "n", "no", "0", "false", "f", "×", "✗", "✘", "x", "不是"]
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]

_FULL = "０１２３４５６７８９－／．，：＋ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ　"
_HALF = "0123456789-/.,:+ABCDEFGHIJKLMNOPQRSTUVWXYZ "

TYPE_HINTS = {
    "date": "无法识别的日期（应为 2024-03-05、2024/3/5、2024年3月5日、20240305 或Excel日期）",
    "amount": "无法识别的金额（应为数字，可带千分位或“万”）",
    "bool": "无法识别的是/否值（应为 是/否、Y/N、1/0、true/false、√/×）",
    "int": "应为整数",
    "score": "应为数字",
}
# a number that parses but does not fit the warehouse's column (INTEGER, DECIMAL(18, 2))
OUT_OF_RANGE = {
    "int": "数值超出范围（整数应在 -2147483648 到 2147483647 之间）",
    "amount": "金额超出范围（应小于 10000000000000000 元）",
}
# what a spreadsheet shows for a formula that failed; exported to CSV as the same text
EXCEL_ERRORS = ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!",
                "#CALC!")


def lit(value) -> str:
    """A SQL literal for a value taken from the contract, or for display text such as a file's
    header (quotes doubled; a NUL, which no SQL string can hold, shown as U+FFFD)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("\x00", "\ufffd").replace("'", "''") + "'"


def _list(values) -> str:
    return "[" + ", ".join(lit(v) for v in values) + "]"


def isin(expr: str, values) -> str:
    """`expr IN (values…)` as a function call: DuckDB plans an IN list of five or more constants
    as a join over every row of the query, even inside a CASE branch that few rows reach."""
    return f"list_contains({_list(values)}, {expr})"


def fw(expr: str) -> str:
    """Fold full-width digits/letters/punctuation (common in hand-kept sheets)."""
    return f"trim(translate({expr}, {lit(_FULL)}, {lit(_HALF)}))"


def cast_expr(col: Column, raw: str, header: str | None = None, ref_type: str | None = None) -> str:
    """The typed value of a raw text cell, NULL when it does not cast (see _cast_full).

    Most cells of a large export are already in canonical form (an ASCII id, 2024-03-05, 是/否):
    for those a guard picks an equivalent cheap expression, and only the others pay for the
    folding and the list of date formats (at national scale that is 30× less work; bench/).
    """
    full = _cast_full(col, raw, header, ref_type)
    fast = _fast_cast(col, raw, header, ref_type)
    return full if fast is None else f"(CASE WHEN {fast[0]} THEN {fast[1]} ELSE {full} END)"


# printable ASCII without spaces: full-width folding and trimming leave such a cell as it is
PLAIN = "[!-~]+"
CONTROL_CHARS = "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]"  # (a regular expression: NUL and other control characters)


def control_chars(raw: str) -> str:
    """SQL: the cell holds a control character (a rule of text and id cells, see rules)."""
    return f"regexp_matches({raw}, '{CONTROL_CHARS}')"

ISO_DATE = "[12][0-9]{3}-[01][0-9]-[0-3][0-9]"
PLAIN_NUMBER = "[0-9]{1,15}([.][0-9]{1,6})?"


def _fast_cast(col: Column, raw: str, header: str | None = None, ref_type: str | None = None):
    """(guard, expression): for cells where the guard holds, the expression equals _cast_full's.

    Every guard admits only text that _cast_full's folding (translate, trim, upper/lower, the
    replace of separators) leaves unchanged, so the cheap form sees what the full form would.
    """
    t = col.type
    if t in ("text", "enum"):
        # no whitespace (of any kind trim may remove) at either end: trim changes nothing
        ws = lit(WHITESPACE)
        return f"NOT contains({ws}, left({raw}, 1)) AND NOT contains({ws}, right({raw}, 1))", raw
    if t == "credit_code" or (t == "id" and ref_type == "credit_code"):
        return f"regexp_full_match({raw}, {lit(PLAIN)})", f"upper({raw})"
    if t in ("id", "region", "region_code"):
        return f"regexp_full_match({raw}, {lit(PLAIN)})", raw
    if t == "date" and DATE_FORMATS[0] == "%Y-%m-%d":
        # the first format the full form tries; a date that does not exist (2024-02-30) fails both
        return f"regexp_full_match({raw}, {lit(ISO_DATE)})", f"TRY_CAST({raw} AS DATE)"
    if t == "bool":
        yes, no = TRUE_WORDS[0], FALSE_WORDS[0]
        assert yes.lower() == yes and no.lower() == no
        return f"{raw} IN ({lit(yes)}, {lit(no)})", f"({raw} = {lit(yes)})"
    if t == "score":
        return f"regexp_full_match({raw}, {lit(PLAIN_NUMBER)})", f"TRY_CAST({raw} AS DOUBLE)"
    return None  # amount, int: number_expr holds the guard


def _cast_full(col: Column, raw: str, header: str | None = None, ref_type: str | None = None) -> str:
    """The typed value of a raw text cell, NULL when it does not cast.

    `header` is the file's header of the column: an amount column headed in 万元 (单位罚款（万元）,
    matched by its name without the unit) holds 万元, so its plain numbers are scaled to 元.
    `ref_type` is the type of the column an id refers to: an id that refers to the register's
    统一社会信用代码 is folded as the register folds it (upper case, full-width folded), so that
    9133…ab and ９１３３…ＡＢ find the enterprise.
    """
    t = col.type
    if t in ("text", "enum"):
        return f"trim({raw})"
    if t == "credit_code" or (t == "id" and ref_type == "credit_code"):
        return fw(f"upper({raw})")  # upper first: full-width ａ → Ａ, then folded to A
    if t in ("id", "region", "region_code"):
        return fw(raw)
    if t == "date":
        return f"CAST(try_strptime({fw(raw)}, {_list(DATE_FORMATS)}) AS DATE)"
    if t == "bool":
        v = f"lower({fw(raw)})"
        return f"(CASE WHEN {isin(v, TRUE_WORDS)} THEN TRUE WHEN {isin(v, FALSE_WORDS)} THEN FALSE END)"
    if t == "amount":
        # TRY_CAST to the warehouse type: NaN, inf and amounts beyond DECIMAL(18, 2) are set aside,
        # not a conversion error that fails the whole load
        return f"TRY_CAST(round({number_expr(col, raw, header)}, 2) AS DECIMAL(18, 2))"
    if t == "int":
        # the warehouse's INTEGER: a value beyond it is set aside, not an error at insert time
        d = number_expr(col, raw, header)
        return f"(CASE WHEN {d} = floor({d}) THEN TRY_CAST({d} AS INTEGER) END)"
    if t == "score":
        return f"TRY_CAST({fw(raw)} AS DOUBLE)"
    raise ValueError(f"unknown column type {t!r} in the contract")


def number_expr(col: Column, raw: str, header: str | None = None) -> str:
    """An int or amount cell as a DOUBLE before it is fitted to the warehouse type (NULL when it is
    not a number): tells "not a number" from "a number out of range". Plain digits take a cheap
    path (no separators, units or full-width characters to fold)."""
    full = _number_full(col, raw, header)
    unit = 10000 if col.type == "amount" and header is not None and "万" in fold(header) else 1
    return (f"(CASE WHEN regexp_full_match({raw}, {lit(PLAIN_NUMBER)}) THEN TRY_CAST({raw} AS DOUBLE) * {unit} "
            f"ELSE {full} END)")


def _number_full(col: Column, raw: str, header: str | None = None) -> str:
    if col.type == "amount":
        s = f"replace(replace(replace(replace(replace({fw(raw)}, ',', ''), '元', ''), '￥', ''), '¥', ''), ' ', '')"
        unit = 10000 if header is not None and "万" in fold(header) else 1
        return (f"(CASE WHEN {s} LIKE '%万' THEN TRY_CAST(rtrim({s}, '万') AS DOUBLE) * 10000 "
                f"ELSE TRY_CAST({s} AS DOUBLE) * {unit} END)")
    if col.type == "int":
        return f"TRY_CAST(replace({fw(raw)}, ',', '') AS DOUBLE)"  # 1,200 as Excel formats counts
    raise ValueError(col.type)


def _bound(col: Column, bound, today: dt.date) -> str:
    if col.type == "date":
        return f"DATE {lit((today if bound == 'today' else dt.date.fromisoformat(bound)).isoformat())}"
    return lit(bound)


def _credit_check(v: str) -> str:
    """GB 32100: 18 characters from the 31-letter set; the 18th is the check character."""
    chars = lit(CREDIT_CHARS)
    total = "(" + " + ".join(f"(instr({chars}, substr({v}, {i + 1}, 1)) - 1) * {w}"
                             for i, w in enumerate(CREDIT_WEIGHTS)) + ")"
    return (f"(length({v}) = 18 AND regexp_full_match({v}, '[0-9A-HJ-NPQRTUWXY]{{18}}') "
            f"AND substr({v}, 18, 1) = substr({chars}, CAST((31 - {total} % 31) % 31 AS BIGINT) + 1, 1))")


def rules(table: Table, contract: Contract, today: dt.date, label: dict[str, str],
          rows: str | None = None) -> tuple[list[str], list[str], list[str]]:
    """Every rule of the contract for `table`, over a relation `t` that has the typed columns,
    `r_<column>` (the cell as staged), `n_<column>` (numbers before fitting), `_dup_first` and
    `_is_total`: (checks, conditions, joins). checks[i] is a CASE giving the violation struct
    {col, val, why} when conditions[i] holds; joins are the LEFT JOINs the conditions need.
    `label` maps a column to the header the file used for it. `rows`, the relation `t` stands for,
    lets a lookup read only the ids it needs: a few hundred uploaded rows then look into 10M
    inspections without hashing all of them.
    """
    joins, checks, conditions = [], [], []
    aliases: dict[tuple[str, str, str], str] = {}

    def lookup(rt: str, key: str, via: str) -> str:
        """The alias of `rt` LEFT JOINed on its id = t.via (one join per table and column)."""
        if (rt, key, via) not in aliases:
            alias = aliases[(rt, key, via)] = f"j_{via}"
            source = rt if rows is None else f"(SELECT * FROM {rt} WHERE {key} IN (SELECT {via} FROM {rows}))"
            joins.append(f"LEFT JOIN {source} {alias} ON {alias}.{key} = t.{via}")
        return aliases[(rt, key, via)]

    def v(cond: str, col: str | None, reason: str, value: str | None = None):
        value = value if value is not None else (f"r_{col}" if col else "NULL")
        name = lit(label[col]) if col else "NULL"
        conditions.append(cond)
        checks.append(f"CASE WHEN {cond} THEN {{'col': {name}, 'val': {value}, 'why': {lit(reason)}}} END")

    for c in table.columns:
        r, x = f"r_{c.name}", f"t.{c.name}"
        if c.required:
            v(f"{r} IS NULL", c.name, "必填项为空")
        if c.type in OUT_OF_RANGE:
            n = f"t.n_{c.name}"
            fits = f"isfinite({n})" + (f" AND {n} = floor({n})" if c.type == "int" else "")
            v(f"{r} IS NOT NULL AND {x} IS NULL AND coalesce({fits}, FALSE)", c.name, OUT_OF_RANGE[c.type])
            v(f"{r} IS NOT NULL AND {x} IS NULL AND NOT coalesce({fits}, FALSE)", c.name, TYPE_HINTS[c.type])
        elif c.type in TYPE_HINTS:
            v(f"{r} IS NOT NULL AND {x} IS NULL", c.name, TYPE_HINTS[c.type])
        if c.type in ("text", "id"):  # typed columns already say the value is not a date, a number …
            v(f"starts_with({r}, '#') AND {isin(r, EXCEL_ERRORS)}", c.name,
              "单元格是Excel的错误值（公式出错），请检查公式后重新导出")
            # NUL and other control characters: a damaged file, or binary pasted into a cell
            v(control_chars(r), c.name,
              "单元格含有不可见的控制字符（文件可能已损坏），请检查后重新导出")
        if c.type == "enum":
            v(f"{r} IS NOT NULL AND NOT {isin(x, c.values)}", c.name,
              "不在允许值内（" + " / ".join(c.values) + "）")
        if c.type == "credit_code":
            v(f"{r} IS NOT NULL AND NOT {_credit_check(x)}", c.name, "不是有效的统一社会信用代码（18位，GB 32100 校验位）")
        if c.type == "region_code":
            v(f"{r} IS NOT NULL AND NOT regexp_full_match({x}, '[0-9]{{6}}')", c.name, "应为6位数字区划代码")
        if c.type == "region":
            levels = ", ".join(lit(s) for s in c.region_levels)
            v(f"{r} IS NOT NULL AND {x} NOT IN (SELECT code FROM regions WHERE level IN ({levels}))", c.name,
              "不是有效的" + "/".join(c.region_levels) + "级区划代码（GB/T 2260）")
        if c.min is not None:
            v(f"{x} < {_bound(c, c.min, today)}", c.name,
              f"不能早于{c.min}" if c.type == "date" else f"不能小于{c.min}")
        if c.max is not None:
            word = "今天" if c.max == "today" else str(c.max)
            v(f"{x} > {_bound(c, c.max, today)}", c.name,
              f"不能晚于{word}" if c.type == "date" else f"不能大于{c.max}")
        if c.ref:
            rt, rc = c.ref.split(".")
            if rt == table.name:  # a reference within the same table may point into this file
                # (not its NULLs: x NOT IN (… NULL …) is never true, which would pass every row)
                target = f"SELECT {rc} FROM {rt} UNION SELECT {rc} FROM typed WHERE {rc} IS NOT NULL"
                missing = f"{x} NOT IN ({target})"
            else:
                # a join, not NOT IN: the planner then hashes the smaller side (a few set-aside
                # rows, or 300 uploaded ones, against 25M hazards) where NOT IN always hashes the
                # referenced table. rc is that table's id, unique (etl/warehouse.py), so no row doubles.
                missing = f"{lookup(rt, rc, c.name)}.{rc} IS NULL"
            v(f"{x} IS NOT NULL AND {missing}", c.name,
              f"在{contract[rt].title}中不存在（{contract[rt].column(rc).header}）")
        if c.required_if:
            v(f"{r} IS NULL AND t.{c.required_if}", c.name, f"“{label[c.required_if]}”为是时必填")
        if c.required_unless_level:
            v(f"{r} IS NULL AND t.level IS DISTINCT FROM {lit(c.required_unless_level)}", c.name,
              f"层级不是{c.required_unless_level}时必填")
        if c.not_before:
            if " via " in c.not_before:
                target, via = c.not_before.split(" via ")
                rt, rc = target.split(".")
                alias = lookup(rt, contract[rt].key[0], via)
                v(f"{x} < {alias}.{rc}", c.name,
                  f"早于{contract[rt].title}的{contract[rt].column(rc).header}",
                  f"r_{c.name} || ' < ' || CAST({alias}.{rc} AS VARCHAR)")
            else:
                v(f"{x} < t.{c.not_before}", c.name, f"早于{label[c.not_before]}",
                  f"r_{c.name} || ' < ' || r_{c.not_before}")

    key_label = "、".join(label[k] for k in table.key)
    conditions.append("t._dup_first IS NOT NULL")
    checks.append(
        f"CASE WHEN t._dup_first IS NOT NULL THEN {{'col': {lit(label[table.key[0]])}, "
        f"'val': r_{table.key[0]}, 'why': {lit(f'文件内{key_label}重复（首次出现于第')} || t._dup_first || '行，以首次为准）'}} END"
    )
    return checks, conditions, joins


def compile_checks(staged: Staged, contract: Contract, today: dt.date) -> tuple[str, str]:
    """SQL creating temp tables `typed` (canonical typed columns) and `violations`."""
    table: Table = staged.table
    pos_of = {name: pos for pos, name in staged.mapping.items()}
    label = {c.name: (staged.headers[pos_of[c.name]] if c.name in pos_of else c.header) for c in table.columns}

    def raw(name: str) -> str:
        return f"c{pos_of[name]}" if name in pos_of else "CAST(NULL AS VARCHAR)"

    def ref_type(c: Column) -> str | None:
        if not c.ref:
            return None
        rt, rc = c.ref.split(".")
        return contract[rt].column(rc).type

    select = ["s._row"]
    for c in table.columns:
        header = staged.headers[pos_of[c.name]] if c.name in pos_of else None
        e = cast_expr(c, raw(c.name), header, ref_type(c))
        if c.default is not None:
            e = f"CASE WHEN {raw(c.name)} IS NULL THEN {lit(c.default)} ELSE {e} END"
        select.append(f"{e} AS {c.name}")
        select.append(f"{raw(c.name)} AS r_{c.name}")
        if c.type in OUT_OF_RANGE:
            select.append(f"{number_expr(c, raw(c.name), header)} AS n_{c.name}")
    # a totals row: its first non-empty cell (any column), whitespace removed, is 合计/总计/小计
    # alone or followed by a colon or bracket — not any cell that merely starts with those characters
    first = f"coalesce({', '.join(f'c{p}' for p in range(len(staged.headers)))})" if staged.headers else "NULL"
    # (a character every marker holds — 计 — is the cheap test first: translate() with a list is slow)
    common = sorted(set.intersection(*(set(m) for m in TOTAL_MARKERS)))
    guard = f"contains({first}, {lit(common[0])}) AND " if common else ""
    select.append(f"coalesce({guard}regexp_full_match(translate({first}, {lit(WHITESPACE)}, ''), "
                  f"{lit(TOTAL_PATTERN)}, 's'), FALSE) AS _is_total")

    checks, conditions, joins = rules(table, contract, today, label, rows="typed")
    keys_present = " AND ".join(f"{k} IS NOT NULL" for k in table.key)
    typed_sql = f"""
        CREATE OR REPLACE TEMP TABLE typed AS
        SELECT *, CASE WHEN {keys_present} AND row_number() OVER w > 1 THEN first_value(_row) OVER w END AS _dup_first
        FROM (SELECT {', '.join(select)} FROM {staged.name} s)
        WINDOW w AS (PARTITION BY {', '.join(table.key)}, _is_total ORDER BY _row)
    """
    # the list of violations is built for the rows that break a rule only (a cheap OR first)
    broken = " OR ".join(f"coalesce({c}, FALSE)" for c in conditions) or "FALSE"
    violations_sql = f"""
        CREATE OR REPLACE TEMP TABLE violations AS
        SELECT _row, v.col AS column_name, v.val AS value, v.why AS reason
        FROM (
            SELECT t._row, unnest(list_filter([{', '.join(checks)}], x -> x IS NOT NULL)) AS v
            FROM typed t {' '.join(joins)}
            WHERE NOT t._is_total AND ({broken})
        )
        UNION ALL
        SELECT _row, NULL, NULL, '合计/小计行，不是记录' FROM typed WHERE _is_total
    """
    return typed_sql, violations_sql
