"""Empty templates for each table of the contract: the headers users type, and a notes sheet."""
from __future__ import annotations

import csv
from pathlib import Path

from etl.contract import Column, Table, load_contract

TYPE_NOTES = {
    "id": "编号", "text": "文本", "region": "6位区划代码", "region_code": "6位区划代码",
    "credit_code": "18位统一社会信用代码", "date": "日期，如 2024-03-05", "amount": "金额（元），可写 1,234.5 或 1.2万",
    "bool": "是/否", "int": "整数", "score": "数字", "enum": "取值见说明",
}


def column_note(t: Table, c: Column) -> str:
    parts = [TYPE_NOTES.get(c.type, c.type)]
    if c.values:
        parts.append("可选：" + " / ".join(c.values))
    if c.region_levels:
        parts.append("层级：" + "/".join(c.region_levels))
    if c.ref:
        ref_table = c.ref.split(".")[0]
        parts.append(f"须已存在于{load_contract()[ref_table].title}")
    if c.default is not None:
        parts.append(f"空白视为{'是' if c.default is True else '否' if c.default is False else c.default}")
    if c.required_if:
        parts.append(f"“{t.column(c.required_if).header}”为是时必填")
    if c.required_unless_level:
        parts.append(f"层级不是{c.required_unless_level}时必填")
    # the bounds and orderings the loader checks, so that a row is not set aside by surprise
    if c.type == "date":
        if c.min is not None:
            parts.append(f"不早于{c.min}")
        if c.max == "today":
            parts.append("不晚于今天")
    elif c.type in ("int", "score"):
        if c.min is not None and c.max is not None:
            parts.append(f"{c.min}–{c.max}")
        elif c.min is not None:
            parts.append(f"不小于{c.min}")
    elif c.type == "amount" and c.min == 0:
        parts.append("不能为负")
    if c.not_before:
        if " via " in c.not_before:
            target, _ = c.not_before.split(" via ")
            rt, rc = target.split(".")
            ref = load_contract()[rt]
            parts.append(f"不早于{ref.title}的{ref.column(rc).header}")
        else:
            parts.append(f"不早于{t.column(c.not_before).header}")
    return "；".join(parts)


def write_template(table: str, out: str | Path) -> Path:
    contract = load_contract()
    if table not in contract.tables:
        raise KeyError(f"unknown table {table!r}; one of: {', '.join(contract.order)}")
    t = contract[table]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    headers = [c.header for c in t.columns]
    if out.suffix.lower() == ".csv":
        with open(out, "w", encoding="utf-8-sig", newline="") as fh:
            csv.writer(fh).writerow(headers)
        return out
    import openpyxl
    from openpyxl.styles import Font, PatternFill

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = t.title
    ws.append(headers)
    for i, c in enumerate(t.columns, start=1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="C00000" if c.required else "000000")
        cell.fill = PatternFill("solid", fgColor="F2F2F2")
        ws.column_dimensions[cell.column_letter].width = max(14, len(c.header) * 2 + 4)
    notes = wb.create_sheet("填写说明")
    notes.append(["列名", "英文名", "必填", "说明"])
    for c in t.columns:
        notes.append([c.header, c.name, "是" if c.required else "否", column_note(t, c)])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["D"].width = 60
    wb.save(out)
    return out
