"""Cached data access for the pages: the only place the app touches the warehouse.

Pages never write SQL or compute metrics; they call these functions, which call metrics/*.

Caching and invalidation
------------------------
Every cache here is ui.cache's ``@memo``, not ``st.cache_data`` / ``st.cache_resource``: Streamlit's
clear-cache message, which any websocket may send before signing in, cannot reach it.

* ``_connection(path, version)`` is a shared memo (``copy=False``): one read-only DuckDB connection per
  warehouse *version* (``etl.warehouse.version`` = inode, mtime, size of the file). A load swaps a
  new file in with ``os.replace``, so the version changes, the next rerun opens a new connection
  (``etl.warehouse.connect_read`` opens the new file even while DuckDB still holds the old one)
  and the old connection drops out of the cache (``max_entries=2``).
* Each query runs on its own ``con.cursor()``: a DuckDB connection is not thread-safe and
  Streamlit serves sessions from several threads.
* Every memoised function takes the warehouse key ``(path, version)`` as its first
  argument, so results computed from an older file are never served after a load, and a rerun
  that changes nothing (another widget, a page switch back) is answered from the cache without
  touching a raw table.
* The scheme is cached per (file, mtime) and passed to metrics as ``_scheme`` (not hashed); its
  key is hashed instead.

Access (ui.auth, ui.gate)
-------------------------
Every public function here serves only what the signed-in user may see, whichever page, widget,
session-state value or URL parameter asked: the cached functions (``_index``, ``_score``, …)
compute for every unit, and the public ones filter their result by ``scope()`` on the way out.
A city user gets full rows only for its city and the counties inside it; other units keep their
rank position (code, name, rank, published index / score, warned) and nothing else; records,
drill-down lists, KPI tiles and explanations of another unit raise ``auth.OutOfScope``. Loads,
the load history and set-aside rows need the ``import`` permission, the audit trail ``audit``.
Nobody signed in (with a users file): every read raises ``auth.Forbidden``. In open mode (no
users file) nothing is filtered.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from etl import warehouse
from metrics import catalog, drill, kpis
from metrics.periods import Period
from ui import auth
from ui.cache import in_run, memo

Key = tuple[str, tuple | None]
SCHEME_DIR = Path(__file__).resolve().parents[1] / "metrics" / "schemes"


# --- who is asking ---------------------------------------------------------------------------------
def access():
    """The session's ui.gate.Access (open mode, or the signed-in user)."""
    from ui import gate

    return gate.current()


def _signed_in():
    acc = access()
    if not acc.signed_in:
        raise auth.Forbidden("请先登录")
    return acc


def scope() -> auth.Scope:
    """The units whose details the session's user may see (auth.FULL in open mode)."""
    acc = _signed_in()
    if acc.user is None or not acc.user.scoped:
        return auth.FULL
    k = key()
    home_province = str(acc.user.region)[:2] + "0000"
    units = _regions(k, home_province) if k[1] is not None else pd.DataFrame(columns=["code", "city_code"])
    return auth.scope_for(acc.user, zip(units["code"], units["city_code"]))


def require(permission: str) -> None:
    """Raise auth.Forbidden unless the session's user may `permission` (import, notices, audit)."""
    if not _signed_in().can(permission):
        raise auth.Forbidden(f"无权执行此操作（需要 {permission} 权限）")


def check(code: str) -> None:
    """Raise auth.OutOfScope unless the user may see unit `code`'s details."""
    scope().check(code)


# --- warehouse and connection -------------------------------------------------------------------
PINNED = "_warehouse_key"


def key() -> Key:
    """(path, version) of the warehouse this script run reads: the one `pin_key` fixed when the run
    began (app.py), so that a load swapping a file in mid-run never gives one page two versions;
    outside an app run, the warehouse as it is now ($ENFORCEMENT_DB or data/warehouse.duckdb)."""
    if _in_run():
        pinned = st.session_state.get(PINNED)
        if pinned is not None:
            return pinned
    return _current_key()


def pin_key() -> Key:
    """Fix the warehouse version for the rest of this script run (called first thing by app.py)."""
    _upgrade(*_current_key())
    k = _current_key()
    if _in_run():
        st.session_state[PINNED] = k
    return k


_UPGRADED: set[tuple[str, tuple | None]] = set()


def _upgrade(path: str, version: tuple | None) -> None:
    """A warehouse made before the marts (etl.marts) gets them once, through an ETL write (the
    swap changes its version); where that is impossible (a read-only directory) the metrics say
    how to rebuild them. Checked once per version, on the connection the figures then read (a
    second connection of its own cost the first page another open of the file: ~0.05 s at
    national scale)."""
    if version is None or (path, version) in _UPGRADED:
        return
    from etl import marts

    try:
        cur = _connection(path, version).cursor()
        try:
            missing = not marts.present(cur)
        finally:
            cur.close()
        if missing:
            with warehouse.write(path):
                pass  # the write rebuilds absent marts before it commits
    except Exception:  # noqa: BLE001 — reading the figures then names the problem (metrics.query.MartsMissing)
        pass
    _UPGRADED.add((path, version))


def _current_key() -> Key:
    path = warehouse.db_path()
    return str(path), warehouse.version(path)


def _in_run() -> bool:
    return in_run()


@memo(copy=False, max_entries=2, show_spinner=False)
def _connection(path: str, version: tuple | None) -> duckdb.DuckDBPyConnection:
    # connect_read opens the file as it is now (not a replaced one DuckDB still holds open), and
    # refuses when that is no longer `version`: an evicted key never gets a newer file
    return warehouse.connect_read(path, expect=version)


@contextlib.contextmanager
def _cursor(k: Key) -> Iterator[duckdb.DuckDBPyConnection]:
    try:
        con = _connection(*k)
    except warehouse.WarehouseChanged:
        st.rerun()  # this rerun began on a file a load has since replaced: start over on the new one
        raise       # (st.rerun returns only outside a script run)
    cur = con.cursor()
    try:
        yield cur
    finally:
        cur.close()


def clear() -> None:
    """Forget every cached result (after a demo build in this process, for instance)."""
    from ui import cache

    cache.clear_all()


# --- scheme -------------------------------------------------------------------------------------
def scheme_files(province: str | None = None) -> list[Path]:
    """Scheme files with an index or a score (indicators.toml alone is a library of indicators)
    that serve ``province``: the default, the files naming it in ``provinces`` and those naming no
    province; with no province, every file. The province's own scheme comes first."""
    from metrics.scheme import default_scheme_path, province_schemes

    own = set(province_schemes(province)) if province else set()
    out = []
    for p in sorted(SCHEME_DIR.glob("*.toml")):
        text = p.read_text(encoding="utf-8-sig", errors="replace")
        if not ("[index]" in text or "[score]" in text or "extends" in text and p.stem != "indicators"):
            continue
        if province and p not in own and p.name != "default.toml" and _names_provinces(p):
            continue  # another province's scheme
        out.append(p)
    first = default_scheme_path(province)
    if first not in out:  # the province's default is always offered, wherever it lives
        out.append(first)
    default = SCHEME_DIR / "default.toml"
    return sorted(out, key=lambda p: (p != first, p != default, p.name))


def _names_provinces(path: Path) -> bool:
    from metrics.scheme import named_provinces

    return bool(named_provinces(path.parent).get(path))


def scheme_key(path: str | os.PathLike | None = None, province: str | None = None) -> tuple[str, int]:
    """(file, mtime) of the scheme chosen, else the province's own scheme, else the default."""
    from metrics.scheme import default_scheme_path

    p = Path(path) if path else default_scheme_path(province)
    try:
        return str(p), p.stat().st_mtime_ns
    except FileNotFoundError:
        return str(p), 0


@memo(copy=False, max_entries=8, show_spinner=False)
def _scheme(path: str, mtime: int):
    from metrics.scheme import load_scheme

    return load_scheme(path)


def scheme(skey: tuple[str, int] | None = None):
    """The loaded scheme (metrics.scheme.Scheme); raises SchemeError for a broken file."""
    return _scheme(*(skey or scheme_key()))


def scheme_text(skey: tuple[str, int]) -> str:
    return Path(skey[0]).read_text(encoding="utf-8-sig")


# --- what the warehouse holds -------------------------------------------------------------------
def status(k: Key) -> dict:
    """exists, counts per record table, meta, has_data, provinces [(code, name)], periods."""
    _signed_in()
    return _status(k)


@memo(max_entries=4, show_spinner=False)
def _status(k: Key) -> dict:
    path, version = k
    if version is None:
        return dict(exists=False, has_data=False, counts={}, meta={}, provinces=[], quarters=[], years=[])
    with _cursor(k) as cur:
        counts = catalog.record_counts(cur)
        from metrics.provinces import provinces_with_records

        found = catalog.all_periods(cur)
        return dict(
            exists=True,
            counts=counts,
            has_data=counts.get("inspections", 0) + counts.get("penalties", 0) > 0,
            meta=catalog.meta(cur),
            provinces=provinces_with_records(cur),
            quarters=found["quarter"],
            years=found["year"],
            latest_quarter=catalog.latest_complete_quarter(cur, quarters=found["quarter"]),
        )


def regions(k: Key, province: str, level: str | None = None) -> pd.DataFrame:
    """Codes and names of the province's regions (public: names are what rank positions show)."""
    _signed_in()
    return _regions(k, province, level)


@memo(max_entries=16, show_spinner=False)
def _regions(k: Key, province: str, level: str | None = None) -> pd.DataFrame:
    with _cursor(k) as cur:
        return catalog.regions(cur, province, level)


def load_history(k: Key) -> pd.DataFrame:
    require("import")
    return _load_history(k)


@memo(max_entries=8, show_spinner=False)
def _load_history(k: Key) -> pd.DataFrame:
    if k[1] is None:
        return pd.DataFrame()
    with _cursor(k) as cur:
        return catalog.load_history(cur)


def set_aside(k: Key, load_id: int) -> pd.DataFrame:
    require("import")
    return _set_aside(k, load_id)


@memo(max_entries=16, show_spinner=False)
def _set_aside(k: Key, load_id: int) -> pd.DataFrame:
    with _cursor(k) as cur:
        return catalog.set_aside(cur, load_id=load_id)


def audit_trail(limit: int = 1000) -> pd.DataFrame:
    """Who loaded which file, who issued which notice, sign-ins — newest first (ops.audit).
    Not cached: sign-ins and notices reach the operational store without changing the warehouse."""
    require("audit")
    from ops import audit

    k = key()
    if k[1] is None:
        return audit.audit_trail(None, db=k[0], limit=limit)
    with _cursor(k) as cur:
        return audit.audit_trail(cur, db=k[0], limit=limit)


# --- headline figures and drill-down: only for units inside the user's scope -------------------------
def kpi_tiles(k: Key, period: str, code: str, against: str = "previous",
              skey: tuple[str, int] | None = None) -> pd.DataFrame:
    """The KPI tiles under the scheme ``skey`` (the one the page shows; default: the default scheme):
    the tiles' 隐患整改率 and 罚款金额 are that scheme's indicators', as in the ranking beside them."""
    check(code)
    return _kpi_tiles(k, period, code, against, skey)


def kpi_series(k: Key, periods: tuple[str, ...], code: str, skey: tuple[str, int] | None = None) -> pd.DataFrame:
    check(code)
    return _kpi_series(k, periods, code, skey)


def children(k: Key, period: str, code: str, skey: tuple[str, int] | None = None) -> pd.DataFrame:
    check(code)
    return auth.only_units(_children(k, period, code, skey), scope())


def enterprises(k: Key, period: str, code: str, skey: tuple[str, int] | None = None) -> pd.DataFrame:
    """The drill-down's enterprises under the scheme ``skey`` (the one the page shows; default: the
    default scheme), so their 逾期未整改重大隐患 and open hazards are that scheme's indicators'."""
    check(code)
    return _enterprises(k, period, code, skey)


def records(k: Key, period: str, code: str, kind: str, enterprise_id: str | None = None,
            skey: tuple[str, int] | None = None) -> pd.DataFrame:
    """The drill-down's records; a hazard's 逾期未整改 is what the scheme ``skey`` counts."""
    check(code)
    return _records(k, period, code, kind, enterprise_id, skey)


@memo(max_entries=64, show_spinner=False)
def _kpi_tiles(k: Key, period: str, code: str, against: str = "previous",
               skey: tuple[str, int] | None = None) -> pd.DataFrame:
    """metrics.kpis.kpi_tiles, from the totals both comparisons share (_kpi_totals)."""
    other = kpis.compared_period(period, against)
    rows = _kpi_totals(k, period, code, skey)
    return kpis.tiles(rows[str(period)], rows[str(other)], period, other)


@memo(max_entries=64, show_spinner=False)
def _kpi_totals(k: Key, period: str, code: str, skey: tuple[str, int] | None = None) -> dict[str, dict]:
    """A region's totals for the period, the one before and the one a year earlier, in one query:
    the overview's 环比 and 同比 tiles read the same totals (a query each cost its first run ~0.02 s
    at national scale). {period: metrics.kpis.region_series row}."""
    periods = list(dict.fromkeys([str(period), *(str(kpis.compared_period(period, a)) for a in ("previous", "year_ago"))]))
    with _cursor(k) as cur:
        rows = kpis.region_series(cur, periods, code, scheme(skey))
    return dict(zip(periods, rows))


@memo(max_entries=64, show_spinner=False)
def _kpi_series(k: Key, periods: tuple[str, ...], code: str, skey: tuple[str, int] | None = None) -> pd.DataFrame:
    """Totals of one region over several periods (sparklines): one row per period."""
    with _cursor(k) as cur:
        rows = kpis.region_series(cur, list(periods), code, scheme(skey))
    return pd.DataFrame([{"period": p, **r} for p, r in zip(periods, rows)])


@memo(max_entries=64, show_spinner=False)
def _children(k: Key, period: str, code: str, skey: tuple[str, int] | None = None) -> pd.DataFrame:
    with _cursor(k) as cur:
        return drill.children(cur, period, code, scheme=scheme(skey))


@memo(max_entries=64, show_spinner=False)
def _enterprises(k: Key, period: str, code: str, skey: tuple[str, int] | None = None) -> pd.DataFrame:
    with _cursor(k) as cur:
        return drill.enterprises(cur, period, code, scheme=scheme(skey))


@memo(max_entries=64, show_spinner=False)
def _records(k: Key, period: str, code: str, kind: str, enterprise_id: str | None = None,
             skey: tuple[str, int] | None = None) -> pd.DataFrame:
    with _cursor(k) as cur:
        return drill.records(cur, period, code, kind, enterprise_id, scheme=scheme(skey))


# --- the scheme's numbers (metrics.indicators / index / score / yoy / explain) -------------------
# public: filtered by the user's scope; _private (cached): every unit, for computations over peers
def indicators(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    return auth.only_units(_indicators(k, period, level, province, skey), scope())


def index(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    return auth.limit_units(_index(k, period, level, province, skey), scope())


def index_detail(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    return auth.only_units(_index_detail(k, period, level, province, skey), scope())


def peer_medians(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> dict[str, float]:
    """The median over all peers of each first-level sub-index (a statistic, not a unit's figure)."""
    _signed_in()
    ix = _index(k, period, level, province, skey)
    groups = [g.code for g in scheme(skey).require_index().groups]
    return {g: float(ix[g].median()) if g in ix and ix[g].notna().any() else float("nan") for g in groups}


def score(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    return auth.limit_units(_score(k, quarter, level, province, skey), scope())


def warnings(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int]):
    return auth.limit_units(_warnings(k, quarter, level, province, skey), scope())


def commendations(k: Key, year: int, level: str, province: str, skey: tuple[str, int]):
    return auth.limit_units(_commendations(k, year, level, province, skey), scope())


def year_on_year(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    return auth.only_units(_year_on_year(k, period, level, province, skey), scope())


def explain(k: Key, period: str, code: str, indicator: str, part: str, skey: tuple[str, int]) -> pd.DataFrame:
    check(code)
    return _explain(k, period, code, indicator, part, skey)


def capacity(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    """metrics.capacity.capacity_frame: each unit's capacity and case-reporting figures against the
    scheme's targets, banded (the units the user may see)."""
    return auth.only_units(_capacity(k, period, level, province, skey), scope())


def missed_windows(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    """metrics.capacity.missed_windows: the case-reporting windows each unit's own bureau missed."""
    return auth.only_units(_missed_windows(k, period, level, province, skey), scope())


@memo(max_entries=32, show_spinner="正在计算能力建设指标…")
def _capacity(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.capacity import capacity_frame

    with _cursor(k) as cur:
        return capacity_frame(cur, Period.parse(period), level, province, scheme(skey))


@memo(max_entries=32, show_spinner=False)
def _missed_windows(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.capacity import missed_windows as missed

    with _cursor(k) as cur:
        return missed(cur, Period.parse(period), level, province, scheme(skey))


@memo(max_entries=64, show_spinner="正在计算指标…")
def _indicators(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.indicators import compute_indicators

    with _cursor(k) as cur:
        return compute_indicators(cur, Period.parse(period), level, province, scheme(skey))


@memo(max_entries=128, show_spinner="正在计算指数…")
def _index(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.index import compute_index

    with _cursor(k) as cur:
        return compute_index(cur, Period.parse(period), level, province, scheme(skey))


@memo(max_entries=64, show_spinner="正在计算指数…")
def _index_detail(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    """Per unit × second-level indicator: the normalised score (0–100) and band, when the
    metrics package offers it (metrics.index.compute_index(..., detail=True))."""
    from metrics import index as mindex

    with _cursor(k) as cur:
        return mindex.index_detail(cur, Period.parse(period), level, province, scheme(skey))


@memo(max_entries=128, show_spinner="正在计算考评得分…")
def _score(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.score import compute_score

    with _cursor(k) as cur:
        return compute_score(cur, Period.parse(quarter), level, province, scheme(skey))


@memo(max_entries=64, show_spinner=False)
def _warnings(k: Key, quarter: str, level: str, province: str, skey: tuple[str, int]):
    from metrics import score as mscore

    with _cursor(k) as cur:
        return mscore.warnings(cur, Period.parse(quarter), level, province, scheme(skey))


@memo(max_entries=32, show_spinner="正在计算年度表扬名单…")
def _commendations(k: Key, year: int, level: str, province: str, skey: tuple[str, int]):
    from metrics import score as mscore

    with _cursor(k) as cur:
        return mscore.commendations(cur, int(year), level, province, scheme(skey))


@memo(max_entries=64, show_spinner="正在计算同比…")
def _year_on_year(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.yoy import year_on_year as yoy

    with _cursor(k) as cur:
        return yoy(cur, Period.parse(period), level, province, scheme(skey))


@memo(max_entries=64, show_spinner=False)
def _explain(k: Key, period: str, code: str, indicator: str, part: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.explain import records as explain_records, with_names

    with _cursor(k) as cur:   # names beside the codes (enterprise, agency, county): people read names
        return with_names(cur, explain_records(cur, Period.parse(period), code, indicator, part, scheme(skey)))


def rank_moves(k: Key, period: str, previous: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    """metrics.moves.rank_moves between two periods' index rankings as the user sees them (the
    overview's 名次变化): kept for a full view, worked out on the spot from a city user's rows."""
    from metrics.moves import rank_moves as run

    if scope().full:
        return _rank_moves(k, period, previous, level, province, skey)
    return run(index(k, period, level, province, skey), index(k, previous, level, province, skey))


@memo(max_entries=64, show_spinner=False)
def _rank_moves(k: Key, period: str, previous: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.moves import rank_moves as run

    return run(_index(k, period, level, province, skey), _index(k, previous, level, province, skey))


def capacity_targets(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    """metrics.capacity.target_summary of the units the user sees (the overview's 能力建设 table):
    kept for a full view, worked out on the spot from a city user's units."""
    from metrics.capacity import target_summary

    if scope().full:
        return _capacity_targets(k, period, level, province, skey)
    return target_summary(capacity(k, period, level, province, skey), scheme(skey))


@memo(max_entries=64, show_spinner=False)
def _capacity_targets(k: Key, period: str, level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    from metrics.capacity import target_summary

    return target_summary(_capacity(k, period, level, province, skey), scheme(skey))


def index_breakdown(k: Key, period: str, level: str, province: str, skey: tuple[str, int], code: str) -> pd.DataFrame:
    """metrics.breakdown.index_breakdown of one unit (区域分析's 主要失分 and 指标明细), kept per unit:
    switching back and forth between units, or after the warm-up, it is not worked out again."""
    check(code)
    return _index_breakdown(k, period, level, province, skey, code)


@memo(max_entries=512, show_spinner=False)
def _index_breakdown(k: Key, period: str, level: str, province: str, skey: tuple[str, int], code: str) -> pd.DataFrame:
    from metrics.breakdown import index_breakdown as run

    return run(_index_detail(k, period, level, province, skey), code, scheme(skey))


def unit_priorities(k: Key, period: str, level: str, province: str, skey: tuple[str, int], code: str) -> pd.DataFrame:
    """metrics.priorities.unit_priorities of one unit (区域分析's 优势与需重点改进), kept per unit."""
    check(code)
    return _unit_priorities(k, period, level, province, skey, code)


@memo(max_entries=512, show_spinner=False)
def _unit_priorities(k: Key, period: str, level: str, province: str, skey: tuple[str, int], code: str) -> pd.DataFrame:
    from metrics.priorities import unit_priorities as run

    return run(_index_detail(k, period, level, province, skey), code, scheme(skey))


def history(what: str, k: Key, periods: list[str], level: str, province: str, skey: tuple[str, int]) -> pd.DataFrame:
    """`what` ('index' or 'score') over several periods, stacked with a `period` column. Each period is
    cached on its own (and formula-safe from its computation), so moving the window by one period
    computes one new period; the stack is filtered by the user's scope."""
    private = {"index": _index, "score": _score}[what]
    frames = []
    for p in periods:
        df = private(k, p, level, province, skey)
        df.insert(0, "period", p)
        frames.append(df)
    if not frames:
        return pd.DataFrame()
    return auth.limit_units(pd.concat(frames, ignore_index=True), scope(), keep=auth.PUBLIC | {"period"})


# --- writing: demo build (imports go through etl.load in the page's upload handler) ---------------
def build_demo(province: str, scale: float = 1.0) -> str:
    """Build the seeded demo warehouse (etl.demo) at the app's warehouse path; its summary."""
    from etl.demo import DemoConfig, build_demo as _build, default_years

    require("import")
    first, last = default_years()   # up to the last complete quarter, as `python -m etl demo`
    return _build(DemoConfig(province=province, scale=scale, first_year=first, last_year=last),
                  db=warehouse.db_path())


def import_uploads(uploads: list, table: str | None = None, progress=None, user: str | None = None) -> dict:
    """Load uploaded files (Streamlit UploadedFile: .name, .getvalue()) through etl.load.load_files.

    Each upload is written to a private temp file and passed with its original name
    (``names={tmp: original}``) so the report and the load history show what the user uploaded.
    Returns a plain dict the page keeps in session_state: files (one dict per file), run_id,
    report (path of the set-aside CSV or None), set_aside (DataFrame), report_bytes.
    """
    import tempfile

    from etl.load import load_files

    require("import")
    acc = access()
    if acc.user is not None:
        user = acc.user.username  # signed in: always the user, whatever the caller passed
    with tempfile.TemporaryDirectory(prefix="upload-") as tmp:
        paths, names = [], {}
        for i, up in enumerate(uploads):
            original = Path(up.name).name or f"upload-{i}"
            p = Path(tmp) / f"{i:03d}-{original}"
            p.write_bytes(up.getvalue())
            paths.append(p)
            names[p] = original
        result = load_files(paths, db=warehouse.db_path(), table=table, names=names, progress=progress,
                            user=user or os.environ.get("ENFORCEMENT_USER") or "网页导入", upload=True)
    files = [dict(file=str(f.path), table=f.table, read=f.read, loaded=f.loaded, replaced=f.replaced,
                  unchanged=f.unchanged, set_aside=f.set_aside, refused=f.refused,
                  extra_columns=list(f.extra_columns), blank_rows=f.blank_rows, load_id=f.load_id)
             for f in result.files]
    rows = pd.DataFrame(result.set_aside_rows, columns=["file", "row", "column", "value", "reason", "raw"])
    report_bytes = result.report.read_bytes() if result.report and Path(result.report).exists() else None
    return dict(run_id=result.run_id, files=files, report=str(result.report) if result.report else None,
                set_aside=rows, report_bytes=report_bytes)


@memo(max_entries=32, show_spinner=False)
def template_bytes(table: str, suffix: str) -> bytes:
    """An empty template (etl.template.write_template) as bytes, .xlsx or .csv."""
    import tempfile

    from etl.template import write_template

    with tempfile.TemporaryDirectory(prefix="template-") as tmp:
        out = write_template(table, Path(tmp) / f"{table}{suffix}")
        return out.read_bytes()


def tables() -> list[tuple[str, str]]:
    """(name, Chinese title) of the contract's tables, in load order."""
    from etl.contract import load_contract

    c = load_contract()
    return [(t, c[t].title) for t in c.order]


@memo(copy=False, max_entries=8, show_spinner="正在载入行政区划边界…")
def boundaries(level: str, province: str) -> dict:
    """Simplified boundaries of the province's cities or counties (ui.geo; cached in data/cache/)."""
    from ui import geo

    return geo.boundaries(level, province)


def map_shapes(level: str, province: str) -> dict:
    """The units' outlines for the overview's map (ui.geo.outlines: simplified once per process)."""
    from ui import geo

    return geo.outlines(level, province)


# --- the bulletin (通报) and the leaders' brief ----------------------------------------------------
def bulletin(k: Key, period: str, level: str, province: str, skey: tuple[str, int]):
    """The period's 执法情况通报 (metrics.bulletin.Bulletin). It names every unit's figures, so
    only staff who may issue notices read it (a city user's scope covers its own units only)."""
    require("notices")
    return _bulletin(k, period, level, province, skey, _log_version(k))


def bulletin_files(k: Key, period: str, level: str, province: str, skey: tuple[str, int],
                   issued_on: str) -> dict[str, bytes]:
    """The bulletin's .docx, its annex .xlsx and the one-page brief .docx: {'docx', 'xlsx', 'brief'}."""
    require("notices")
    return _bulletin_files(k, period, level, province, skey, issued_on, _log_version(k))


def _log_version(k: Key) -> tuple:
    """Changes when a notice is issued or voided (the operational store, not the warehouse): the
    bulletin names the notices' numbers, so its cache follows the log too."""
    from official import log

    return log.version(k[0])


@memo(max_entries=8, show_spinner="正在生成通报（汇总全省数据，约需十余秒）…")
def _bulletin(k: Key, period: str, level: str, province: str, skey: tuple[str, int], log_version: tuple = ()):
    from metrics.bulletin import build_bulletin
    from official.bulletin import notice_numbers

    with _cursor(k) as cur:  # the headline totals read the warehouse's tables (not a province slice)
        return build_bulletin(cur, Period.parse(period), level, province, scheme(skey), numbers=notice_numbers(k[0]))


@memo(max_entries=8, show_spinner="正在排版通报…")
def _bulletin_files(k: Key, period: str, level: str, province: str, skey: tuple[str, int],
                    issued_on: str, log_version: tuple = ()) -> dict[str, bytes]:
    import datetime as dt

    from metrics.bulletin import annex_xlsx
    from official.bulletin import brief_docx, render_docx

    b = _bulletin(k, period, level, province, skey, log_version)
    on = dt.date.fromisoformat(issued_on)
    return {"docx": render_docx(b, issued_on=on), "xlsx": annex_xlsx(b), "brief": brief_docx(b, made_on=on)}


def brief_pdf(k: Key, period: str, level: str, province: str, skey: tuple[str, int], issued_on: str) -> bytes | None:
    """The one-page brief as PDF where LibreOffice is installed (a layout preview: the official
    fonts are substituted), else None."""
    require("notices")
    return _brief_pdf(k, period, level, province, skey, issued_on, _log_version(k))


@memo(max_entries=8, show_spinner="正在转换为 PDF（LibreOffice）…")
def _brief_pdf(k: Key, period: str, level: str, province: str, skey: tuple[str, int], issued_on: str,
               log_version: tuple = ()) -> bytes | None:
    import datetime as dt

    from official.bulletin import brief_docx, to_pdf_preview
    from official.writer import DocumentError

    b = _bulletin(k, period, level, province, skey, log_version)
    try:   # the PDF says it is a layout preview
        return to_pdf_preview(brief_docx(b, made_on=dt.date.fromisoformat(issued_on), preview=True))
    except DocumentError:
        return None  # no LibreOffice here: the .docx only


# --- every frame a page gets is formula-safe ----------------------------------------------------------
# Names and file names come from uploaded files; a grid's "Download as CSV" only quotes cells, so
# =HYPERLINK(…) would run in Excel (etl.safe.safe_result: text cells starting with = + - @ get a
# leading apostrophe; numbers untouched). The figures are guarded once, when computed (the memos'
# ``prepare``); the public reads only filter them by scope, which adds no text. Reads that are not
# memoised are guarded on their way out.
def _formula_safe(fn):
    import functools

    from etl.safe import safe_result

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return safe_result(fn(*args, **kwargs))
    return wrapper


def _guard_when_computed(*memos) -> None:
    from etl.safe import safe_result

    for m in memos:
        m.prepare = safe_result


_guard_when_computed(_regions, _load_history, _set_aside, _kpi_tiles, _kpi_series, _children, _enterprises, _records,
                     _indicators, _index, _index_detail, _score, _warnings, _commendations, _year_on_year, _explain,
                     _capacity, _missed_windows, _index_breakdown, _unit_priorities, _rank_moves,
                     _capacity_targets)
for _name in ("audit_trail", "import_uploads"):
    globals()[_name] = _formula_safe(globals()[_name])
