"""The records an indicator can count, and which region each belongs to (the counting rule).

The data contract's rule ("How a region's figures are counted"): a region's records are those of
every agency inside it — a city's own bureau and its counties' bureaus; a county's own bureau
only; a province's bureau alone. A hazard belongs where its inspection belongs. The register
(enterprises) counts where the enterprise is located, so a province's register is all of it.

The rule is applied once per load: etl.marts stamps every record with the unit of each level it
counts for (``mart_<table>``: the source's columns, ``province_code``, ``province_unit``,
``city_unit``, ``county_unit``). Here each source names its columns (and their types, so filters
are checked when the scheme is loaded, before any database is open); reads filter the stamped
unit column and never join.
"""
from __future__ import annotations

import contextlib
import contextvars
from dataclasses import dataclass

from metrics.expr import BOOL, DATE, NUMBER, TEXT, sql_literal

LEVELS = {"city": "市", "county": "县", "province": "省"}
LEVEL_OF_CHINESE = {v: k for k, v in LEVELS.items()}


@dataclass(frozen=True)
class Source:
    name: str
    columns: dict[str, str]   # column -> expr type (bool/number/date/text): what scheme files may name
    region_column: str        # the region code that places a record (the mart's units are stamped from it)
    role: str                 # 'agency' (where the bureau is), 'location' (where the enterprise is) or
                              # 'own' (the unit's own bureau only: a city's records exclude its counties')
    date: str | None          # the date that puts a record in a period (None: undated)
    key: str                  # the record's id, for listing records behind a number

    @property
    def mart(self) -> str:
        """The table holding the records already joined and stamped with their units (etl.marts)."""
        return f"mart_{self.name}"

    @property
    def date_columns(self) -> list[str]:
        return [c for c, t in self.columns.items() if t == DATE]


SOURCES: dict[str, Source] = {
    "inspections": Source(
        "inspections",
        {"inspection_id": TEXT, "enterprise_id": TEXT, "agency_code": TEXT, "inspection_date": DATE,
         "inspection_type": TEXT, "via_mobile": BOOL, "with_expert": BOOL, "key_unit": BOOL,
         "industry": TEXT, "enterprise_county": TEXT, "hazards_found": NUMBER, "major_hazards_found": NUMBER},
        "agency_code", "agency", "inspection_date", "inspection_id"),
    "hazards": Source(
        "hazards",
        {"hazard_id": TEXT, "inspection_id": TEXT, "found_date": DATE, "is_major": BOOL, "key_matter": BOOL,
         "needs_rectification": BOOL, "deadline": DATE, "rectified_date": DATE, "agency_code": TEXT,
         "enterprise_id": TEXT, "inspection_date": DATE, "inspection_type": TEXT, "key_unit": BOOL,
         "industry": TEXT, "enterprise_county": TEXT},
        "agency_code", "agency", "found_date", "hazard_id"),
    "penalties": Source(
        "penalties",
        {"case_id": TEXT, "inspection_id": TEXT, "enterprise_id": TEXT, "agency_code": TEXT, "filed_date": DATE,
         "decision_date": DATE, "fine_company": NUMBER, "fine_person": NUMBER, "for_major_hazard": BOOL,
         "hazard_id": TEXT, "transferred": BOOL, "review_score": NUMBER, "case_reported": BOOL,
         "key_unit": BOOL, "industry": TEXT, "enterprise_county": TEXT},
        "agency_code", "agency", "filed_date", "case_id"),
    "plans": Source(
        "plans",
        {"agency_code": TEXT, "year": NUMBER, "planned_inspections": NUMBER},
        "agency_code", "agency", None, "agency_code"),
    "enterprises": Source(
        "enterprises",
        {"enterprise_id": TEXT, "name": TEXT, "county_code": TEXT, "industry": TEXT, "key_unit": BOOL},
        "county_code", "location", None, "enterprise_id"),
}


# --- enforcement capacity and case reporting (methodology §7; marts in etl.marts) ---------------------
# Officers "in post on the period's last day" are a window = "as_of" on start_date with the filter
# NOT end_date <= period_end (an end date is the first day out of post).
SOURCES["officers"] = Source(
    "officers",
    {"officer_id": TEXT, "agency_code": TEXT, "name": TEXT, "post": TEXT, "degree": BOOL, "qualification": BOOL,
     "experience": BOOL, "qualified": BOOL, "entry_training_days": NUMBER, "start_date": DATE, "end_date": DATE},
    "agency_code", "agency", "start_date", "officer_id")
SOURCES["training"] = Source(
    "training",
    {"training_id": TEXT, "officer_id": TEXT, "year": NUMBER, "refresher_days": NUMBER, "agency_code": TEXT,
     "name": TEXT, "post": TEXT, "qualified": BOOL, "start_date": DATE, "end_date": DATE},
    "agency_code", "agency", "start_date", "training_id")
SOURCES["establishment"] = Source(
    "establishment",
    {"agency_code": TEXT, "year": NUMBER, "posts": NUMBER},
    "agency_code", "agency", None, "agency_code")
# one record per bureau and reporting window that has ended (province bureau: half-years; city
# bureau: quarters; county bureau: two months), placed on that bureau's own unit only; met = a case
# of that bureau with 典型案例报送 = 是 was filed in the window
SOURCES["report_windows"] = Source(
    "report_windows",
    {"window_id": TEXT, "agency_code": TEXT, "agency_level": TEXT, "window_name": TEXT, "window_start": DATE,
     "window_end": DATE, "reported_cases": NUMBER, "met": BOOL, "case_ids": TEXT},
    "agency_code", "own", "window_end", "window_id")


def unit_column(level: str) -> str:
    """The mart column holding the unit of ``level`` a record counts for (etl.marts)."""
    from etl.marts import UNIT_COLUMNS

    return UNIT_COLUMNS[LEVEL_OF_CHINESE[level_name(level)]]


_STORED = contextvars.ContextVar("stored_marts", default=False)


@contextlib.contextmanager
def switched(var: contextvars.ContextVar, value):
    """Within: ``var`` holds ``value`` (in this thread or task only); after, what it held before."""
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def stored_marts():
    """Within: records are read from the large marts' stored tables (etl.marts.STORED: their
    few-valued text columns as ENUMs) instead of their views — the panel's build, which groups
    by the unit columns and outputs only codes from ``regions`` and numbers, so the ENUMs never
    leave the query (they compare with text as text does, and casting each row back to text
    cost the build a fifth of its time)."""
    return switched(_STORED, True)


def mart_table(table: str) -> str:
    """The table ``placed_sql`` reads ``table``'s records from (see stored_marts)."""
    from etl.marts import STORED, STORED_PREFIX

    mart = SOURCES[table].mart
    return STORED_PREFIX + mart if _STORED.get() and mart in STORED else mart


def placed_sql(table: str, level: str, province: str | None, extra: tuple[str, ...] = (), *,
               unit_col: str | None = None, only: str | None = None) -> str:
    """SELECT unit, <the source's columns> (+ ``extra`` mart columns): the table's records that
    count for a unit of ``level`` in ``province`` (None: every province, as the panel mart is
    built). A filter on the stamped marts, no join.
    ``unit_col`` names the mart column to place by instead (``province_code``: everything of the
    province, as the KPI tiles of a province count); ``only`` keeps one unit's records."""
    src = SOURCES[table]
    unit = unit_col or unit_column(level)
    cols = ", ".join(f's."{c}"' for c in dict.fromkeys([*src.columns, *extra]))
    one = f" AND s.{unit} = {sql_literal(str(only))}" if only is not None else ""
    where = f"s.province_code = {sql_literal(str(province))}" if province is not None else "s.province_code IS NOT NULL"
    return f"SELECT s.{unit} AS unit, {cols} FROM {mart_table(table)} s WHERE {where} AND s.{unit} IS NOT NULL{one}"


# A unit "has records" in a period (and is assessed) when it inspected, found a hazard or filed a case.
ACTIVITY = ("inspections", "hazards", "penalties")


def level_name(level: str) -> str:
    """'city'/'county'/'province' (or 市/县/省) → the regions.level value."""
    if level in LEVELS:
        return LEVELS[level]
    if level in LEVEL_OF_CHINESE:
        return level
    raise ValueError(f"unknown level {level!r}: use city, county or province")


def units_sql(level: str, province: str | None) -> str:
    """Every region of the level in the province (None: in every province): a row each, records or not."""
    one = f" AND province_code = {sql_literal(province)}" if province is not None else ""
    return f"SELECT code, name FROM regions WHERE level = {sql_literal(level_name(level))}{one}"


def city_of_sql(province: str) -> str:
    """region code → its city (for scoring counties within each city)."""
    return f"SELECT code, city_code FROM regions WHERE province_code = {sql_literal(province)}"
