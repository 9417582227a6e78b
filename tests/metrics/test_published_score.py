"""The published score adds up everywhere a unit reads it (methodology §3, issue 12): for every
unit and quarter of the demo, the published item points + bonus − deduction equal the published
score — in the command line's CSV, in the Excel score sheet and in every notice's wording."""
import csv
import datetime as dt
import io
import re

import duckdb
import openpyxl
import pytest

from metrics.__main__ import main
from metrics.periods import Period
from metrics.scheme import load_scheme
from metrics.panel import score_panel
from metrics.score import compute_score

QUARTERS = [f"{y}Q{q}" for y in (2023, 2024, 2025) for q in (1, 2, 3, 4)]
LEVELS = ("city", "county")


def adds_up(items: list[float], bonus: float, deduction: float, score: float, top: float) -> bool:
    return round(min(max(sum(items) + bonus - deduction, 0.0), top), 1) == score


@pytest.fixture(scope="module")
def scheme():
    return load_scheme()


@pytest.fixture(scope="module")
def sheets(demo_db, scheme):
    """compute_score's frame of every quarter and level (score_panel: the same frames in one query
    a level, tests/metrics/test_panel.py)."""
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        out = {}
        for lv in LEVELS:
            panel = score_panel(con, QUARTERS, lv, "330000", scheme)
            out.update({(q, lv): g.drop(columns="period").reset_index(drop=True) for q, g in panel.groupby("period")})
        assert len(out) == len(QUARTERS) * len(LEVELS)
        yield out
    finally:
        con.close()


def test_the_command_line_rows_add_up(demo_db, scheme, capsys):
    item_cols = [f"{it.indicator}_points" for it in scheme.score.items]
    checked = 0
    for lv in LEVELS:
        for q in QUARTERS:
            assert main(["score", "--quarter", q, "--level", lv, "--db", str(demo_db)]) == 0
            rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
            for r in rows:
                if r["score"] == "":
                    assert all(r[c] == "" for c in item_cols)
                    continue
                items = [float(r[c]) for c in item_cols]
                assert all(re.fullmatch(r"\d+\.\d", r[c]) for c in item_cols), r  # one decimal, as published
                assert adds_up(items, float(r["bonus"]), float(r["deduction"]), float(r["score"]), scheme.score.max), \
                    f"{q} {lv} {r['code']} {r['name']}: {items} + {r['bonus']} − {r['deduction']} ≠ {r['score']}"
                checked += 1
    assert checked > 12 * (11 + 80)  # every assessed city and county of every quarter


def test_the_score_frame_carries_the_published_items(demo_db, sheets):
    """Every consumer reads the frame: its items column is the sum of its one-decimal item points,
    and compute_score (what the pages call) agrees with the panel on a quarter."""
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        one = compute_score(con, "2025Q4", "county", "330000")
    finally:
        con.close()
    cols = ["code", "score", "items", "bonus", "deduction", "plan_completion_points", "mobile_share_points"]
    assert one[cols].equals(sheets[("2025Q4", "county")][cols])
    for (q, lv), sheet in sheets.items():
        ok = sheet[sheet["assessed"]]
        item_cols = [c for c in sheet.columns if c.endswith("_points") and c.replace("_points", "_na") in sheet]
        assert (ok[item_cols].sum(axis=1).round(1) == ok["items"]).all(), (q, lv)


def test_the_excel_score_sheet_adds_up(sheets, scheme):
    from official.notice import score_sheet_xlsx

    for (q, lv), sheet in sheets.items():
        wb = openpyxl.load_workbook(io.BytesIO(score_sheet_xlsx(sheet, scheme, f"{q} 得分表")))
        rows = list(wb.active.iter_rows(min_row=2, values_only=True))
        head, body = list(rows[0]), rows[1:]
        item_idx = [i for i, h in enumerate(head) if re.search(r"得分（满分", str(h))]
        assert len(item_idx) == len(scheme.score.items)
        at = {h: i for i, h in enumerate(head)}
        for r in body:
            if r[at["得分"]] in (None, "") or str(r[at["得分"]]).startswith("—"):  # not assessed
                continue
            items = [r[i] for i in item_idx]
            assert all(round(x, 1) == x for x in items), r
            assert round(sum(items), 1) == r[at["项目得分"]]
            assert adds_up(items, r[at["加分"]], r[at["扣分"]], r[at["得分"]], scheme.score.max), (q, lv, r)


def test_every_notice_adds_up(demo_db, sheets, scheme):
    """Each warned unit's notice: 得分 = 项目得分 + 加分 − 扣分 as the wording prints them, the
    项目得分 is the sum of the unit's published item points, and each lost item's 得 + 失 = 满分."""
    from official.notice import build_notices, context, load_settings, load_template, render_wording

    settings, template = load_settings(), load_template()
    con = duckdb.connect(str(demo_db), read_only=True)
    n = 0
    try:
        for (q, lv), sheet in sheets.items():
            rows = sheet.set_index("code")
            for data in build_notices(con, q, lv, "330000", scheme, settings, score=sheet):
                day = Period.parse(q).end + dt.timedelta(days=10)
                text = "\n".join(b.text for b in render_wording(template, context(data, settings, "测〔2026〕1号", day, day)))
                score = float(re.search(r"你局得分(\d+\.\d)分", text).group(1))
                items, bonus, ded = map(float, re.search(
                    r"项目得分([\d.]+)分，加分([\d.]+)分，扣分([\d.]+)分", text).groups())
                assert not re.search(r"\bNone\b|\bnan\b|NaT|<NA>", text), text
                assert round(items + bonus - ded, 1) == score == rows.loc[data.unit_code, "score"], (q, data.unit_name)
                row = rows.loc[data.unit_code]
                assert round(sum(row[f"{it.indicator}_points"] for it in scheme.score.items), 1) == items
                for got, full, lost in re.findall(r"得([\d.]+)分（满分([\d.]+)分），失([\d.]+)分", text):
                    assert round(float(got) + float(lost), 1) == float(full), (q, data.unit_name, got, full, lost)
                n += 1
    finally:
        con.close()
    assert n >= 12  # at least one notice a quarter on the demo
