"""Scheme files: the methodology as data (indicators, index tree, score rules, lists, bands).

A scheme is a TOML file under metrics/schemes/ (format: metrics/schemes/README.md). A new
province's scheme is a new file: ``extends = "default"`` takes everything from the default and the
file replaces what it restates, key by key within each section (a whole indicator under
[indicators]; a whole list such as the index nodes or the score items). Everything is checked when the file is loaded, and an error names the file and line:
weights that do not add up, an unknown indicator or column, a filter that does not parse.
"""
from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from metrics import expr
from metrics.locate import Locator
from metrics.sources import SOURCES
from metrics.warning import WarningRule  # noqa: F401 (re-exported: the scheme holds the rule)

SCHEME_DIR = Path(__file__).with_name("schemes")
DEFAULT_SCHEME = SCHEME_DIR / "default.toml"
WINDOWS = ("period", "year_to_date", "as_of", "all")
WEIGHT_TOLERANCE = 1e-6
_CODE = re.compile(r"[a-z][a-z0-9_]*")


class SchemeError(ValueError):
    """A scheme file was refused; the message names the file and line of each problem."""


# --- the scheme as loaded -----------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    """A count or sum over one table's records in a window, with a filter."""
    table: str
    agg: str                      # 'count' | 'distinct' | 'sum'
    column: str | None = None     # for 'distinct'
    amount: expr.Node | None = None  # for 'sum'
    where: expr.Node | None = None
    window: str = "period"        # period | year_to_date | as_of | all
    date: str | None = None       # the date column the window applies to
    text: dict = field(default_factory=dict, compare=False)  # as written, for people


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    unit: str
    direction: str                # '+' higher is better, '-' lower is better
    decimals: int                 # published precision of the value
    numerator: Part | None        # None only for a growth indicator
    denominator: Part | None      # None: a count or sum (value = numerator)
    description: str = ""
    growth_of: str | None = None  # year-on-year growth of this indicator: (now − then) / then, with
                                  # numerator = its value now, denominator = its value a year earlier

    @property
    def is_ratio(self) -> bool:
        return self.denominator is not None or self.growth_of is not None


@dataclass(frozen=True)
class IndexNode:
    code: str
    name: str
    parent: str | None            # None for a first-level sub-index
    weight: float
    normalise: str | None = None  # leaves: 'minmax' | 'target'
    target: float | None = None
    prorate: bool = False         # target × months elapsed / 12 (year-to-date indicators)
    winsorise: tuple[float, float] | None = None


@dataclass(frozen=True)
class IndexSpec:
    name: str
    total: float
    nodes: tuple[IndexNode, ...]

    @property
    def groups(self) -> list[IndexNode]:
        return [n for n in self.nodes if n.parent is None]

    @property
    def leaves(self) -> list[IndexNode]:
        return [n for n in self.nodes if n.parent is not None]


@dataclass(frozen=True)
class ScoreItem:
    indicator: str
    points: float
    target: float = 1.0
    prorate: bool = False         # target × months elapsed / 12, i.e. q/4 in quarter q
    na: str = "full"              # an NA item scores 'full' points or 'zero'
    na_label: str = "无应考核事项"


@dataclass(frozen=True)
class Adjustment:
    indicator: str
    points: float                 # per unit of the indicator's value
    max: float                    # cap on the total


@dataclass(frozen=True)
class ScoreSpec:
    name: str
    total: float
    max: float
    peers: str                    # 'province' | 'city' (counties within each city)
    items: tuple[ScoreItem, ...]
    bonus: tuple[Adjustment, ...]
    deductions: tuple[Adjustment, ...]


@dataclass(frozen=True)
class CommendationRule:
    top: int = 3


@dataclass(frozen=True)
class Bands:
    meets: float = 85.0
    attention: float = 70.0
    labels: tuple[str, str, str] = ("达标", "关注", "需改进")


@dataclass(frozen=True)
class Scheme:
    name: str
    path: Path
    indicators: dict[str, Indicator]
    index: IndexSpec | None
    score: ScoreSpec | None
    warning: WarningRule
    commendation: CommendationRule
    bands: Bands
    yoy: tuple[str, ...]
    description: str = ""
    provinces: tuple[str, ...] = ()     # the provinces whose default scheme this is (the file's own)
    targets: dict[str, float] = field(default_factory=dict)  # published targets, for bands against them

    def indicator(self, code: str) -> Indicator:
        try:
            return self.indicators[code]
        except KeyError:
            raise SchemeError(f"{self.path}: no indicator {code!r} (known: {', '.join(self.indicators)})") from None

    def require_index(self) -> IndexSpec:
        if self.index is None:
            raise SchemeError(f"{self.path}: this scheme has no [index] section")
        return self.index

    def require_score(self) -> ScoreSpec:
        if self.score is None:
            raise SchemeError(f"{self.path}: this scheme has no [score] section")
        return self.score


# --- loading ------------------------------------------------------------------------------------
@dataclass
class _Origin:
    file: Path
    locator: Locator


class _Checker:
    """Collects problems with the file and line where each was written."""

    def __init__(self, origins: dict[tuple, _Origin]):
        self.origins = origins
        self.problems: list[str] = []

    def where(self, path: tuple) -> str:
        origin = self.origins.get(tuple(path[:2])) or self.origins.get(tuple(path[:1])) or self.origins[()]
        line = origin.locator.line(path)
        return f"{origin.file}:{line}" if line else f"{origin.file}"

    def fail(self, path: tuple, message: str) -> None:
        self.problems.append(f"{self.where(path)}: {message}")

    def keys(self, table: dict, allowed: set[str], path: tuple) -> None:
        for k in table:
            if k not in allowed:
                self.fail(path + (k,), f"unknown key {k!r} in {_dotted(path)} (allowed: {', '.join(sorted(allowed))})")

    def get(self, table: dict, key: str, kind, path: tuple, default=None, required: bool = False):
        if key not in table:
            if required:
                self.fail(path, f"{_dotted(path)} needs {key!r}")
            return default
        value = table[key]
        ok = {
            "str": isinstance(value, str),
            "num": isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value),
            "int": isinstance(value, int) and not isinstance(value, bool),
            "bool": isinstance(value, bool),
            "table": isinstance(value, dict),
            "list": isinstance(value, list),
        }[kind]
        if not ok:
            noun = {"str": "text", "num": "a number", "int": "a whole number", "bool": "true or false",
                    "table": "a table { … }", "list": "a list [ … ]"}[kind]
            self.fail(path + (key,), f"{_dotted(path + (key,))} should be {noun}, not {value!r}")
            return default
        return value


def _dotted(path: tuple) -> str:
    return ".".join(f"[{p}]" if isinstance(p, int) else str(p) for p in path) or "the file"


def _resolve(name: str, base: Path) -> Path:
    """The scheme file `extends = name` means: a file name (no folder, no ``..``) beside `base` or in
    the schemes folder — never a path to some other file on the server."""
    if not name or name != Path(name).name or name in (".", "..") or "\\" in name or "\x00" in name:
        raise SchemeError(f"{base}: extends {name!r} 应是方案文件名（如 \"default\"），"
                          f"只能是同一文件夹或 {SCHEME_DIR} 中的方案，不能是路径")
    for folder in (base.parent.resolve(), SCHEME_DIR.resolve()):
        for p in (folder / name, folder / (name + ".toml")):
            if p.is_file() and p.resolve().parent == folder:  # a symlink out of the folder does not count
                return p
    raise SchemeError(f"{base}: extends {name!r}, which is neither beside it nor in {SCHEME_DIR}")


def _read_layers(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict, dict[tuple, _Origin]]:
    """The merged raw tables of a file and everything it extends, and where each part came from."""
    path = path.resolve()
    if path in seen:
        raise SchemeError(f"{path}: extends itself (via {' → '.join(map(str, seen))})")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SchemeError(f"{path}: no such scheme file") from None
    except (OSError, UnicodeDecodeError) as e:
        raise SchemeError(f"{path}: cannot read: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise SchemeError(f"{path}: not valid TOML: {e}") from None
    origin = _Origin(path, Locator(text))
    merged: dict = {}
    origins: dict[tuple, _Origin] = {}
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            line = origin.locator.line(("extends",))
            raise SchemeError(f"{path}:{line}: extends should name a scheme file, not {parent!r}")
        merged, origins = _read_layers(_resolve(parent, path), seen + (path,))
        merged.pop("provinces", None)  # the provinces a file serves are its own, never inherited
    origins[()] = origin
    for key, value in data.items():
        if key == "extends":
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}  # one indicator / one key at a time
        else:
            merged[key] = value
            origins[(key,)] = origin
        if isinstance(value, dict):
            for sub in value:
                origins[(key, sub)] = origin
    return merged, origins


_LOADED: dict[tuple, Scheme] = {}


def _files_signature(directory: Path) -> tuple:
    """(path, mtime, size) of every scheme file in ``directory``: changes when one is edited, added
    or removed (the caches of load_scheme and named_provinces)."""
    return tuple((str(f), st.st_mtime_ns, st.st_size) for f in sorted(directory.glob("*.toml")) for st in [f.stat()])


def load_scheme(path: str | Path | None = None, province: str | None = None) -> Scheme:
    """Load and check a scheme file (default: the province's own scheme file, if one names it in
    ``provinces``, else metrics/schemes/default.toml). Raises SchemeError. A file already loaded is
    not read again until a scheme file beside it or in metrics/schemes changes (a call that is not
    handed a scheme loads it: 50 ms each, a quarter of the 12 metric calls of bench_metrics)."""
    path = Path(path) if path else default_scheme_path(province)
    dirs = sorted({Path(path).resolve().parent, SCHEME_DIR.resolve()})
    sig = (str(Path(path).resolve()), *(x for d in dirs for x in _files_signature(d)))
    if sig not in _LOADED:
        scheme = _load(path)
        if len(_LOADED) >= 16:
            _LOADED.clear()
        _LOADED[sig] = scheme
    return _LOADED[sig]


def _load(path: Path) -> Scheme:
    raw, origins = _read_layers(path)
    ck = _Checker(origins)
    ck.keys(raw, {"name", "description", "indicators", "index", "score", "warning", "commendation", "yoy",
                  "bands", "provinces", "targets"}, ())
    indicators = _indicators(ck, raw)
    known = set(indicators) | {c for c in (raw.get("indicators") or {}) if isinstance(c, str)}
    scheme = Scheme(
        name=ck.get(raw, "name", "str", (), default=path.stem),
        description=ck.get(raw, "description", "str", (), default=""),
        path=path.resolve(),
        indicators=indicators,
        index=_index(ck, raw, indicators, known) if "index" in raw else None,
        score=_score(ck, raw, known) if "score" in raw else None,
        warning=_warning(ck, raw),
        commendation=_commendation(ck, raw),
        bands=_bands(ck, raw),
        yoy=_yoy(ck, raw, known),
        provinces=_provinces(ck, raw),
        targets=_targets(ck, raw, known),
    )
    if ck.problems:
        raise SchemeError("\n".join(ck.problems))
    return scheme


# --- sections -----------------------------------------------------------------------------------
def _indicators(ck: _Checker, raw: dict) -> dict[str, Indicator]:
    section = ck.get(raw, "indicators", "table", (), default={})
    out = {}
    for code, d in section.items():
        path = ("indicators", code)
        if not _CODE.fullmatch(code):
            ck.fail(path, f"indicator code {code!r} should be lower-case letters, digits and _ (e.g. rectification)")
            continue
        if not isinstance(d, dict):
            ck.fail(path, f"indicators.{code} should be a table of name, numerator, denominator …")
            continue
        ck.keys(d, {"name", "unit", "direction", "decimals", "description", "numerator", "denominator", "growth"},
                path)
        name = ck.get(d, "name", "str", path, default=code, required=True)
        unit = ck.get(d, "unit", "str", path, default="")
        direction = ck.get(d, "direction", "str", path, default="+")
        if direction not in ("+", "-"):
            ck.fail(path + ("direction",), f"direction should be '+' or '-', not {direction!r}")
        if "growth" in d:  # year-on-year growth of another indicator: no parts of its own
            base = ck.get(d, "growth", "str", path)
            if "numerator" in d or "denominator" in d:
                ck.fail(path + ("growth",), f"indicators.{code}: growth = … takes the other indicator's numbers; "
                                           "give growth or numerator/denominator, not both")
            elif base is not None:
                decimals = ck.get(d, "decimals", "int", path, default=4)
                out[code] = Indicator(code, name, unit or "%", direction, decimals, None, None,
                                      ck.get(d, "description", "str", path, default=""), growth_of=base)
            continue
        num = _part(ck, d, "numerator", path, required=True)
        den = _part(ck, d, "denominator", path, required=False)
        decimals = ck.get(d, "decimals", "int", path, default=4 if den is not None and unit == "%" else 2)
        if not 0 <= decimals <= 9:
            ck.fail(path + ("decimals",), f"decimals should be between 0 and 9, not {decimals}")
            decimals = 2
        if num is not None and (den is not None or "denominator" not in d):
            out[code] = Indicator(code, name, unit, direction, decimals, num, den,
                                  ck.get(d, "description", "str", path, default=""))
    for code, ind in out.items():
        if ind.growth_of is None:
            continue
        base = out.get(ind.growth_of)
        if base is None:
            ck.fail(("indicators", code, "growth"), f"indicators.{code}: growth of unknown indicator {ind.growth_of!r}")
        elif base.growth_of is not None:
            ck.fail(("indicators", code, "growth"), f"indicators.{code}: growth of {ind.growth_of}, itself a growth "
                                                    "indicator (growth of growth is not supported)")
    return out


def _part(ck: _Checker, ind: dict, key: str, path: tuple, required: bool) -> Part | None:
    if key not in ind:
        if required:
            ck.fail(path, f"{_dotted(path)} needs a {key} {{ table = …, where = … }}")
        return None
    d = ck.get(ind, key, "table", path)
    if d is None:
        return None
    path = path + (key,)
    ck.keys(d, {"table", "where", "sum", "distinct", "window", "date"}, path)
    table = ck.get(d, "table", "str", path, required=True)
    if table is None:
        return None
    if table not in SOURCES:
        ck.fail(path + ("table",), f"unknown table {table!r} (tables: {', '.join(SOURCES)})")
        return None
    src = SOURCES[table]
    ok = True

    def expression(k: str, want: str) -> expr.Node | None:
        nonlocal ok
        text = ck.get(d, k, "str", path)
        if text is None:
            return None
        try:
            node = expr.parse(text)
            expr.check(node, src.columns, want)
            return node
        except expr.ExprError as e:
            shown = text if len(text) <= 120 else text[:100] + f"…（共 {len(text)} 个字符）"
            ck.fail(path + (k,), f"{_dotted(path + (k,))} = {shown!r}: {e}")
            ok = False
            return None

    where = expression("where", expr.BOOL)
    amount = expression("sum", expr.NUMBER)
    column = ck.get(d, "distinct", "str", path)
    if "sum" in d and "distinct" in d:
        ck.fail(path + ("distinct",), "a part is a count, a distinct count or a sum: give sum or distinct, not both")
        ok = False
    if column is not None and column not in src.columns:
        ck.fail(path + ("distinct",), f"unknown column {column!r} in {table} (columns: {', '.join(src.columns)})")
        ok = False
    window = ck.get(d, "window", "str", path, default="period" if src.date else "all")
    date = ck.get(d, "date", "str", path, default=src.date)
    if window not in WINDOWS:
        ck.fail(path + ("window",), f"window should be one of {', '.join(WINDOWS)}, not {window!r}")
        ok = False
    elif window != "all" and date is None:
        ck.fail(path + ("window",), f"{table} records have no date: use window = \"all\" and a filter")
        ok = False
    if date is not None and date not in src.date_columns:
        ck.fail(path + ("date",), f"date should be a date column of {table} ({', '.join(src.date_columns)}), "
                                  f"not {date!r}")
        ok = False
    if not ok:
        return None
    agg = "sum" if amount is not None else "distinct" if column else "count"
    return Part(table, agg, column, amount, where, window, date, text=dict(d))


def _index(ck: _Checker, raw: dict, indicators: dict[str, Indicator], known: set[str]) -> IndexSpec | None:
    path = ("index",)
    d = ck.get(raw, "index", "table", ())
    if d is None:
        return None
    ck.keys(d, {"name", "total", "nodes"}, path)
    total = ck.get(d, "total", "num", path, default=100)
    rows = ck.get(d, "nodes", "list", path, default=[], required=True)
    nodes: list[IndexNode] = []
    for i, n in enumerate(rows):
        p = path + ("nodes", i)
        if not isinstance(n, dict):
            ck.fail(p, "each index node is a table { code = …, parent = …, weight = … }")
            continue
        leaf_keys = {"code", "name", "parent", "weight", "normalise", "target", "prorate", "winsorise"}
        ck.keys(n, leaf_keys if "parent" in n else {"code", "name", "weight"}, p)
        code = ck.get(n, "code", "str", p, required=True)
        parent = ck.get(n, "parent", "str", p)
        weight = ck.get(n, "weight", "num", p, required=True)
        if code is None or weight is None:
            continue
        if weight <= 0:
            ck.fail(p + ("weight",), f"weight of {code} should be positive, not {weight}")
        if any(x.code == code for x in nodes):
            ck.fail(p + ("code",), f"index node {code!r} appears twice")
        name = ck.get(n, "name", "str", p, default=indicators[code].name if code in indicators else code)
        if parent is None:
            nodes.append(IndexNode(code, name, None, weight))
            continue
        if code not in known:
            ck.fail(p + ("code",), f"unknown indicator {code!r} (define it under [indicators.{code}])")
        norm = ck.get(n, "normalise", "str", p, required=True)
        target = ck.get(n, "target", "num", p)
        prorate = ck.get(n, "prorate", "bool", p, default=False)
        wins = ck.get(n, "winsorise", "list", p)
        if norm not in ("minmax", "target", None):
            ck.fail(p + ("normalise",), f"normalise should be 'minmax' or 'target', not {norm!r}")
        if norm == "target":
            if target is None or target <= 0:
                ck.fail(p + ("target",), f"{code}: normalise = 'target' needs a positive target")
            if code in indicators and indicators[code].direction != "+":
                ck.fail(p + ("normalise",), f"{code}: a target applies to indicators where higher is better")
            if wins is not None:
                ck.fail(p + ("winsorise",), f"{code}: winsorise goes with normalise = 'minmax'")
        elif norm == "minmax" and (target is not None or prorate):
            ck.fail(p + ("target",), f"{code}: target and prorate go with normalise = 'target'")
        if wins is not None:
            if (len(wins) != 2 or not all(isinstance(q, (int, float)) and not isinstance(q, bool) for q in wins)
                    or not 0 <= wins[0] < wins[1] <= 1):
                ck.fail(p + ("winsorise",), f"winsorise should be [low, high] quantiles with 0 <= low < high <= 1, "
                                            f"not {wins!r}")
                wins = None
            else:
                wins = (float(wins[0]), float(wins[1]))
        nodes.append(IndexNode(code, name, parent, weight, norm, target, prorate, wins))
    groups = {n.code: n for n in nodes if n.parent is None}
    for i, n in enumerate(nodes):
        if n.parent is not None and n.parent not in groups:
            ck.fail(path + ("nodes", _row(rows, n.code), "parent"),
                    f"{n.code}: parent {n.parent!r} is not a first-level node (those without a parent)")
    for g in groups.values():
        children = [n for n in nodes if n.parent == g.code]
        s = sum(n.weight for n in children)
        if not children:
            ck.fail(path + ("nodes", _row(rows, g.code)), f"first-level node {g.code} has no indicators under it")
        elif abs(s - g.weight) > WEIGHT_TOLERANCE:
            parts = " + ".join(f"{n.code} {n.weight:g}" for n in children)
            ck.fail(path + ("nodes", _row(rows, g.code), "weight"),
                    f"weights do not add up: {g.code} has weight {g.weight:g} but its indicators add up to {s:g} ({parts})")
    s = sum(g.weight for g in groups.values())
    if groups and abs(s - total) > WEIGHT_TOLERANCE:
        ck.fail(path + ("nodes",), f"weights do not add up: the first-level weights add up to {s:g}, not {total:g} "
                                   f"({' + '.join(f'{g.code} {g.weight:g}' for g in groups.values())})")
    if not groups:
        ck.fail(path + ("nodes",), "the index needs first-level nodes (no parent) with indicators under them")
    return IndexSpec(ck.get(d, "name", "str", path, default="指数"), total, tuple(nodes))


def _row(rows: list, code: str) -> int:
    return next((i for i, r in enumerate(rows) if isinstance(r, dict) and r.get("code") == code), 0)


def _score(ck: _Checker, raw: dict, known: set[str]) -> ScoreSpec | None:
    path = ("score",)
    d = ck.get(raw, "score", "table", ())
    if d is None:
        return None
    ck.keys(d, {"name", "total", "max", "peers", "items", "bonus", "deductions"}, path)
    total = ck.get(d, "total", "num", path, default=100)
    peers = ck.get(d, "peers", "str", path, default="province")
    if peers not in ("province", "city"):
        ck.fail(path + ("peers",), f"peers should be 'province' or 'city' (counties within each city), not {peers!r}")
    items = []
    for i, it in enumerate(ck.get(d, "items", "list", path, default=[], required=True)):
        p = path + ("items", i)
        if not isinstance(it, dict):
            ck.fail(p, "each score item is a table { indicator = …, points = … }")
            continue
        ck.keys(it, {"indicator", "points", "target", "prorate", "na", "na_label"}, p)
        code = ck.get(it, "indicator", "str", p, required=True)
        points = ck.get(it, "points", "num", p, required=True)
        target = ck.get(it, "target", "num", p, default=1.0)
        na = ck.get(it, "na", "str", p, default="full")
        if code is not None and code not in known:
            ck.fail(p + ("indicator",), f"unknown indicator {code!r}")
        if points is not None and points <= 0:
            ck.fail(p + ("points",), f"points should be positive, not {points}")
        if target is not None and target <= 0:
            ck.fail(p + ("target",), f"target should be positive, not {target}")
        if na not in ("full", "zero"):
            ck.fail(p + ("na",), f"na should be 'full' (nothing was due) or 'zero', not {na!r}")
        if code is not None and points is not None:
            items.append(ScoreItem(code, points, target or 1.0, ck.get(it, "prorate", "bool", p, default=False), na,
                                   ck.get(it, "na_label", "str", p, default="无应考核事项" if na == "full" else "无数据")))
    s = sum(it.points for it in items)
    if items and abs(s - total) > WEIGHT_TOLERANCE:
        ck.fail(path + ("items",), f"points do not add up: the items give {s:g}, total is {total:g}")
    adjust = {}
    for kind in ("bonus", "deductions"):
        out = []
        for i, it in enumerate(ck.get(d, kind, "list", path, default=[])):
            p = path + (kind, i)
            if not isinstance(it, dict):
                ck.fail(p, f"each {kind} entry is a table {{ indicator = …, points = …, max = … }}")
                continue
            ck.keys(it, {"indicator", "points", "max"}, p)
            code = ck.get(it, "indicator", "str", p, required=True)
            points = ck.get(it, "points", "num", p, required=True)
            cap = ck.get(it, "max", "num", p, required=True)
            if code is not None and code not in known:
                ck.fail(p + ("indicator",), f"unknown indicator {code!r}")
            for k, v in (("points", points), ("max", cap)):
                if v is not None and v < 0:
                    ck.fail(p + (k,), f"{k} should not be negative ({kind} are stated as positive amounts)")
            if None not in (code, points, cap):
                out.append(Adjustment(code, points, cap))
        adjust[kind] = tuple(out)
    used = [it.indicator for it in items] + [a.indicator for k in ("bonus", "deductions") for a in adjust[k]]
    for code in sorted({c for c in used if used.count(c) > 1}):
        ck.fail(path, f"{code} is used twice among items, bonus and deductions")
    max_score = ck.get(d, "max", "num", path, default=total + sum(a.max for a in adjust["bonus"]))
    return ScoreSpec(ck.get(d, "name", "str", path, default="考评"), total, max_score, peers or "province",
                     tuple(items), adjust["bonus"], adjust["deductions"])


def _warning(ck: _Checker, raw: dict) -> WarningRule:
    path = ("warning",)
    d = ck.get(raw, "warning", "table", (), default={})
    ck.keys(d, {"threshold", "last", "min_peers"}, path)
    rule = WarningRule(ck.get(d, "threshold", "num", path, default=80.0), ck.get(d, "last", "int", path, default=3),
                       ck.get(d, "min_peers", "int", path, default=4))
    if rule.last < 1:
        ck.fail(path + ("last",), "last should be at least 1")
    if rule.min_peers < 1:
        ck.fail(path + ("min_peers",), "min_peers should be at least 1")
    return rule


def _commendation(ck: _Checker, raw: dict) -> CommendationRule:
    path = ("commendation",)
    d = ck.get(raw, "commendation", "table", (), default={})
    ck.keys(d, {"top"}, path)
    rule = CommendationRule(ck.get(d, "top", "int", path, default=3))
    if rule.top < 1:
        ck.fail(path + ("top",), "top should be at least 1")
    return rule


def _bands(ck: _Checker, raw: dict) -> Bands:
    path = ("bands",)
    d = ck.get(raw, "bands", "table", (), default={})
    ck.keys(d, {"meets", "attention", "labels"}, path)
    labels = ck.get(d, "labels", "list", path, default=list(Bands.labels))
    if len(labels) != 3 or not all(isinstance(x, str) for x in labels):
        ck.fail(path + ("labels",), "labels should be three names: meets, attention, improvement")
        labels = list(Bands.labels)
    b = Bands(ck.get(d, "meets", "num", path, default=85.0), ck.get(d, "attention", "num", path, default=70.0),
              tuple(labels))
    if not b.attention < b.meets:
        ck.fail(path + ("attention",), f"attention ({b.attention:g}) should be below meets ({b.meets:g})")
    return b


def _yoy(ck: _Checker, raw: dict, known: set[str]) -> tuple[str, ...]:
    path = ("yoy",)
    d = ck.get(raw, "yoy", "table", (), default={})
    ck.keys(d, {"indicators"}, path)
    codes = ck.get(d, "indicators", "list", path, default=[])
    for i, c in enumerate(codes):
        if c not in known:
            ck.fail(path + ("indicators", i), f"unknown indicator {c!r}")
    return tuple(c for c in codes if isinstance(c, str))


def _provinces(ck: _Checker, raw: dict) -> tuple[str, ...]:
    codes = ck.get(raw, "provinces", "list", (), default=[])
    for i, c in enumerate(codes):
        if not (isinstance(c, str) and re.fullmatch(r"\d{2}0000", c)):
            ck.fail(("provinces", i), f"provinces should list province codes such as \"330000\", not {c!r}")
    return tuple(c for c in codes if isinstance(c, str))


def _targets(ck: _Checker, raw: dict, known: set[str]) -> dict[str, float]:
    """[targets]: indicator = the published target its value is held to (bands against targets)."""
    d = ck.get(raw, "targets", "table", (), default={})
    out = {}
    for code in d:
        t = ck.get(d, code, "num", ("targets",))
        if code not in known:
            ck.fail(("targets", code), f"unknown indicator {code!r}")
        elif t is not None and t <= 0:
            ck.fail(("targets", code), f"target of {code} should be positive, not {t}")
        elif t is not None:
            out[code] = float(t)
    return out


# --- which scheme serves a province ---------------------------------------------------------------
def province_schemes(province: str | None, directory: Path = SCHEME_DIR) -> list[Path]:
    """The scheme files in `directory` that name `province` in their own ``provinces`` list."""
    if not province:
        return []
    return [p for p, own in named_provinces(Path(directory)).items() if str(province) in own]


_NAMED: dict[tuple, dict[Path, list[str]]] = {}


def named_provinces(directory: Path = SCHEME_DIR) -> dict[Path, list[str]]:
    """{file: its ``provinces`` list} for every scheme file that parses, read again only when a file
    changed (every page asks for its province's default scheme on every run)."""
    files = sorted(directory.glob("*.toml"))
    sig = _files_signature(directory)
    if sig not in _NAMED:
        found = {}
        for p in files:
            try:
                own = tomllib.loads(p.read_text(encoding="utf-8-sig")).get("provinces", [])
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue  # a broken file is refused when it is loaded, not here
            found[p] = [str(c) for c in own] if isinstance(own, list) else []
        _NAMED.clear()
        _NAMED[sig] = found
    return _NAMED[sig]


def default_scheme_path(province: str | None = None) -> Path:
    """The scheme a province uses by default: the shipped file that names it, else default.toml."""
    found = province_schemes(province)
    return found[0] if found else DEFAULT_SCHEME
