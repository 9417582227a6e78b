"""python -m metrics index | score | warnings | indicators  (see ../shared/spec/cli.md).

CSV (UTF-8, header row) on stdout, or Excel with ``--format xlsx --out FILE``. Published figures
(index, sub-indices, score, item points, bonus, deduction) are printed as published (one decimal,
half away from zero); everything else is exact: money to 0.01 元 (万元 to 6 places), ratios as the
float itself (shortest round-tripping text). ``score`` and ``warnings`` add each item's published
points after cli.md's columns, so a row adds up: score = Σ <item>_points + bonus − deduction. Exit status 0 on
success, 1 when the input was refused (no warehouse, a bad scheme file, no or several provinces),
2 on wrong usage.

Sub-commands live in ``COMMANDS`` (name → Command). Another module adds one by defining
``add_arguments(parser)`` and ``run(args) -> int`` and being listed in ``PLUGINS``: ``notices``
(official/issue.py: documents are not metrics') plugs in that way.
"""
from __future__ import annotations

import argparse
import csv
import importlib
import importlib.util
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from etl import warehouse
from etl.safe import safe_cell
from metrics.periods import Period
from metrics.provinces import ProvinceError
from metrics.query import MartsMissing
from metrics.scheme import Scheme, SchemeError, load_scheme


class Refused(Exception):
    """The input was refused: exit 1 with the message."""


class UsageError(Exception):
    """Wrong usage discovered after parsing: exit 2."""


# --- shared options and helpers (for plug-in commands too) --------------------------------------
def period_arg(text: str) -> Period:
    try:
        return Period.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def quarter_arg(text: str) -> Period:
    p = period_arg(text)
    if p.kind != "quarter":
        raise argparse.ArgumentTypeError(f"give a quarter like 2024Q3, not {text!r}")
    return p


def add_common(p: argparse.ArgumentParser, level: bool = True, scheme: bool = True, output: bool = True) -> None:
    p.add_argument("--db", dest="db_sub", help=argparse.SUPPRESS)
    p.add_argument("--province", help="province code (default: the province whose agencies have records)")
    if level:
        p.add_argument("--level", choices=["city", "county"], default="city", help="peers: cities (default) or counties")
    if scheme:
        p.add_argument("--scheme", help="scheme file (default: the scheme file naming the province, else "
                                         "metrics/schemes/default.toml)")
    if output:
        p.add_argument("--format", choices=["csv", "xlsx"], default="csv")
        p.add_argument("--out", help="write to FILE instead of stdout (required for xlsx)")


def open_warehouse(args) -> duckdb.DuckDBPyConnection:
    try:
        return warehouse.connect_read(args.db)
    except warehouse.WarehouseMissing as e:
        raise Refused(str(e)) from None
    except duckdb.Error as e:
        raise Refused(f"cannot open the warehouse {warehouse.db_path(args.db)}: {e}") from None


def scheme_from(args, con: duckdb.DuckDBPyConnection | None = None) -> Scheme:
    """--scheme, else the scheme file that names the province (--province, or the warehouse's
    province when `con` is given), else the default scheme."""
    if getattr(args, "scheme", None):
        return load_scheme(args.scheme)
    province = getattr(args, "province", None)
    if province is None and con is not None:
        from metrics.provinces import resolve_province

        try:
            province = resolve_province(con, None)
        except ProvinceError:
            province = None  # the command itself says why
    return load_scheme(province=province)


# --- output ---------------------------------------------------------------------------------------
def _plain(x) -> str:
    """A value exactly, as plainly as it can be written: 2255, 0.1005, 0.6666666666666666 (the
    shortest text that reads back as the same float: nothing a script needs is cut); NA as empty."""
    if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if x.is_integer() and abs(x) < 1e16:
            return str(int(x))
        return repr(x)
    return str(x)


MONEY_PLACES = 6  # 万元 to 6 places = 0.01 元: exact to the yuan, float noise of sums (0.30000000000000004) dropped


def _amounts(values, money) -> np.ndarray:
    """Amounts exact: money (where ``money``) to 0.01 元, everything else untouched."""
    v = pd.Series(values).to_numpy(dtype=float, na_value=np.nan)
    return np.where(np.asarray(money, dtype=bool), np.round(v, MONEY_PLACES), v)


def _fixed(decimals: int) -> Callable:
    def fmt(x) -> str:
        if x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x)):
            return ""
        return f"{float(x):.{decimals}f}"
    return fmt


def emit(df: pd.DataFrame, args, formats: dict[str, Callable] | None = None) -> None:
    """Write the table: CSV text (numbers formatted for people) or Excel (typed cells)."""
    formats = formats or {}
    if args.format == "xlsx":
        if not args.out:
            raise UsageError("--format xlsx needs --out FILE")
        out = df.astype(object).where(df.notna(), None).map(safe_cell)
        out.to_excel(args.out, index=False, engine="openpyxl")
        print(args.out)
        return
    # text cells (names, codes) are guarded against spreadsheet formulas; numbers pass untouched
    text = pd.DataFrame({c: df[c].map(safe_cell).map(formats.get(c, _plain)) for c in df.columns})
    fh = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout
    try:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(df.columns)
        w.writerows(text.itertuples(index=False, name=None))
    finally:
        if args.out:
            fh.close()



# --- commands -------------------------------------------------------------------------------------
def cmd_index(args) -> int:
    from metrics.index import compute_index

    with open_warehouse(args) as con:
        scheme = scheme_from(args, con)
        df = compute_index(con, args.period, args.level, args.province, scheme)
    groups = [n.code for n in scheme.require_index().groups]
    one = _fixed(1)
    emit(df[["code", "name", "index", "rank", *groups, "na_count"]], args, {c: one for c in ["index", *groups]})
    return 0


def score_columns(scheme: Scheme) -> list[str]:
    """cli.md's score columns, then each item's published points (<indicator>_points, scheme
    order): score = Σ item points + bonus − deduction, as a reader can check on the row."""
    from metrics.score import SCORE_COLUMNS

    return [*SCORE_COLUMNS, *(f"{it.indicator}_points" for it in scheme.require_score().items)]


def _score_table(args, warned_only: bool) -> int:
    from metrics.score import compute_score

    with open_warehouse(args) as con:
        scheme = scheme_from(args, con)
        df = compute_score(con, args.quarter, args.level, args.province, scheme)
    if warned_only:
        df = df[df["warned"].fillna(False).astype(bool)]
    cols = score_columns(scheme)
    one = _fixed(1)
    emit(df[cols], args, {c: one for c in cols if c in ("score", "bonus", "deduction") or c.endswith("_points")})
    return 0


def cmd_score(args) -> int:
    return _score_table(args, warned_only=False)


def cmd_warnings(args) -> int:
    return _score_table(args, warned_only=True)


def cmd_indicators(args) -> int:
    """Indicator values exact (machine output: cli.md): money to 0.01 元, ratios and the rest as
    the float itself; numerators and denominators exact (6 places drop float noise); for a count or
    sum the numerator is the value."""
    from metrics.indicators import compute_indicators

    with open_warehouse(args) as con:
        scheme = scheme_from(args, con)
        df = compute_indicators(con, args.period, args.level, args.province, scheme)
    df = df[["code", "name", "indicator", "value", "numerator", "denominator"]].copy()
    ind = {c: scheme.indicators[c] for c in df["indicator"].unique() if c in scheme.indicators}
    money = df["indicator"].map({c: i.unit == "万元" for c, i in ind.items()}).fillna(False).to_numpy(dtype=bool)
    ratio = df["indicator"].map({c: i.is_ratio for c, i in ind.items()}).fillna(True).to_numpy(dtype=bool)
    df["value"] = _amounts(df["value"], money)
    for c in ("numerator", "denominator"):
        df[c] = np.round(df[c].to_numpy(dtype=float, na_value=np.nan), MONEY_PLACES)
    df.loc[~ratio, "numerator"] = df.loc[~ratio, "value"]
    emit(df, args)
    return 0


@dataclass(frozen=True)
class Command:
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]


def _index_args(p):
    p.add_argument("--period", required=True, type=period_arg, help="2024, 2024Q3 or 2024-03")
    add_common(p)


def _quarter_args(p):
    p.add_argument("--quarter", required=True, type=quarter_arg, help="e.g. 2024Q3")
    add_common(p)


COMMANDS: dict[str, Command] = {
    "index": Command("执法效能指数: code,name,index,rank,A…F,na_count", _index_args, cmd_index),
    "score": Command("季度量化考评: code,name,score,rank,bonus,deduction,warned, then <item>_points",
                     _quarter_args, cmd_score),
    "warnings": Command("提醒敦促函名单: the score rows of the warned units", _quarter_args, cmd_warnings),
    "indicators": Command("基础指标: code,name,indicator,value,numerator,denominator", _index_args, cmd_indicators),
}
# Modules that add a sub-command when present: each defines HELP, add_arguments(parser), run(args).
PLUGINS = {"notices": "official.issue", "bulletin": "official.bulletin"}


def _load_plugins() -> None:
    for name, module in PLUGINS.items():
        if name not in COMMANDS and importlib.util.find_spec(module) is not None:
            m = importlib.import_module(module)
            COMMANDS[name] = Command(getattr(m, "HELP", name), m.add_arguments, m.run)


def main(argv: list[str] | None = None) -> int:
    _load_plugins()
    p = argparse.ArgumentParser(prog="python -m metrics", description="Indicators, index, score and warnings.")
    p.add_argument("--db", help="warehouse file (default: $ENFORCEMENT_DB or data/warehouse.duckdb)")
    sub = p.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        sp = sub.add_parser(name, help=command.help)
        command.add_arguments(sp)
        sp.set_defaults(func=command.run)
    args = p.parse_args(argv)
    args.db = getattr(args, "db_sub", None) or args.db
    from etl.failures import run_command

    try:
        return run_command(args.func, args)  # a full disk, a folder for a file: a message, exit 1
    except UsageError as e:
        p.error(str(e))
    except (Refused, SchemeError, ProvinceError, MartsMissing) as e:
        print(str(e), file=sys.stderr)
        return 1
    except duckdb.Error as e:
        print(f"the warehouse could not be read: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
