"""Excel exports of the tables the pages show (openpyxl; presentation only)."""
from __future__ import annotations

import datetime as dt
import io

import pandas as pd

from etl.safe import safe_cell
from ui.display import DASH


def to_excel(sheets: dict[str, pd.DataFrame], notes: list[tuple[str, str]] | None = None,
             fills: dict[str, dict[int, str]] | None = None) -> bytes:
    """An .xlsx with one sheet per frame (bold header, sensible widths, frozen header row) and a
    说明 sheet of (item, value) notes. `fills` = {sheet: {row position: hex colour}} colours
    whole rows (e.g. warned units). Text cells are made formula-safe (etl.safe.safe_cell)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for title, df in sheets.items():
        ws = wb.create_sheet(title[:31])
        ws.append([safe_cell(str(c)) for c in df.columns])
        for row in df.itertuples(index=False):
            ws.append([_cell(v) for v in row])
        for i, col in enumerate(df.columns, start=1):
            cell = ws.cell(row=1, column=i)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE7F0")
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            width = max([len(str(col)) * 2] + [len(str(v)) * (2 if _cjk(v) else 1) for v in df[col].head(200)])
            ws.column_dimensions[get_column_letter(i)].width = min(max(8, width + 2), 60)
        ws.freeze_panes = "A2"
        for pos, colour in (fills or {}).get(title, {}).items():
            for i in range(1, len(df.columns) + 1):
                ws.cell(row=pos + 2, column=i).fill = PatternFill("solid", fgColor="FF" + colour.lstrip("#").upper())
    ws = wb.create_sheet("说明")
    for k, v in [("导出时间", dt.datetime.now().strftime("%Y-%m-%d %H:%M"))] + list(notes or []):
        ws.append([safe_cell(k), safe_cell(v)])
    ws.column_dimensions["A"].width = 16
    ws.column_dimensions["B"].width = 80
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _cjk(v) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in str(v))


def _cell(v):
    """A cell as people read it: a missing value is — (pages pass ui.display.plain frames, whose
    missing cells already say why), never an empty cell that reads as zero or 'None'."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
        return DASH
    if isinstance(v, (list, tuple)):
        return ", ".join(DASH if pd.isna(x) else f"{x:g}" if isinstance(x, float) else str(x) for x in v)
    if hasattr(v, "item") and not isinstance(v, str):
        try:
            v = v.item()
        except (ValueError, AttributeError):
            pass
    if isinstance(v, pd.Timestamp):
        return v.to_pydatetime()
    if isinstance(v, str):
        return safe_cell(v)
    return v
