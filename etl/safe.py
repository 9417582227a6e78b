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
        s = out[col]
        if s.dtype == object or str(s.dtype).startswith(("string", "str")):
            try:  # vectorised: most columns hold no risky cell and are left as they are
                risky = bool(s.str.startswith(FORMULA_STARTS, na=False).any())
            except (AttributeError, TypeError):  # an object column without text (dates, mixed)
                risky = True
            if risky:
                out[col] = s.map(safe_cell).astype(object)
    out.columns = [safe_cell(str(c)) if isinstance(c, str) else c for c in out.columns]
    return out


def safe_result(value):
    """What a data layer hands to a page, made formula-safe all through: a DataFrame via safe_frame,
    a dataclass's or a dict's DataFrame members likewise; anything else as it is. A grid's own
    "Download as CSV" (Streamlit's st.dataframe) only quotes cells, so the frame it shows must be
    safe already."""
    import dataclasses

    import pandas as pd

    if isinstance(value, pd.DataFrame):
        return safe_frame(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: safe_frame(getattr(value, f.name)) for f in dataclasses.fields(value)
                   if f.init and isinstance(getattr(value, f.name), pd.DataFrame)}
        return dataclasses.replace(value, **changes) if changes else value
    if isinstance(value, dict):
        return {k: safe_frame(v) if isinstance(v, pd.DataFrame) else v for k, v in value.items()}
    return value


def csv_bytes(df, *, index: bool = False) -> bytes:
    """A DataFrame as a CSV download Excel opens as it is (UTF-8 with BOM), formula-safe."""
    return safe_frame(df).to_csv(index=index).encode("utf-8-sig")
