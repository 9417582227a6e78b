"""Cells written to CSV/Excel for people: never let a spreadsheet run a value as a formula."""
from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Prefix text that a spreadsheet would read as a formula with an apostrophe (OWASP CSV injection).

    Numbers pass through untouched, so -3 stays a number; only text is guarded.
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(df):
    """A copy of a DataFrame for export: every text cell and every column name through safe_cell
    (numbers, dates and blanks untouched)."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype).startswith(("string", "str")):
            out[col] = out[col].map(safe_cell).astype(object)
    out.columns = [safe_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_bytes(df, *, index: bool = False) -> bytes:
    """A DataFrame as a CSV download Excel opens as it is (UTF-8 with BOM), formula-safe."""
    return safe_frame(df).to_csv(index=index).encode("utf-8-sig")
