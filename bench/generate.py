"""National-scale synthetic enforcement data, written as contract CSVs — generated in DuckDB SQL.

    python -m bench.generate [--scale 1.0] [--seed 7] [--out bench/out/national] [--errors 1e-5]

At ``--scale 1.0`` (the issue's sizes): every county-level division of China (2,843 real GB/T 2260
codes), 3M enterprises, five years (2021–2025), 10M inspections, ~25M hazards, ~1M penalty cases,
plus the yearly plans of every agency (≈16k rows). ``--scale 0.0002`` makes a few thousand rows
in well under a second (the smoke tests).

Every row is a pure function of (seed, row number): ``u(k, salt)`` is a uniform number in [0, 1)
from DuckDB's ``hash``; normals come from Box–Muller. No Python loop ever touches a row.

Distributions follow etl/demo.py (itself calibrated on the data contract's published figures):
counties' register sizes are log-normal, industries and key units by industry, city profiles
(strong, weak, improving, declining, erratic) with county noise and quarterly drift; inspections
follow the seasons (Spring Festival lull, June safety month, year-end push) and favour key units;
county bureaus do most of them, city bureaus some, province bureaus a few (of key units);
hazards per inspection are geometric (many inspections find none); rectification lags, overdue
and major hazards, penalty cases for major hazards and others, log-normal fines, 一案双罚,
transfers, review scores. One county is implausible on purpose (everything rectified the day it is
found). A small share of rows (``--errors``) breaks a contract rule, as real exports do, so the
set-aside path is exercised too.

Output: ``enterprises.csv``, ``plans.csv``, ``inspections.csv``, ``hazards.csv``,
``penalties.csv`` with the contract's Chinese headers, 是/否 booleans and ISO dates, and
``manifest.json`` (sizes, seed, timings). Inspection ids follow the dates (an export sorted by
date), the register is sorted by county.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import time
from pathlib import Path

import duckdb

from etl import demo
from etl.contract import load_contract
from etl.regions import reference_regions
from etl.validate import CREDIT_CHARS, CREDIT_WEIGHTS

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "out" / "national"
TABLES = ("enterprises", "plans", "inspections", "hazards", "penalties")
SIZES = {"enterprises": 3_000_000, "inspections": 10_000_000, "hazards": 25_000_000, "penalties": 1_000_000}
FIRST_YEAR, LAST_YEAR = 2021, 2025
DATA_END = dt.date(LAST_YEAR, 12, 31)

# the same shapes as the demo (etl/demo.py), at national scale
PROFILES, PROFILE_CYCLE, INDUSTRIES, INSPECTION_TYPES = demo.PROFILES, demo.PROFILE_CYCLE, demo.INDUSTRIES, demo.INSPECTION_TYPES
TRADE_NAMES = "".join(demo.TRADE_NAMES)
SEASON = [float(x) for x in demo.SEASON]
GROWTH = 0.04  # inspections grow ~4% a year
KEY_PICK = 0.30  # share of inspections that pick among key units (they are ~15% of the register)
AGENCY_SPLIT = (0.84, 0.97)  # u < .84 county bureau, < .97 city bureau, else province bureau (key units)


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _list(values) -> str:
    return "[" + ", ".join(_lit(v) if isinstance(v, str) else repr(v) for v in values) + "]"


def _cumulative(pairs):
    """[(value, weight)] -> [(value, lo)] with lo the cumulative share before the value."""
    total = sum(w for _, w in pairs)
    out, acc = [], 0.0
    for v, w in pairs:
        out.append((v, acc / total))
        acc += w
    return out


def _choice(x: str, pairs) -> str:
    """SQL CASE choosing among [(value, weight)] by the uniform number `x`."""
    cum = _cumulative(pairs)
    parts = [f"WHEN {x} < {lo_next!r} THEN {_lit(v)}" for (v, _), (_, lo_next) in zip(cum, cum[1:])]
    return f"(CASE {' '.join(parts)} ELSE {_lit(cum[-1][0])} END)"


def credit_code_sql(county: str, serial: str) -> str:
    """SQL for a valid 统一社会信用代码: '91' + county code + serial in base 31 (9 chars) + check char.

    The check character (GB 32100) is computed arithmetically: a character's value is its index in
    the 31-character alphabet, which for the digits is the digit itself.
    """
    digits = [f"(({serial}) // {31 ** (8 - k)}) % 31" for k in range(9)]
    body = " || ".join(f"substr({_lit(CREDIT_CHARS)}, CAST({d} AS INTEGER) + 1, 1)" for d in digits)
    w = CREDIT_WEIGHTS
    total = " + ".join(
        [f"{9 * w[0] + 1 * w[1]}"]
        + [f"CAST(substr({county}, {j + 1}, 1) AS INTEGER) * {w[2 + j]}" for j in range(6)]
        + [f"({d}) * {w[8 + k]}" for k, d in enumerate(digits)]
    )
    check = f"substr({_lit(CREDIT_CHARS)}, CAST((31 - ({total}) % 31) % 31 AS INTEGER) + 1, 1)"
    return f"('91' || {county} || {body} || {check})"


def broken_check(code: str) -> str:
    """The same code with the next character of the alphabet as check character (invalid)."""
    return (f"(left({code}, 17) || substr({_lit(CREDIT_CHARS)}, "
            f"(instr({_lit(CREDIT_CHARS)}, right({code}, 1)) % 31) + 1, 1))")


def _months():
    rows = []
    for y in range(FIRST_YEAR, LAST_YEAR + 1):
        for m in range(1, 13):
            start = dt.date(y, m, 1)
            end = dt.date(y + (m == 12), m % 12 + 1, 1)
            weight = SEASON[m - 1] * (1 + GROWTH) ** (y - FIRST_YEAR) * (end - start).days / 30.4
            rows.append((start, (end - start).days, m, (y - FIRST_YEAR) * 4 + (m - 1) // 3, weight))
    cum = _cumulative([(r, r[-1]) for r in rows])
    return [(*r[:4], lo) for r, lo in cum]


def generate(out: str | os.PathLike = DEFAULT_OUT, scale: float = 1.0, seed: int = 7, errors: float = 1e-5,
             threads: int | None = None, memory_limit: str = "8GB", log=print) -> dict:
    """Write the contract CSVs of a national data set into `out`; return the manifest."""
    t_start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    n_ent = max(1, round(SIZES["enterprises"] * scale))
    n_insp = max(1, round(SIZES["inspections"] * scale))
    hazards_per_insp = SIZES["hazards"] / SIZES["inspections"]
    n_case_target = max(1, round(SIZES["penalties"] * scale))
    headers = {t: {c.name: c.header for c in load_contract()[t].columns} for t in TABLES}
    spill = out / ".gen-tmp"
    con = duckdb.connect()
    timings: dict[str, float] = {}

    def step(name, sql, params=None):
        t0 = time.perf_counter()
        con.execute(sql, params or [])
        timings[name] = timings.get(name, 0.0) + time.perf_counter() - t0

    try:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute(f"SET temp_directory = '{spill}'")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        con.execute(f"CREATE MACRO u(k, salt) AS (hash(k, salt, {int(seed)}) >> 11)::DOUBLE / 9007199254740992.0")
        con.execute("CREATE MACRO nrm(k, salt) AS sqrt(-2 * ln(1 - u(k, salt || '.1'))) * cos(2 * pi() * u(k, salt || '.2'))")
        con.execute(f"CREATE MACRO clip(x, a, b) AS least(greatest(x, a), b)")

        # --- regions, profiles, agencies' strength per quarter -------------------------------
        con.register("_ref", reference_regions())
        con.execute("CREATE TABLE regions AS SELECT * FROM _ref")
        con.unregister("_ref")
        con.execute(
            "CREATE TABLE profiles (profile VARCHAR, base DOUBLE, trend DOUBLE, noise DOUBLE)")
        con.executemany("INSERT INTO profiles VALUES (?, ?, ?, ?)", [(k, *v) for k, v in PROFILES.items()])
        n_q = 4 * (LAST_YEAR - FIRST_YEAR + 1)
        step("agencies", f"""
            CREATE TABLE agencies AS
            WITH r AS (
                SELECT code, level, province_code, coalesce(city_code, province_code) AS city_or_prov,
                       {_list(PROFILE_CYCLE)}[1 + CAST(floor(u(coalesce(city_code, province_code), 'profile') * {len(PROFILE_CYCLE)}) AS INTEGER)] AS profile,
                       CASE WHEN level = '县' THEN 0.08 * nrm(code, 'shift') ELSE 0 END AS shift
                FROM regions
            ), susp AS (SELECT arg_min(code, hash(code, 'suspicious', {int(seed)})) AS code FROM regions WHERE level = '县')
            SELECT r.code, r.level, r.code = susp.code AS suspicious,
                   CASE WHEN r.level = '省' THEN 'strong' ELSE r.profile END AS profile, r.shift
            FROM r, susp""")
        step("agencies", f"""
            CREATE TABLE agency_q AS
            SELECT a.code, q.q, a.suspicious,
                   clip(p.base + a.shift + p.trend * q.q / 4.0 + p.noise * nrm(a.code || '/' || q.q, 'noise'), 0.05, 0.98) AS s
            FROM agencies a JOIN profiles p USING (profile), range({n_q}) q(q)""")

        # --- the register ---------------------------------------------------------------------
        ind = list(INDUSTRIES.items())
        ind_cum = _cumulative([(name, v[0]) for name, v in ind])
        con.execute("CREATE TABLE industries (industry VARCHAR, lo DOUBLE, key_p DOUBLE, words VARCHAR[])")
        con.executemany("INSERT INTO industries VALUES (?, ?, ?, ?)",
                        [(name, lo, v[1], v[2]) for (name, lo), (_, v) in zip(ind_cum, ind)])
        step("enterprises", """
            CREATE TABLE counties AS
            WITH c AS (SELECT code, name, city_code, province_code, exp(0.45 * nrm(code, 'size')) AS w
                       FROM regions WHERE level = '县')
            SELECT *, (sum(w) OVER (ORDER BY code ROWS UNBOUNDED PRECEDING) - w) / sum(w) OVER () AS lo FROM c""")
        short = "CASE WHEN length(regexp_replace(c.name, '[区县市旗]+$', '')) < 2 THEN c.name ELSE regexp_replace(c.name, '[区县市旗]+$', '') END"
        trade = lambda salt: f"substr({_lit(TRADE_NAMES)}, 1 + CAST(floor(u(e.e, '{salt}') * {len(TRADE_NAMES)}) AS INTEGER), 1)"
        step("enterprises", f"""
            CREATE TABLE ent AS
            WITH e AS (SELECT range AS e, (range + 0.5) / {n_ent} AS p, u(range, 'industry') AS x FROM range({n_ent})),
            ec AS (SELECT e.*, c.code AS county_code, c.name, c.city_code, c.province_code FROM e ASOF JOIN counties c ON e.p >= c.lo)
            SELECT e.e, {credit_code_sql('e.county_code', 'e.e')} AS enterprise_id,
                   {short.replace('c.name', 'e.name')} || {trade('t1')} || {trade('t2')}
                     || i.words[1 + CAST(floor(u(e.e, 'word') * len(i.words)) AS INTEGER)] || '有限公司' AS name,
                   e.county_code, e.city_code, e.province_code, i.industry,
                   u(e.e, 'key') < i.key_p AS key_unit
            FROM ec e ASOF JOIN industries i ON e.x >= i.lo
            ORDER BY e.e""")
        step("enterprises", "CREATE TABLE keymap AS SELECT e, row_number() OVER (ORDER BY e) - 1 AS k FROM ent WHERE key_unit")
        n_key = con.execute("SELECT count(*) FROM keymap").fetchone()[0]

        # --- inspections ----------------------------------------------------------------------
        con.execute("CREATE TABLE months (month_start DATE, days INTEGER, month INTEGER, q INTEGER, lo DOUBLE)")
        con.executemany("INSERT INTO months VALUES (?, ?, ?, ?, ?)", _months())
        county_cut, city_cut = AGENCY_SPLIT
        step("inspections", f"""
            CREATE TABLE insp AS
            WITH b AS (SELECT range AS i, (range + 0.5) / {n_insp} AS p FROM range({n_insp})),
            d AS (
                SELECT b.i, m.q,
                       m.month_start + CAST(floor(CASE WHEN m.month = 12 THEN greatest(u(b.i, 'd1'), u(b.i, 'd2'))
                                                      ELSE u(b.i, 'd1') END * m.days) AS INTEGER) AS inspection_date,
                       CASE WHEN {n_key} > 0 AND u(b.i, 'keypick') < {KEY_PICK}
                            THEN CAST(floor(u(b.i, 'key') * {n_key}) AS BIGINT) END AS kpick,
                       CAST(floor(u(b.i, 'ent') * {n_ent}) AS BIGINT) AS epick,
                       u(b.i, 'agency') AS a
                FROM b ASOF JOIN months m ON b.p >= m.lo
            ),
            de AS (
                SELECT d.*, e.enterprise_id, e.key_unit,
                       CASE WHEN d.a < {county_cut} THEN e.county_code
                            WHEN d.a < {city_cut} OR NOT e.key_unit THEN coalesce(e.city_code, e.province_code)
                            ELSE e.province_code END AS agency_code
                FROM d LEFT JOIN keymap km ON km.k = d.kpick
                JOIN ent e ON e.e = coalesce(km.e, d.epick)
            )
            SELECT de.i, de.enterprise_id, de.agency_code, de.inspection_date, de.q,
                   {_choice("u(de.i, 'type')", list(INSPECTION_TYPES.items()))} AS inspection_type,
                   u(de.i, 'mobile') < 0.45 + 0.52 * aq.s AS via_mobile,
                   u(de.i, 'expert') < 0.08 + 0.2 * aq.s AS with_expert,
                   aq.s, aq.suspicious
            FROM de JOIN agency_q aq ON aq.code = de.agency_code AND aq.q = de.q
            ORDER BY de.i""")
        step("inspections", f"""
            CREATE TABLE insp_h AS
            WITH w AS (SELECT i, 0.75 + 0.5 * s AS w FROM insp),
            m AS (SELECT i, {hazards_per_insp!r} * w / avg(w) OVER () AS mu FROM w),
            n AS (SELECT i, CAST(least(40, floor(ln(1 - u(i, 'nh')) / ln(1 - 1 / (1 + mu)))) AS INTEGER) AS n_h FROM m)
            SELECT i, n_h, sum(n_h) OVER (ORDER BY i ROWS UNBOUNDED PRECEDING) - n_h AS h0 FROM n ORDER BY i""")

        # --- hazards --------------------------------------------------------------------------
        end = f"DATE '{DATA_END.isoformat()}'"
        step("hazards", f"""
            CREATE TABLE haz AS
            WITH h AS (
                SELECT x.h0 + r.j AS h, i.i, i.inspection_date AS found_date, i.s, i.suspicious
                FROM insp i JOIN insp_h x USING (i), range(x.n_h) r(j)
            ), f AS (
                SELECT h.*, u(h, 'major') < 0.02 AS is_major, u(h, 'needs') < 0.99 AS needs,
                       u(h, 'keymatter') < 0.22 + 0.15 * s AS key_matter
                FROM h
            ), g AS (
                SELECT f.*,
                       CASE WHEN is_major THEN [30, 45, 60, 90][1 + CAST(floor(u(h, 'allowed') * 4) AS INTEGER)]
                            ELSE [7, 15, 15, 30, 30, 60][1 + CAST(floor(u(h, 'allowed') * 6) AS INTEGER)] END AS allowed,
                       u(h, 'ok') < CASE WHEN is_major THEN 0.86 + 0.135 * s ELSE 0.968 + 0.03 * s END OR suspicious AS ok,
                       u(h, 'ontime') < CASE WHEN is_major THEN 0.45 + 0.53 * s ELSE 0.70 + 0.28 * s END AS on_time
                FROM f
            ), r AS (
                SELECT g.*, CASE WHEN suspicious THEN found_date
                                 WHEN on_time THEN found_date + CAST(ceil((0.05 + 0.95 * u(h, 'lag')) * allowed) AS INTEGER)
                                 ELSE found_date + allowed + CAST(ceil(-ln(1 - u(h, 'late')) * 14.4) AS INTEGER) END AS rect
                FROM g
            )
            SELECT h, i, found_date, is_major, key_matter, needs AS needs_rectification,
                   CASE WHEN needs THEN found_date + allowed END AS deadline,
                   CASE WHEN needs AND ok AND rect <= {end} THEN rect END AS rectified_date, s
            FROM r ORDER BY h""")

        # --- penalty cases --------------------------------------------------------------------
        n_a = con.execute("SELECT count(*) FROM haz WHERE is_major AND u(h, 'filed') < 0.45 + 0.5 * s").fetchone()[0]
        w_sum = con.execute(
            "SELECT coalesce(sum(0.025 + 0.2 * pow(s, 1.5)), 0) FROM insp JOIN insp_h USING (i) WHERE n_h > 0").fetchone()[0]
        q_b = max(0.0, n_case_target - n_a) / w_sum if w_sum else 0.0
        step("penalties", f"""
            CREATE TABLE pen AS
            WITH src AS (
                SELECT 2 * h AS ck, i, h AS hazard, TRUE AS for_major FROM haz WHERE is_major AND u(h, 'filed') < 0.45 + 0.5 * s
                UNION ALL
                SELECT 2 * i + 1, i, CASE WHEN u(i, 'withhazard') < 0.5 THEN h0 END, FALSE
                FROM insp JOIN insp_h USING (i)
                WHERE n_h > 0 AND u(i, 'case') < {q_b!r} * (0.025 + 0.2 * pow(s, 1.5))
            ), c AS (
                SELECT src.*, i.enterprise_id, i.agency_code, i.s,
                       least(i.inspection_date + CAST(floor(u(ck, 'filed') * 21) AS INTEGER), {end}) AS filed_date
                FROM src JOIN insp i USING (i)
            ), d AS (
                SELECT c.*, filed_date + 7 + CAST(floor(u(ck, 'decided') * 69) AS INTEGER) AS decided,
                       CASE WHEN u(ck, 'warning') < 0.04 THEN 0
                            ELSE round(clip(exp(ln(13000) + 1.8 * nrm(ck, 'fine')) * (0.6 + 0.5 * s), 2000, 3000000), -2) END AS fc
                FROM c
            )
            SELECT row_number() OVER (ORDER BY filed_date, ck) AS n, i, enterprise_id, agency_code, filed_date,
                   CASE WHEN u(ck, 'pending') >= 0.03 AND decided <= {end} THEN decided END AS decision_date,
                   CAST(fc AS DECIMAL(18, 2)) AS fine_company,
                   CAST(CASE WHEN fc > 0 AND u(ck, 'dual') < 0.08 + 0.55 * s
                             THEN round(clip(exp(ln(12000) + 0.7 * nrm(ck, 'pfine')), 1000, 200000), -2) ELSE 0 END
                        AS DECIMAL(18, 2)) AS fine_person,
                   for_major, hazard,
                   u(ck, 'transfer') < 0.004 + 0.016 * s AS transferred,
                   CASE WHEN u(ck, 'reviewed') < 0.6
                        THEN CAST(clip(76 + 20 * s + 5 * nrm(ck, 'score'), 40, 100) AS DECIMAL(4, 1)) END AS review_score,
                   u(ck, 'reported') < 0.008 + 0.03 * s AS case_reported
            FROM d ORDER BY n""")

        # --- plans: every agency, every year (3% of county-years without a plan) --------------
        step("plans", f"""
            CREATE TABLE plan AS
            WITH cnt AS (SELECT agency_code, year(inspection_date) AS year, count(*) AS n FROM insp GROUP BY ALL)
            SELECT a.code AS agency_code, y.year,
                   CAST(greatest(5, round(coalesce(cnt.n, 0) / (0.95 + 0.3 * u(a.code || '/' || y.year, 'plan')))) AS INTEGER) AS planned_inspections
            FROM agencies a CROSS JOIN (SELECT range AS year FROM range({FIRST_YEAR}, {LAST_YEAR + 1})) y
            LEFT JOIN cnt ON cnt.agency_code = a.code AND cnt.year = y.year
            WHERE NOT (a.level = '县' AND u(a.code || '/' || y.year, 'noplan') < 0.03)
            ORDER BY a.code, y.year""")

        # --- write the CSVs (with a few rows that break a rule, as real exports have) ---------
        yn = lambda x: f"CASE WHEN {x} THEN '是' ELSE '否' END"
        err = lambda k, salt: f"u({k}, 'err-{salt}') < {float(errors)!r}"
        jc = "'JC' || lpad(CAST({} + 1 AS VARCHAR), 10, '0')"
        yh = "'YH' || lpad(CAST({} + 1 AS VARCHAR), 11, '0')"
        selects = {
            "enterprises": ("ent", "e", {
                "enterprise_id": f"CASE WHEN {err('e', 'check')} THEN {broken_check('enterprise_id')} ELSE enterprise_id END",
                "name": "name", "county_code": "county_code", "industry": "industry", "key_unit": yn("key_unit"),
            }),
            "plans": ("plan", "agency_code, year", {
                "agency_code": "agency_code", "year": "year", "planned_inspections": "planned_inspections",
            }),
            "inspections": ("insp", "i", {
                "inspection_id": jc.format("i"),
                "enterprise_id": f"CASE WHEN {err('i', 'ent')} THEN {broken_check('enterprise_id')} ELSE enterprise_id END",
                "agency_code": "agency_code",
                "inspection_date": f"CASE WHEN {err('i', 'date')} THEN strftime(inspection_date, '%Y-%m') || '-32' "
                                   f"ELSE CAST(inspection_date AS VARCHAR) END",
                "inspection_type": "inspection_type", "via_mobile": yn("via_mobile"), "with_expert": yn("with_expert"),
            }),
            "hazards": ("haz", "h", {
                "hazard_id": yh.format("h"), "inspection_id": jc.format("i"), "found_date": "found_date",
                "is_major": yn("is_major"), "key_matter": yn("key_matter"),
                "needs_rectification": yn("needs_rectification"), "deadline": "deadline",
                "rectified_date": f"CASE WHEN {err('h', 'rect')} THEN found_date - 3 ELSE rectified_date END",
            }),
            "penalties": ("pen", "n", {
                "case_id": "'AJ' || lpad(CAST(n AS VARCHAR), 9, '0')", "inspection_id": jc.format("i"),
                "enterprise_id": "enterprise_id", "agency_code": "agency_code", "filed_date": "filed_date",
                "decision_date": "decision_date",
                "fine_company": f"CASE WHEN {err('n', 'fine')} THEN -fine_company - 100 ELSE fine_company END",
                "fine_person": "fine_person", "for_major_hazard": yn("for_major"),
                "hazard_id": f"CASE WHEN hazard IS NOT NULL THEN {yh.format('hazard')} END",
                "transferred": yn("transferred"), "review_score": "review_score", "case_reported": yn("case_reported"),
            }),
        }
        files = {}
        for table in TABLES:
            src, order, cols = selects[table]
            exprs = ", ".join(f'{e} AS "{headers[table][name]}"' for name, e in cols.items())
            path = out / f"{table}.csv"
            step(f"write {table}", f"COPY (SELECT {exprs} FROM {src} ORDER BY {order}) TO '{path}' (FORMAT csv, HEADER true)")
            rows = con.execute(f"SELECT count(*) FROM {src}").fetchone()[0]
            files[table] = {"file": path.name, "rows": rows, "bytes": path.stat().st_size}
            log(f"  {table}: {rows:,} rows, {path.stat().st_size / 1e6:,.1f} MB")
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)

    manifest = {
        "scale": scale, "seed": seed, "errors": errors, "years": [FIRST_YEAR, LAST_YEAR],
        "counties": int(len(reference_regions().query("level == '县'"))),
        "tables": files,
        "rows_total": sum(f["rows"] for f in files.values()),
        "bytes_total": sum(f["bytes"] for f in files.values()),
        "seconds": round(time.perf_counter() - t_start, 2),
        "step_seconds": {k: round(v, 2) for k, v in timings.items()},
        "duckdb": duckdb.__version__,
        "generated_at": dt.datetime.now().isoformat(timespec="seconds"),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return manifest


def paths(out: str | os.PathLike = DEFAULT_OUT) -> list[Path]:
    """The generated CSVs, in the contract's load order."""
    return [Path(out) / f"{t}.csv" for t in TABLES]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=1.0, help="1.0 = 3M enterprises, 10M inspections, 25M hazards, 1M cases")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--errors", type=float, default=1e-5, help="share of rows breaking a rule (set aside by the ETL)")
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    print(f"generating scale {args.scale} seed {args.seed} into {args.out}")
    m = generate(args.out, scale=args.scale, seed=args.seed, errors=args.errors, threads=args.threads)
    print(f"{m['rows_total']:,} rows, {m['bytes_total'] / 1e9:.2f} GB in {m['seconds']:.1f}s  {m['step_seconds']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
