"""Drill-down lists: region → its counties → enterprises → the records behind the figures.

Same counting rule as metrics.kpis: a region's records are those of every agency inside it, a
hazard belongs where its inspection belongs, and a record belongs to the period holding its date.
Every function takes a DuckDB connection (or cursor) and returns a DataFrame with Chinese-free
canonical column names; pages label them.
"""
from __future__ import annotations

import pandas as pd

from metrics.kpis import agency_filter, region_level, unit_totals
from metrics.periods import Period

RECORD_KINDS = ("inspections", "hazards", "cases")


def _agencies_sql(level: str) -> str:
    return f"SELECT a.code AS agency_code FROM regions a WHERE {agency_filter(level, '$code')}"


def children(con, period: Period | str, code: str) -> pd.DataFrame:
    """The units one level below `code` with their period totals: a province → its cities, a
    city → its counties. A county has no children (empty frame with the same columns)."""
    level = region_level(con, code)
    if level == "province":
        return unit_totals(con, period, "city", code)
    province = con.execute("SELECT province_code FROM regions WHERE code = ?", [code]).fetchone()[0]
    out = unit_totals(con, period, "county", province, parent=code)
    return out if level == "city" else out.iloc[0:0]


def enterprises(con, period: Period | str, code: str, limit: int | None = None) -> pd.DataFrame:
    """Enterprises with records of the region's agencies in the period, worst first:
    enterprise_id, name, county_code, county, industry, key_unit, inspections, hazards,
    major_hazards, open_hazards (needing rectification, not rectified by the period's end),
    overdue_major (major, deadline passed, open at the period's end), cases, fines (万元)."""
    period = Period.parse(period)
    level = region_level(con, code)
    sql = f"""
    WITH ag AS ({_agencies_sql(level)}),
    ins AS (
        SELECT i.enterprise_id, count(*) AS inspections
        FROM inspections i JOIN ag USING (agency_code)
        WHERE i.inspection_date BETWEEN $start AND $end GROUP BY 1
    ),
    haz AS (
        SELECT i.enterprise_id, count(*) AS hazards,
               count(*) FILTER (h.is_major) AS major_hazards,
               count(*) FILTER (h.needs_rectification AND NOT coalesce(h.rectified_date <= $end, FALSE)) AS open_hazards,
               count(*) FILTER (h.is_major AND h.needs_rectification AND h.deadline < $end
                                AND NOT coalesce(h.rectified_date <= $end, FALSE)) AS overdue_major
        FROM hazards h JOIN inspections i USING (inspection_id) JOIN ag ON ag.agency_code = i.agency_code
        WHERE h.found_date BETWEEN $start AND $end GROUP BY 1
    ),
    pen AS (
        SELECT p.enterprise_id, count(*) AS cases, sum(p.fine_company + p.fine_person) / 10000.0 AS fines
        FROM penalties p JOIN ag USING (agency_code)
        WHERE p.filed_date BETWEEN $start AND $end GROUP BY 1
    ),
    ids AS (SELECT enterprise_id FROM ins UNION SELECT enterprise_id FROM haz UNION SELECT enterprise_id FROM pen)
    SELECT ids.enterprise_id, e.name, e.county_code, r.name AS county, e.industry, e.key_unit,
           coalesce(ins.inspections, 0) AS inspections, coalesce(haz.hazards, 0) AS hazards,
           coalesce(haz.major_hazards, 0) AS major_hazards, coalesce(haz.open_hazards, 0) AS open_hazards,
           coalesce(haz.overdue_major, 0) AS overdue_major,
           coalesce(pen.cases, 0) AS cases, CAST(coalesce(pen.fines, 0) AS DOUBLE) AS fines
    FROM ids
    LEFT JOIN enterprises e USING (enterprise_id)
    LEFT JOIN regions r ON r.code = e.county_code
    LEFT JOIN ins USING (enterprise_id) LEFT JOIN haz USING (enterprise_id) LEFT JOIN pen USING (enterprise_id)
    ORDER BY overdue_major DESC, open_hazards DESC, hazards DESC, inspections DESC, ids.enterprise_id
    """ + (f" LIMIT {int(limit)}" if limit else "")
    return con.execute(sql, {"code": str(code), "start": period.start, "end": period.end}).df()


def records(con, period: Period | str, code: str, kind: str, enterprise_id: str | None = None,
            limit: int | None = None) -> pd.DataFrame:
    """The records of the region's agencies in the period: kind = 'inspections', 'hazards' or
    'cases' (fines in 万元: fine_company_wan, fine_person_wan); optionally one enterprise's only.
    Hazards carry their status as of the period's end (已整改 / 未整改 / 逾期未整改 / 无需整改)."""
    if kind not in RECORD_KINDS:
        raise ValueError(f"kind must be one of {RECORD_KINDS}, not {kind!r}")
    period = Period.parse(period)
    level = region_level(con, code)
    params = {"code": str(code), "start": period.start, "end": period.end}
    only = ""
    if enterprise_id:
        only = " AND x.enterprise_id = $ent"
        params["ent"] = str(enterprise_id)
    if kind == "inspections":
        sql = f"""
        SELECT x.inspection_id, x.inspection_date, x.enterprise_id, e.name AS enterprise, x.agency_code,
               a.name AS agency, x.inspection_type, x.via_mobile, x.with_expert,
               (SELECT count(*) FROM hazards h WHERE h.inspection_id = x.inspection_id) AS hazards
        FROM inspections x JOIN regions a ON a.code = x.agency_code
        LEFT JOIN enterprises e USING (enterprise_id)
        WHERE {agency_filter(level, '$code')} AND x.inspection_date BETWEEN $start AND $end{only}
        ORDER BY x.inspection_date, x.inspection_id"""
    elif kind == "hazards":
        sql = f"""
        SELECT h.hazard_id, h.found_date, x.enterprise_id, e.name AS enterprise, h.inspection_id,
               a.name AS agency, h.is_major, h.key_matter, h.needs_rectification, h.deadline, h.rectified_date,
               CASE WHEN NOT h.needs_rectification THEN '无需整改'
                    WHEN h.rectified_date <= $end THEN '已整改'
                    WHEN h.deadline < $end THEN '逾期未整改'
                    ELSE '未整改' END AS status
        FROM hazards h JOIN inspections x USING (inspection_id) JOIN regions a ON a.code = x.agency_code
        LEFT JOIN enterprises e ON e.enterprise_id = x.enterprise_id
        WHERE {agency_filter(level, '$code')} AND h.found_date BETWEEN $start AND $end{only}
        ORDER BY h.found_date, h.hazard_id"""
    else:
        sql = f"""
        SELECT x.case_id, x.filed_date, x.decision_date, x.enterprise_id, e.name AS enterprise, a.name AS agency,
               CAST(x.fine_company AS DOUBLE) / 10000 AS fine_company_wan, CAST(x.fine_person AS DOUBLE) / 10000 AS fine_person_wan,
               x.fine_company > 0 AND x.fine_person > 0 AS dual_penalty,
               x.for_major_hazard, x.transferred, x.case_reported, x.review_score, x.inspection_id, x.hazard_id
        FROM penalties x JOIN regions a ON a.code = x.agency_code
        LEFT JOIN enterprises e USING (enterprise_id)
        WHERE {agency_filter(level, '$code')} AND x.filed_date BETWEEN $start AND $end{only}
        ORDER BY x.filed_date, x.case_id"""
    if limit:
        sql += f" LIMIT {int(limit)}"
    return con.execute(sql, params).df()
