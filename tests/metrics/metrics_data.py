"""Hand-made warehouses for metrics tests: a few records with every other field defaulted.

Real Zhejiang region codes (the reference regions ship with the warehouse schema):
杭州 330100 with counties 330102 上城 / 330105 拱墅 / 330106 西湖; 宁波 330200 with 330203 海曙.
"""
from __future__ import annotations

import datetime as dt
import itertools
from functools import cache
from pathlib import Path

import duckdb
import pandas as pd

from etl import warehouse

D = dt.date.fromisoformat
ZJ_CITIES = ["330100", "330200", "330300", "330400", "330500", "330600",
             "330700", "330800", "330900", "331000", "331100"]
COUNTY_OF = {"330100": "330102", "330200": "330203", "330300": "330302", "330400": "330402",
             "330500": "330502", "330600": "330602", "330700": "330702", "330800": "330802",
             "330900": "330902", "331000": "331002", "331100": "331102"}


def hangzhou_q1() -> Data:
    """The hand-checked scenario of test_indicators.py (2024Q1, 杭州 and two of its counties).

    Enterprises: E1 上城 key, E2 上城, E3 拱墅 key, E4 拱墅, E5 宁波海曙 key.
    Inspections: I1 上城→E1 01-10 mobile; I2 上城→E1 02-10; I3 杭州市局→E3 03-05 mobile;
    I4 拱墅→E4 03-31 mobile; I5 上城→E2 2023-12-31; I6 省厅→E2 02-01; I7 宁波市局→E5 01-15;
    I8 拱墅→E3 04-01.
    """
    d = Data()
    e1 = d.enterprise("330102", key=True, eid="E1")
    e2 = d.enterprise("330102", eid="E2")
    e3 = d.enterprise("330105", key=True, eid="E3")
    e4 = d.enterprise("330105", eid="E4")
    e5 = d.enterprise("330203", key=True, eid="E5")
    i1 = d.inspection("330102", e1, "2024-01-10", mobile=True, iid="I1")
    i2 = d.inspection("330102", e1, "2024-02-10", iid="I2")
    i3 = d.inspection("330100", e3, "2024-03-05", mobile=True, iid="I3")
    i4 = d.inspection("330105", e4, "2024-03-31", mobile=True, iid="I4")
    i5 = d.inspection("330102", e2, "2023-12-31", iid="I5")
    i6 = d.inspection("330000", e2, "2024-02-01", iid="I6")
    d.inspection("330200", e5, "2024-01-15", iid="I7")
    d.inspection("330105", e3, "2024-04-01", iid="I8")
    d.hazard(i1, "2024-01-10", deadline="2024-02-10", rectified="2024-02-01", hid="H1")
    d.hazard(i1, "2024-01-10", major=True, deadline="2024-03-01", rectified="2024-03-05", hid="H2")
    d.hazard(i3, "2024-03-05", deadline="2024-04-05", hid="H3")
    d.hazard(i3, "2024-03-05", needs=False, key_matter=True, hid="H4")
    d.hazard(i4, "2024-03-31", major=True, deadline="2024-04-30", rectified="2024-04-10", hid="H5")
    d.hazard(i5, "2023-12-31", major=True, deadline="2024-01-31", hid="H6")
    d.hazard(i6, "2024-02-01", major=True, hid="H7")
    d.hazard(i2, "2024-02-10", major=True, deadline="2024-03-10", rectified="2024-03-10", hid="H8")
    d.penalty("330102", e1, "2024-01-20", decided="2024-01-25", fine_company=30000, fine_person=5000, major=True,
              review=90, transferred=True, cid="P1")
    d.penalty("330100", e3, "2024-03-10", decided=None, fine_company=20000, cid="P2")
    d.penalty("330105", e4, "2024-02-15", decided="2024-04-20", fine_person=10000, review=80, reported=True, cid="P3")
    d.penalty("330102", e2, "2023-11-01", fine_company=1000, cid="P4")
    d.penalty("330000", e2, "2024-02-02", fine_company=5000, cid="P5")
    d.plan("330102", 2024, 40)
    d.plan("330105", 2024, 20)
    d.plan("330100", 2024, 12)
    d.plan("330102", 2023, 100)
    return d


def scored_unit(d: Data, agency: str, mobile: int, n: int = 10, quarter: int = 1, year: int = 2024,
                county: str | None = None) -> None:
    """Give ``agency`` a quarter whose score is easy to hand-check: ``n`` inspections of a
    non-key enterprise, ``mobile`` of them via the mobile terminal, nothing else. Every other item
    is NA and scores full points (key_coverage 15, rectification_due 20, penalty_rate 15,
    major_filing 10, dual_penalty 10), so the score is plan points + 70 + 10 × mobile / n; with no
    plan (0 points, 无计划) it is 70 + 10 × mobile / n. Add a plan with d.plan(agency, year, P):
    plan points = 20 × min(n / (P / 4), 1)."""
    e = d.enterprise(county or (agency if agency[4:] != "00" else COUNTY_OF[agency]))
    start = dt.date(year, 3 * quarter - 2, 1)
    for k in range(n):
        d.inspection(agency, e, start + dt.timedelta(days=k % 28), mobile=k < mobile)


def _date(x):
    return D(x) if isinstance(x, str) else x


class Data:
    def __init__(self):
        self.rows = {t: [] for t in warehouse.RECORD_TABLES}
        self._ids = itertools.count(1)

    def _id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):06d}"

    def enterprise(self, county: str, key: bool = False, industry: str = "工贸其他", eid: str | None = None) -> str:
        eid = eid or self._id("E")
        self.rows["enterprises"].append(dict(enterprise_id=eid, name=f"企业{eid}", county_code=county,
                                             industry=industry, key_unit=key))
        return eid

    def plan(self, agency: str, year: int, planned: int) -> None:
        self.rows["plans"].append(dict(agency_code=agency, year=year, planned_inspections=planned))

    def inspection(self, agency: str, enterprise: str, date, mobile: bool = False, iid: str | None = None,
                   type: str = "双随机", expert: bool = False) -> str:
        iid = iid or self._id("I")
        self.rows["inspections"].append(dict(inspection_id=iid, enterprise_id=enterprise, agency_code=agency,
                                             inspection_date=_date(date), inspection_type=type,
                                             via_mobile=mobile, with_expert=expert))
        return iid

    def hazard(self, inspection: str, found, major: bool = False, needs: bool = True, deadline=None,
               rectified=None, key_matter: bool = False, hid: str | None = None) -> str:
        hid = hid or self._id("H")
        found = _date(found)
        if needs and deadline is None:
            deadline = found + dt.timedelta(days=30)
        self.rows["hazards"].append(dict(hazard_id=hid, inspection_id=inspection, found_date=found, is_major=major,
                                         key_matter=key_matter, needs_rectification=needs,
                                         deadline=_date(deadline), rectified_date=_date(rectified)))
        return hid

    def penalty(self, agency: str, enterprise: str, filed, decided="same", fine_company: float = 0.0,
                fine_person: float = 0.0, major: bool = False, transferred: bool = False, review=None,
                reported: bool = False, inspection: str | None = None, cid: str | None = None) -> str:
        cid = cid or self._id("C")
        filed = _date(filed)
        self.rows["penalties"].append(dict(
            case_id=cid, inspection_id=inspection, enterprise_id=enterprise, agency_code=agency, filed_date=filed,
            decision_date=filed if decided == "same" else _date(decided), fine_company=fine_company,
            fine_person=fine_person, for_major_hazard=major, hazard_id=None, transferred=transferred,
            review_score=review, case_reported=reported))
        return cid

    def officer(self, agency: str, post: str = "行政执法", start="2020-01-01", end=None, degree: bool = False,
                qualification: bool = False, experience: bool = False, oid: str | None = None) -> str:
        oid = oid or self._id("O")
        self.rows["officers"].append(dict(
            officer_id=oid, agency_code=agency, name=f"人员{oid}", post=post, degree=degree,
            qualification=qualification, experience=experience, entry_training_days=90,
            start_date=_date(start), end_date=_date(end)))
        return oid

    def training(self, officer: str, year: int, days: float) -> None:
        self.rows["training"].append(dict(officer_id=officer, year=year, refresher_days=days))

    def posts(self, agency: str, year: int, posts: int) -> None:
        self.rows["establishment"].append(dict(agency_code=agency, year=year, posts=posts))

    # --- building -----------------------------------------------------------------------------
    def frames(self) -> dict[str, pd.DataFrame]:
        out = {}
        for table, rows in self.rows.items():
            cols = [c for c in _columns(table) if c != "load_id"]
            out[table] = pd.DataFrame(rows, columns=cols)
        return out

    def insert(self, con: duckdb.DuckDBPyConnection, order=None) -> None:
        for table, df in self.frames().items():
            if order is not None and len(df):
                df = df.iloc[order(len(df))]
            if df.empty:
                continue
            con.register("_rows", df)
            cols = ", ".join(df.columns)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM _rows")
            con.unregister("_rows")

    def replace_into(self, con: duckdb.DuckDBPyConnection, order=None) -> duckdb.DuckDBPyConnection:
        """Make ``con`` (a memory() warehouse) hold exactly these records: cheaper than a new one."""
        for table in warehouse.RECORD_TABLES:
            con.execute(f"DELETE FROM {table}")
        self.insert(con, order)
        return con

    def build(self, path: Path) -> Path:
        """A warehouse file via etl.warehouse.write (the way loads build it)."""
        with warehouse.write(path, fresh=True) as con:
            self.insert(con)
        return path

    def memory(self, order=None) -> duckdb.DuckDBPyConnection:
        """An in-memory warehouse with the same schema (fast, for property tests)."""
        con = duckdb.connect(config={"threads": 1})  # tiny data: threads only cost here
        con.execute(warehouse.SCHEMA)
        con.register("_regions", _regions())
        con.execute("INSERT INTO regions SELECT * FROM _regions")
        con.unregister("_regions")
        self.insert(con, order)
        return con


@cache
def _regions() -> pd.DataFrame:
    from etl.regions import reference_regions

    df = reference_regions()
    return df[df.province_code.isin(["330000", "510000"])].reset_index(drop=True)


@cache
def _columns(table: str) -> list[str]:
    con = duckdb.connect()
    con.execute(warehouse.SCHEMA)
    return [r[0] for r in con.execute(f"DESCRIBE {table}").fetchall()]
