"""Reporting periods: a month, a quarter or a year, parsed from '2024-03', '2024Q3', '2024'.

Every figure belongs to the period that holds its record's date; pro-rated targets and plans need
how many months the period spans and how many months of its year have elapsed at its end.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

_YEAR = re.compile(r"^\s*(\d{4})\s*(?:年)?\s*$")
_QUARTER = re.compile(r"^\s*(\d{4})\s*(?:[Qq]|年第)\s*([1-4])\s*(?:季度)?\s*$")
_MONTH = re.compile(r"^\s*(\d{4})\s*(?:-|/|年)\s*(\d{1,2})\s*(?:月)?\s*$")


@dataclass(frozen=True, order=True)
class Period:
    """A calendar period. ``kind`` is 'year', 'quarter' or 'month'; ``number`` the quarter or month."""

    year: int
    kind: str = "year"
    number: int = 0

    def __post_init__(self):
        if not 1900 <= self.year <= 2999:
            raise ValueError(f"year out of range: {self.year}")
        valid = {"year": range(0, 1), "quarter": range(1, 5), "month": range(1, 13)}
        if self.kind not in valid or self.number not in valid[self.kind]:
            raise ValueError(f"not a period: {self.kind} {self.number}")

    @classmethod
    def parse(cls, text: str | Period) -> Period:
        """'2024' → the year, '2024Q3' → a quarter, '2024-03' → a month (Chinese forms accepted)."""
        if isinstance(text, Period):
            return text
        s = str(text)
        if m := _YEAR.match(s):
            return cls(int(m[1]))
        if m := _QUARTER.match(s):
            return cls(int(m[1]), "quarter", int(m[2]))
        if (m := _MONTH.match(s)) and 1 <= int(m[2]) <= 12:
            return cls(int(m[1]), "month", int(m[2]))
        raise ValueError(f"not a period: {text!r} (use 2024, 2024Q3 or 2024-03)")

    # --- bounds -----------------------------------------------------------------------------
    @property
    def first_month(self) -> int:
        return {"year": 1, "quarter": 3 * self.number - 2, "month": self.number}[self.kind]

    @property
    def months(self) -> int:
        """How many months the period spans (12, 3 or 1): plans are pro-rated by this."""
        return {"year": 12, "quarter": 3, "month": 1}[self.kind]

    @property
    def months_elapsed(self) -> int:
        """Months of the year elapsed at the period's end: year-to-date targets scale by this / 12."""
        return self.first_month + self.months - 1

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end(self) -> dt.date:
        """The period's last day (inclusive)."""
        m = self.months_elapsed
        nxt = dt.date(self.year + 1, 1, 1) if m == 12 else dt.date(self.year, m + 1, 1)
        return nxt - dt.timedelta(days=1)

    @property
    def year_start(self) -> dt.date:
        return dt.date(self.year, 1, 1)

    # --- neighbours -------------------------------------------------------------------------
    def previous(self) -> Period:
        if self.kind == "year":
            return Period(self.year - 1)
        if self.number == 1:
            return Period(self.year - 1, self.kind, 4 if self.kind == "quarter" else 12)
        return Period(self.year, self.kind, self.number - 1)

    def year_ago(self) -> Period:
        return Period(self.year - 1, self.kind, self.number)

    def quarters(self) -> list[Period]:
        """The quarters of this period's year (commendations average them)."""
        return [Period(self.year, "quarter", q) for q in range(1, 5)]

    # --- names ------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """Chinese label for pages and notices: 2024年, 2024年第3季度, 2024年3月."""
        if self.kind == "year":
            return f"{self.year}年"
        if self.kind == "quarter":
            return f"{self.year}年第{self.number}季度"
        return f"{self.year}年{self.number}月"

    def __str__(self) -> str:
        if self.kind == "year":
            return str(self.year)
        if self.kind == "quarter":
            return f"{self.year}Q{self.number}"
        return f"{self.year}-{self.number:02d}"
