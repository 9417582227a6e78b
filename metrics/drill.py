"""Drill-down lists: region → its counties → enterprises → the records behind the figures.

Every number here is compiled by metrics.query from the same definitions as the KPI tiles and the
scheme's indicators (metrics.kpis.definitions), over the stamped marts: a region's records are
those its stamped unit holds, and a record belongs to the period holding its date. The
enterprises' 逾期未整改重大隐患 is the scheme's indicator of that name — the backlog at the
period's end (found on or before it, deadline passed, still open), not only the hazards found in
the period — so the list adds up to the indicator shown beside it. Every function takes a DuckDB
connection (or cursor) and returns a DataFrame with canonical column names; pages label them.
"""
from __future__ import annotations

import pandas as pd

from metrics.expr import sql_literal
from metrics.kpis import definitions, placing, totals, unit_totals
from metrics.periods import Period
from metrics.query import ACTIVITY_PARTS, condition_sql, ensure_marts, part_records_sql, run
from metrics.scheme import Part, Scheme
from metrics.sources import SOURCES

RECORD_KINDS = ("inspections", "hazards", "cases")
FOUND_SOURCE, BACKLOG_SOURCE = "本期发现", "此前发现、期末逾期未整改"   # an enterprise's hazards: why listed
ENTERPRISE_COLUMNS = ("inspections", "hazards", "major_hazards", "open_hazards", "overdue_major", "cases", "fines")


def children(con, period: Period | str, code: str, scheme: Scheme | None = None) -> pd.DataFrame:
    """The units one level below `code` with their period totals: a province → its cities, a
    city → its counties. A county has no children (empty frame with the same columns)."""
    level, province, _ = placing(con, code)
    if level == "province":
        return unit_totals(con, period, "city", code, scheme=scheme)
    out = unit_totals(con, period, "county", province, parent=code, scheme=scheme)
    return out if level == "city" else out.iloc[0:0]


def enterprises(con, period: Period | str, code: str, limit: int | None = None,
                scheme: Scheme | None = None) -> pd.DataFrame:
    """Enterprises with records of the region in the period, worst first: enterprise_id, name,
    county_code, county, industry, key_unit, inspections, hazards, major_hazards, open_hazards
    (found in the period, needing rectification, not rectified by its end: the scheme's 隐患整改率
    denominator − numerator), overdue_major (the scheme's 逾期未整改重大隐患: the backlog at the
    period's end), cases, fines (万元). The columns add up to the region's totals and indicators."""
    period = Period.parse(period)
    level, province, col = placing(con, code)
    cols = ("inspections", "hazards", "major_hazards", "needing", "rectified", "overdue_major", "cases", "fines")
    df = totals(con, [period], level, province, scheme, columns=cols, unit_col=col, only=str(code),
                by="enterprise_id")
    df = df.rename(columns={"code": "enterprise_id"}).drop(columns=["period", "name"])
    df["open_hazards"] = df["needing"] - df["rectified"]
    df = df[(df[["inspections", "hazards", "cases", "overdue_major"]] > 0).any(axis=1)]
    if df.empty:
        names = pd.DataFrame(columns=["enterprise_id", "name", "county_code", "county", "industry", "key_unit"])
    else:
        ids = "SELECT unnest(?::VARCHAR[]) AS enterprise_id"
        names = run(con, f"""SELECT i.enterprise_id, e.name, e.county_code, r.name AS county, e.industry, e.key_unit
                             FROM ({ids}) i LEFT JOIN mart_enterprises e USING (enterprise_id)
                             LEFT JOIN regions r ON r.code = e.county_code""", [df["enterprise_id"].tolist()])
    out = names.merge(df, on="enterprise_id", how="right")
    out = out.sort_values(["overdue_major", "open_hazards", "hazards", "inspections", "enterprise_id"],
                          ascending=[False, False, False, False, True], kind="stable")
    out = out[["enterprise_id", "name", "county_code", "county", "industry", "key_unit", *ENTERPRISE_COLUMNS]]
    out = out.reset_index(drop=True)
    return out.head(int(limit)) if limit else out


def records(con, period: Period | str, code: str, kind: str, enterprise_id: str | None = None,
            limit: int | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """The records of the region in the period: kind = 'inspections', 'hazards' or 'cases' — the
    records the tiles count (fines in 万元: fine_company_wan, fine_person_wan); optionally one
    enterprise's only. Hazards carry their status as of the period's end (已整改 / 未整改 /
    逾期未整改 / 无需整改): 逾期未整改 is exactly what the scheme's 逾期未整改重大隐患 counts (its own
    definition, as the enterprises' overdue_major column), and for a hazard that is not major —
    which no indicator counts as overdue — needing rectification, open at the period's end and past
    its deadline.

    One enterprise's hazards (``enterprise_id`` given) also hold the hazards found before the period
    that the scheme's 逾期未整改重大隐患 counts for it at the period's end (the compiler's own records
    of that numerator), so the list holds every hazard behind its overdue_major column; a ``source``
    column tells them apart: BACKLOG_SOURCE, else FOUND_SOURCE. The region's list (no enterprise)
    is the hazards found in the period only: what the 隐患 tile counts."""
    if kind not in RECORD_KINDS:
        raise ValueError(f"kind must be one of {RECORD_KINDS}, not {kind!r}")
    period = Period.parse(period)
    level, province, col = placing(con, code)
    ensure_marts(con)
    part = dict(zip(RECORD_KINDS, ACTIVITY_PARTS))[kind]
    rows = part_records_sql(part, period, level, province, str(code), unit_col=col)
    only = f" WHERE x.enterprise_id = {sql_literal(str(enterprise_id))}" if enterprise_id else ""
    end = sql_literal(period.end)
    if kind == "inspections":
        sql = f"""
        SELECT x.inspection_id, x.inspection_date, x.enterprise_id, e.name AS enterprise, x.agency_code,
               a.name AS agency, x.inspection_type, x.via_mobile, x.with_expert, x.hazards_found AS hazards
        FROM ({rows}) x LEFT JOIN regions a ON a.code = x.agency_code
        LEFT JOIN mart_enterprises e ON e.enterprise_id = x.enterprise_id{only}
        ORDER BY x.inspection_date, x.inspection_id"""
    elif kind == "hazards":
        overdue = definitions(scheme)["overdue_major"]   # the compiler's filter, over the mart row s
        counted = condition_sql(overdue, period) if overdue.table == "hazards" else "FALSE"
        source = ""
        if enterprise_id:   # + the enterprise's backlog its overdue_major counts, found before the period
            rows, source = _with_backlog(rows, overdue, period, level, province, str(code), col,
                                         str(enterprise_id)), ", x.source"
        sql = f"""
        SELECT x.hazard_id, x.found_date, x.enterprise_id, e.name AS enterprise, x.inspection_id,
               a.name AS agency, x.is_major, x.key_matter, x.needs_rectification, x.deadline, x.rectified_date,
               CASE WHEN x.overdue_major THEN '逾期未整改'
                    WHEN NOT x.needs_rectification THEN '无需整改'
                    WHEN x.rectified_date <= {end} THEN '已整改'
                    WHEN NOT x.is_major AND x.deadline < {end} THEN '逾期未整改'
                    ELSE '未整改' END AS status{source}
        FROM (SELECT s.*, coalesce({counted}, FALSE) AS overdue_major FROM ({rows}) s) x
        LEFT JOIN regions a ON a.code = x.agency_code
        LEFT JOIN mart_enterprises e ON e.enterprise_id = x.enterprise_id{only}
        ORDER BY x.found_date, x.hazard_id"""
    else:
        sql = f"""
        SELECT x.case_id, x.filed_date, x.decision_date, x.enterprise_id, e.name AS enterprise, a.name AS agency,
               x.fine_company / 10000 AS fine_company_wan, x.fine_person / 10000 AS fine_person_wan,
               x.fine_company > 0 AND x.fine_person > 0 AS dual_penalty,
               x.for_major_hazard, x.transferred, x.case_reported, x.review_score, x.inspection_id, x.hazard_id
        FROM ({rows}) x LEFT JOIN regions a ON a.code = x.agency_code
        LEFT JOIN mart_enterprises e ON e.enterprise_id = x.enterprise_id{only}
        ORDER BY x.filed_date, x.case_id"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    return run(con, sql)


def _with_backlog(rows: str, overdue: Part, period: Period, level: str, province: str, code: str, col: str,
                  enterprise_id: str) -> str:
    """The hazard rows ``rows`` (found in the period) with a ``source`` column, plus the enterprise's
    hazards that the overdue_major numerator counts for region ``code`` at the period's end
    (metrics.query.part_records_sql: the rows metrics.explain lists for it) but that are not among
    ``rows``: found before the period. The enterprise filter is the outer query's."""
    found = f"SELECT p.*, {sql_literal(FOUND_SOURCE)} AS source FROM ({rows}) p"
    if overdue.table != "hazards":   # a scheme whose overdue_major counts no hazards: no backlog
        return found
    key = SOURCES["hazards"].key
    counted = part_records_sql(overdue, period, level, province, code, unit_col=col)
    return (f"{found} UNION ALL BY NAME "
            f"SELECT b.*, {sql_literal(BACKLOG_SOURCE)} AS source FROM ({counted}) b "
            f"WHERE b.enterprise_id = {sql_literal(enterprise_id)} "
            f'AND b."{key}" NOT IN (SELECT p."{key}" FROM ({rows}) p '
            f'WHERE p.enterprise_id = {sql_literal(enterprise_id)} AND p."{key}" IS NOT NULL)')   # NOT IN: no NULLs
