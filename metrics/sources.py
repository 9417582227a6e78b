"""The records an indicator can count, and which region each belongs to (the counting rule).

The data contract's rule ("How a region's figures are counted"): a region's records are those of
every agency inside it — a city's own bureau and its counties' bureaus; a county's own bureau
only; a province's bureau alone. A hazard belongs where its inspection belongs. The register
(enterprises) counts where the enterprise is located, so a province's register is all of it.

Each source is a fixed SQL over the warehouse with the columns scheme files may name (and their
types, so filters are checked when the scheme is loaded, before any database is open).
"""
from __future__ import annotations

from dataclasses import dataclass

from metrics.expr import BOOL, DATE, NUMBER, TEXT, sql_literal

LEVELS = {"city": "市", "county": "县", "province": "省"}
LEVEL_OF_CHINESE = {v: k for k, v in LEVELS.items()}


@dataclass(frozen=True)
class Source:
    name: str
    sql: str                  # SELECT producing the columns below, one row per record; {places}: the
                              # region codes wanted (a subquery), applied to the base tables first
    columns: dict[str, str]   # column -> expr type (bool/number/date/text)
    region_column: str        # the region code that places a record
    role: str                 # 'agency' (where the bureau is) or 'location' (where the enterprise is)
    date: str | None          # the date that puts a record in a period (None: undated)
    key: str                  # the record's id, for listing records behind a number

    def select(self, places: str) -> str:
        """The source's SQL over the records of the regions `places` (a subquery of codes) only:
        the filter reaches the base tables before any join, so a province costs what its records
        cost, not what the country's do."""
        return self.sql.format(places=places)

    @property
    def date_columns(self) -> list[str]:
        return [c for c, t in self.columns.items() if t == DATE]


SOURCES: dict[str, Source] = {
    "inspections": Source(
        "inspections",
        """SELECT i.inspection_id, i.enterprise_id, i.agency_code, i.inspection_date, i.inspection_type,
                  i.via_mobile, i.with_expert,
                  e.key_unit, e.industry, e.county_code AS enterprise_county,
                  coalesce(hz.n, 0) AS hazards_found, coalesce(hz.n_major, 0) AS major_hazards_found
           FROM (SELECT * FROM inspections WHERE agency_code IN ({places})) i
           LEFT JOIN enterprises e USING (enterprise_id)
           LEFT JOIN (SELECT h.inspection_id, count(*) AS n, count(*) FILTER (WHERE h.is_major) AS n_major
                      FROM hazards h SEMI JOIN (SELECT inspection_id FROM inspections
                                                WHERE agency_code IN ({places})) w USING (inspection_id)
                      GROUP BY h.inspection_id) hz USING (inspection_id)""",
        {"inspection_id": TEXT, "enterprise_id": TEXT, "agency_code": TEXT, "inspection_date": DATE,
         "inspection_type": TEXT, "via_mobile": BOOL, "with_expert": BOOL, "key_unit": BOOL,
         "industry": TEXT, "enterprise_county": TEXT, "hazards_found": NUMBER, "major_hazards_found": NUMBER},
        "agency_code", "agency", "inspection_date", "inspection_id"),
    "hazards": Source(
        "hazards",
        """SELECT h.hazard_id, h.inspection_id, h.found_date, h.is_major, h.key_matter, h.needs_rectification,
                  h.deadline, h.rectified_date,
                  i.agency_code, i.enterprise_id, i.inspection_date, i.inspection_type,
                  e.key_unit, e.industry, e.county_code AS enterprise_county
           FROM hazards h
           JOIN (SELECT * FROM inspections WHERE agency_code IN ({places})) i USING (inspection_id)
           LEFT JOIN enterprises e ON e.enterprise_id = i.enterprise_id""",
        {"hazard_id": TEXT, "inspection_id": TEXT, "found_date": DATE, "is_major": BOOL, "key_matter": BOOL,
         "needs_rectification": BOOL, "deadline": DATE, "rectified_date": DATE, "agency_code": TEXT,
         "enterprise_id": TEXT, "inspection_date": DATE, "inspection_type": TEXT, "key_unit": BOOL,
         "industry": TEXT, "enterprise_county": TEXT},
        "agency_code", "agency", "found_date", "hazard_id"),
    "penalties": Source(
        "penalties",
        """SELECT p.case_id, p.inspection_id, p.enterprise_id, p.agency_code, p.filed_date, p.decision_date,
                  CAST(p.fine_company AS DOUBLE) AS fine_company, CAST(p.fine_person AS DOUBLE) AS fine_person,
                  p.for_major_hazard, p.hazard_id, p.transferred, p.review_score, p.case_reported,
                  e.key_unit, e.industry, e.county_code AS enterprise_county
           FROM (SELECT * FROM penalties WHERE agency_code IN ({places})) p
           LEFT JOIN enterprises e USING (enterprise_id)""",
        {"case_id": TEXT, "inspection_id": TEXT, "enterprise_id": TEXT, "agency_code": TEXT, "filed_date": DATE,
         "decision_date": DATE, "fine_company": NUMBER, "fine_person": NUMBER, "for_major_hazard": BOOL,
         "hazard_id": TEXT, "transferred": BOOL, "review_score": NUMBER, "case_reported": BOOL,
         "key_unit": BOOL, "industry": TEXT, "enterprise_county": TEXT},
        "agency_code", "agency", "filed_date", "case_id"),
    "plans": Source(
        "plans",
        "SELECT agency_code, year, planned_inspections FROM plans WHERE agency_code IN ({places})",
        {"agency_code": TEXT, "year": NUMBER, "planned_inspections": NUMBER},
        "agency_code", "agency", None, "agency_code"),
    "enterprises": Source(
        "enterprises",
        "SELECT enterprise_id, name, county_code, industry, key_unit FROM enterprises WHERE county_code IN ({places})",
        {"enterprise_id": TEXT, "name": TEXT, "county_code": TEXT, "industry": TEXT, "key_unit": BOOL},
        "county_code", "location", None, "enterprise_id"),
}

# A unit "has records" in a period (and is assessed) when it inspected, found a hazard or filed a case.
ACTIVITY = ("inspections", "hazards", "penalties")


def level_name(level: str) -> str:
    """'city'/'county'/'province' (or 市/县/省) → the regions.level value."""
    if level in LEVELS:
        return LEVELS[level]
    if level in LEVEL_OF_CHINESE:
        return level
    raise ValueError(f"unknown level {level!r}: use city, county or province")


def unit_map_sql(level: str, province: str, role: str) -> str:
    """SELECT region, unit: for every region code of the province, the unit of ``level`` its
    records count for (agencies) or that it lies in (the register). Regions counting for no unit
    of the level (a province bureau, for cities) are left out."""
    lv = level_name(level)
    if lv == "省":
        unit = "province_code" if role == "location" else "CASE WHEN level = '省' THEN code END"
    elif lv == "市":
        unit = "CASE WHEN level = '市' THEN code WHEN level = '县' THEN city_code END"
    else:
        unit = "CASE WHEN level = '县' THEN code END"
    return (f"SELECT code AS region, {unit} AS unit FROM regions "
            f"WHERE province_code = {sql_literal(province)} AND ({unit}) IS NOT NULL")


def units_sql(level: str, province: str) -> str:
    """Every region of the level in the province: a row each, records or not."""
    return (f"SELECT code, name FROM regions WHERE level = {sql_literal(level_name(level))} "
            f"AND province_code = {sql_literal(province)}")


def city_of_sql(province: str) -> str:
    """region code → its city (for scoring counties within each city)."""
    return f"SELECT code, city_code FROM regions WHERE province_code = {sql_literal(province)}"
