"""The small expression language of scheme files: filters (`where`) and summed amounts (`sum`).

Scheme text is never pasted into SQL. It is parsed here into a tree, type-checked against the
columns a table offers, and compiled back to SQL from the tree, so only known column names,
re-rendered literals and the period's own bounds reach the database.

Grammar (keywords case-insensitive)::

    expr    := or
    or      := and ("OR" and)*
    and     := not ("AND" not)*
    not     := "NOT" not | compare
    compare := sum [ ("=" | "!=" | "<>" | "<" | "<=" | ">" | ">=") sum
                   | "IS" ["NOT"] "NULL" | ["NOT"] "IN" "(" literal ("," literal)* ")" ]
    sum     := term (("+" | "-") term)*
    term    := unary (("*" | "/") unary)*
    unary   := "-" unary | atom
    atom    := number | 'text' | DATE 'YYYY-MM-DD' | TRUE | FALSE | NULL | name | "(" expr ")"

Bounds: at most MAX_DEPTH levels of brackets, NOT and minus signs, and at most MAX_OPERATORS binary
operators (AND, OR, comparisons, arithmetic) in one expression; beyond them the expression is
refused with a message instead of exhausting Python's recursion limit in the parser, the type
check or the SQL compiler (each recursive over the tree). A filter a person writes stays far below.

Names are the table's columns or the period's variables (PERIOD_VARIABLES). Logic is two-valued:
a comparison with a blank value is false (so ``NOT rectified_date <= period_end`` holds for an
open hazard). Dividing by zero gives blank. ``date ± number`` shifts by days.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

BOOL, NUMBER, DATE, TEXT, NULL = "bool", "number", "date", "text", "null"

PERIOD_VARIABLES = {
    "period_start": DATE,    # the period's first day
    "period_end": DATE,      # the period's last day: "by the period's end" means <= period_end
    "year_start": DATE,      # 1 January of the period's year
    "period_year": NUMBER,   # e.g. 2024
    "period_months": NUMBER,  # months the period spans: 12, 3 or 1 (pro-rating annual plans)
    "months_elapsed": NUMBER,  # months of the year elapsed at the period's end
}

_KEYWORDS = {"and", "or", "not", "is", "null", "true", "false", "in", "date"}
_TOKEN = re.compile(r"""
    (?P<ws>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<text>'(?:[^']|'')*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|<>|!=|==|=|<|>|\+|-|\*|/|\(|\)|,)
""", re.VERBOSE)
MAX_DEPTH = 32          # nested brackets + NOT + unary minus
MAX_OPERATORS = 256     # binary operators in one expression (IN lists do not count)
_COMPARE = {"=": "=", "==": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class ExprError(ValueError):
    """A parse or type error; ``column`` is the 1-based character position in the expression."""

    def __init__(self, message: str, column: int | None = None):
        super().__init__(message if column is None else f"{message} (at character {column})")
        self.column = column


# --- the tree ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Node:
    pos: int


@dataclass(frozen=True)
class Lit(Node):
    value: object
    type: str


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class Unary(Node):
    op: str  # 'not' | '-'
    arg: Node


@dataclass(frozen=True)
class Binary(Node):
    op: str  # and or + - * / and comparisons
    left: Node
    right: Node


@dataclass(frozen=True)
class IsNull(Node):
    arg: Node
    negated: bool


@dataclass(frozen=True)
class InList(Node):
    arg: Node
    values: tuple[Lit, ...]
    negated: bool


# --- parsing ----------------------------------------------------------------------------------
def _tokens(text: str) -> list[tuple[str, str, int]]:
    out, i = [], 0
    while i < len(text):
        m = _TOKEN.match(text, i)
        if not m:
            raise ExprError(f"unexpected character {text[i]!r}", i + 1)
        kind = m.lastgroup
        if kind != "ws":
            value = m.group()
            if kind == "name" and value.lower() in _KEYWORDS:
                kind, value = "kw", value.lower()
            out.append((kind, value, i + 1))
        i = m.end()
    out.append(("end", "", len(text) + 1))
    return out


class _Parser:
    def __init__(self, text: str):
        self.toks = _tokens(text)
        self.i = 0
        self.depth = 0
        self.operators = 0

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"嵌套过深：括号、NOT 与负号合计超过 {MAX_DEPTH} 层，请把条件拆成几个较简单的部分", pos)

    def binary(self, pos: int, op: str, left: Node, right: Node) -> Node:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise ExprError(f"条件过长：超过 {MAX_OPERATORS} 个运算（AND、OR、比较、加减乘除），"
                            "请简化（多个取值可写成 IN (...)）", pos)
        return Binary(pos, op, left, right)

    def peek(self, kind: str, value: str | None = None) -> bool:
        k, v, _ = self.toks[self.i]
        return k == kind and (value is None or v == value)

    def take(self, kind: str, value: str | None = None):
        tok = self.toks[self.i]
        if not self.peek(kind, value):
            want = value or kind
            got = tok[1] or "the end"
            raise ExprError(f"expected {want!r}, found {got!r}", tok[2])
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.or_()
        if not self.peek("end"):
            k, v, p = self.toks[self.i]
            raise ExprError(f"unexpected {v!r}", p)
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek("kw", "or"):
            pos = self.take("kw")[2]
            node = self.binary(pos, "or", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.not_()
        while self.peek("kw", "and"):
            pos = self.take("kw")[2]
            node = self.binary(pos, "and", node, self.not_())
        return node

    def not_(self) -> Node:
        if self.peek("kw", "not"):
            pos = self.take("kw")[2]
            self.enter(pos)
            node = Unary(pos, "not", self.not_())
            self.depth -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        left = self.sum_()
        k, v, pos = self.toks[self.i]
        if k == "op" and v in _COMPARE:
            self.i += 1
            return self.binary(pos, _COMPARE[v], left, self.sum_())
        if self.peek("kw", "is"):
            self.i += 1
            negated = bool(self.peek("kw", "not")) and bool(self.take("kw", "not"))
            self.take("kw", "null")
            return IsNull(pos, left, negated)
        negated = False
        if self.peek("kw", "not") and self.toks[self.i + 1][:2] == ("kw", "in"):
            self.i += 1
            negated = True
        if self.peek("kw", "in"):
            self.i += 1
            self.take("op", "(")
            values = [self.literal()]
            while self.peek("op", ","):
                self.i += 1
                values.append(self.literal())
            self.take("op", ")")
            return InList(pos, left, tuple(values), negated)
        return left

    def sum_(self) -> Node:
        node = self.term()
        while self.peek("op", "+") or self.peek("op", "-"):
            _, op, pos = self.take("op")
            node = self.binary(pos, op, node, self.term())
        return node

    def term(self) -> Node:
        node = self.unary()
        while self.peek("op", "*") or self.peek("op", "/"):
            _, op, pos = self.take("op")
            node = self.binary(pos, op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek("op", "-"):
            pos = self.take("op")[2]
            self.enter(pos)
            node = Unary(pos, "-", self.unary())
            self.depth -= 1
            return node
        return self.atom()

    def literal(self) -> Lit:
        node = self.unary()
        if isinstance(node, Unary) and isinstance(node.arg, Lit) and node.arg.type == NUMBER:
            return Lit(node.pos, -node.arg.value, NUMBER)
        if not isinstance(node, Lit):
            raise ExprError("IN (...) takes literal values only", node.pos)
        return node

    def atom(self) -> Node:
        kind, value, pos = self.toks[self.i]
        if kind == "number":
            self.i += 1
            num = float(value)
            return Lit(pos, int(num) if num.is_integer() and not re.search(r"[.eE]", value) else num, NUMBER)
        if kind == "text":
            self.i += 1
            return Lit(pos, value[1:-1].replace("''", "'"), TEXT)
        if kind == "kw" and value in ("true", "false"):
            self.i += 1
            return Lit(pos, value == "true", BOOL)
        if kind == "kw" and value == "null":
            self.i += 1
            return Lit(pos, None, NULL)
        if kind == "kw" and value == "date":
            self.i += 1
            _, raw, p = self.take("text")
            try:
                return Lit(pos, dt.date.fromisoformat(raw[1:-1]), DATE)
            except ValueError:
                raise ExprError(f"not a date: {raw} (use DATE 'YYYY-MM-DD')", p) from None
        if kind == "name":
            self.i += 1
            return Name(pos, value)
        if kind == "op" and value == "(":
            self.i += 1
            self.enter(pos)
            node = self.or_()
            self.take("op", ")")
            self.depth -= 1
            return node
        raise ExprError(f"expected a value, found {value or 'the end'!r}", pos)


def parse(text: str) -> Node:
    if not isinstance(text, str) or not text.strip():
        raise ExprError("empty expression")
    return _Parser(text).parse()


# --- type checking ----------------------------------------------------------------------------
def check(node: Node, columns: dict[str, str], want: str | None = None) -> str:
    """The expression's type given the table's ``columns`` ({name: type}); raises ExprError."""
    t = _type(node, columns)
    if want is not None and t != want:
        raise ExprError(f"expected a {_NOUN[want]}, this is a {_NOUN[t]}", node.pos)
    return t


_NOUN = {BOOL: "condition (true/false)", NUMBER: "number", DATE: "date", TEXT: "text", NULL: "blank"}


def _type(node: Node, cols: dict[str, str]) -> str:
    if isinstance(node, Lit):
        return node.type
    if isinstance(node, Name):
        if node.name in cols:
            return cols[node.name]
        if node.name in PERIOD_VARIABLES:
            return PERIOD_VARIABLES[node.name]
        known = ", ".join(sorted(cols))
        raise ExprError(f"unknown column {node.name!r} (this table has: {known}; period: "
                        f"{', '.join(PERIOD_VARIABLES)})", node.pos)
    if isinstance(node, Unary):
        t = _type(node.arg, cols)
        want = BOOL if node.op == "not" else NUMBER
        if t != want:
            raise ExprError(f"{node.op.upper()} needs a {_NOUN[want]}, got a {_NOUN[t]}", node.pos)
        return t
    if isinstance(node, IsNull):
        _type(node.arg, cols)
        return BOOL
    if isinstance(node, InList):
        t = _type(node.arg, cols)
        for v in node.values:
            if v.type != t:
                raise ExprError(f"IN list value {v.value!r} is a {_NOUN[v.type]}, not a {_NOUN[t]}", v.pos)
        return BOOL
    assert isinstance(node, Binary)
    lt, rt = _type(node.left, cols), _type(node.right, cols)
    op = node.op
    if op in ("and", "or"):
        if lt != BOOL or rt != BOOL:
            raise ExprError(f"{op.upper()} joins conditions, got a {_NOUN[lt]} and a {_NOUN[rt]}", node.pos)
        return BOOL
    if op in ("=", "<>", "<", "<=", ">", ">="):
        if NULL in (lt, rt):
            raise ExprError("compare with NULL using IS NULL / IS NOT NULL", node.pos)
        if lt != rt:
            raise ExprError(f"cannot compare a {_NOUN[lt]} with a {_NOUN[rt]}", node.pos)
        if lt == BOOL and op not in ("=", "<>"):
            raise ExprError("true/false values compare only with = or !=", node.pos)
        return BOOL
    if op in ("+", "-"):
        if lt == rt == NUMBER:
            return NUMBER
        if lt == DATE and rt == NUMBER:
            return DATE
        if op == "-" and lt == rt == DATE:
            return NUMBER
        if op == "+" and lt == NUMBER and rt == DATE:
            return DATE
        raise ExprError(f"cannot {'add' if op == '+' else 'subtract'} a {_NOUN[lt]} and a {_NOUN[rt]}", node.pos)
    if lt != NUMBER or rt != NUMBER:
        raise ExprError(f"{op} works on numbers, got a {_NOUN[lt]} and a {_NOUN[rt]}", node.pos)
    return NUMBER


def names(node: Node) -> set[str]:
    """The column and variable names an expression uses."""
    if isinstance(node, Name):
        return {node.name}
    out: set[str] = set()
    for child in (getattr(node, "arg", None), getattr(node, "left", None), getattr(node, "right", None)):
        if isinstance(child, Node):
            out |= names(child)
    return out


# --- compiling --------------------------------------------------------------------------------
def sql_literal(value) -> str:
    """A SQL literal for a value parsed from a scheme or computed here."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "NULL"
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return "'" + str(value).replace("'", "''") + "'"


def compile_sql(node: Node, columns: dict[str, str], column_sql, variables: dict[str, object]) -> str:
    """SQL for a checked tree. ``column_sql(name)`` renders a column reference; period variables
    are rendered as literals from ``variables`` (computed by us, never scheme text)."""

    def go(n: Node) -> str:
        if isinstance(n, Lit):
            return sql_literal(n.value)
        if isinstance(n, Name):
            if n.name in columns:
                ref = column_sql(n.name)
                return f"coalesce({ref}, FALSE)" if columns[n.name] == BOOL else ref
            return sql_literal(variables[n.name])
        if isinstance(n, Unary):
            return f"(NOT {go(n.arg)})" if n.op == "not" else f"(-{go(n.arg)})"
        if isinstance(n, IsNull):
            return f"({go(n.arg)} IS {'NOT ' if n.negated else ''}NULL)"
        if isinstance(n, InList):
            vals = ", ".join(sql_literal(v.value) for v in n.values)
            return f"coalesce({go(n.arg)} {'NOT ' if n.negated else ''}IN ({vals}), FALSE)"
        assert isinstance(n, Binary)
        left, right = go(n.left), go(n.right)
        if n.op in ("and", "or"):
            return f"({left} {n.op.upper()} {right})"
        if n.op in ("=", "<>", "<", "<=", ">", ">="):
            return f"coalesce({left} {n.op} {right}, FALSE)"
        if n.op == "/":
            return f"(CAST({left} AS DOUBLE) / nullif({right}, 0))"
        if n.op in ("+", "-") and _type(n.left, columns) == DATE and _type(n.right, columns) == NUMBER:
            return f"CAST({left} {n.op} CAST({right} AS INTEGER) AS DATE)"
        if n.op == "+" and _type(n.left, columns) == NUMBER and _type(n.right, columns) == DATE:
            return f"CAST({right} + CAST({left} AS INTEGER) AS DATE)"
        if n.op == "-" and _type(n.left, columns) == DATE:
            return f"CAST(({left}) - ({right}) AS BIGINT)"
        return f"({left} {n.op} {right})"

    return go(node)
