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
