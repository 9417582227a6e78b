"""The bulletin as a document: `python -m metrics bulletin` writes a .docx that python-docx opens
with every section, whose annex tables hold the command line's figures, and an .xlsx beside it."""
import contextlib
import csv
import io

import docx
import openpyxl
import pytest

from metrics.__main__ import main

SECTIONS = ["一、总体情况", "二、主要指标分析", "三、各地排名", "四、预警与表扬", "五、存在问题", "六、工作要求"]


def _run(*args) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(list(args))
        except SystemExit as e:
            rc = e.code
    return rc, out.getvalue(), err.getvalue()


def _csv(db, *args) -> dict[str, dict]:
    rc, out, _ = _run("--db", str(db), *args)
    assert rc == 0
    return {r["code"]: r for r in csv.DictReader(io.StringIO(out))}


def _table_rows(t) -> list[list[str]]:
    """Cell texts; the document's dash for a value not applicable is the CSV's empty cell."""
    return [["" if c.text == "—" else c.text for c in row.cells] for row in t.rows]


@pytest.fixture(scope="module", params=["2025Q4", "2025"])
def made(request, demo_db, tmp_path_factory):
    out = tmp_path_factory.mktemp("bulletin") / f"通报-{request.param}.docx"
    rc, stdout, err = _run("--db", str(demo_db), "bulletin", "--period", request.param, "--out", str(out),
                           "--date", "2026-01-10")
    assert rc == 0, err
    assert stdout.split() == [str(out), str(out.with_name(out.stem + "-附件.xlsx"))]
    return request.param, out


def test_the_document_opens_with_every_section_and_the_command_lines_figures(made, demo_db):
    period, path = made
    d = docx.Document(str(path))
    text = [p.text for p in d.paragraphs]
    for heading in SECTIONS:
        assert heading in text
    assert any(t.startswith("关于" + ("2025年第4季度" if period == "2025Q4" else "2025年")) for t in text)
    assert "2026年1月10日" in text
    sec = d.sections[0]
    assert round(sec.top_margin.mm) == 37 and round(sec.left_margin.mm) == 28
    # the index annex is the command line's index table, row by row
    idx = _csv(demo_db, "index", "--period", period)
    by_name = {r["name"]: c for c, r in idx.items()}   # the document shows names; codes are in the .xlsx
    annex = next(t for t in d.tables if t.rows[0].cells[0].text == "名次" and "执法效能指数" in
                 [c.text for c in t.rows[0].cells])
    rows = _table_rows(annex)
    head = rows[0]
    assert len(rows) - 1 == len(idx)
    for r in rows[1:]:
        cli = idx[by_name[r[head.index("单位")]]]
        assert (r[head.index("执法效能指数")], r[head.index("名次")], r[head.index("F 执法质量")]) == \
            (cli["index"], cli["rank"], cli["F"])
    if period == "2025Q4":
        score = _csv(demo_db, "score", "--quarter", period)
        sheet = next(t for t in d.tables if {"得分", "减分"} <= {c.text for c in t.rows[0].cells})
        rows = _table_rows(sheet)
        head = rows[0]
        for r in rows[1:]:
            cli = score[by_name[r[head.index("单位")]]]
            assert (r[head.index("得分")], r[head.index("名次")]) == (cli["score"], cli["rank"])
        warned = [c["name"] for c in score.values() if c["warned"] == "true"]
        assert warned and all(any(n in t and "列入预警名单" in t for t in text) for n in warned)
        # 同比 and 环比 on the headline table
        assert _table_rows(d.tables[0])[0][3:] == ["同比", "2025年第3季度", "环比"]
    else:
        assert "环比" not in _table_rows(d.tables[0])[0]
        assert any("予以通报表扬" in t for t in text)


def test_the_annex_workbook_holds_the_annex_tables(made):
    _, path = made
    wb = openpyxl.load_workbook(path.with_name(path.stem + "-附件.xlsx"))
    assert wb.sheetnames == ["附件1", "附件2", "附件3"]
    ws = wb["附件2"]
    assert "执法效能指数" in ws.cell(1, 1).value
    header = [c.value for c in ws[2]]
    assert header[:4] == ["名次", "单位", "代码", "执法效能指数"]
    assert isinstance(ws.cell(3, 4).value, float)   # typed numbers, not display text


def test_bad_usage_and_refusals(demo_db, tmp_path):
    rc, _, err = _run("--db", str(demo_db), "bulletin", "--period", "2025-03", "--out", str(tmp_path / "x.docx"))
    assert rc == 2 and "quarter" in err
    rc, _, err = _run("--db", str(demo_db), "bulletin", "--period", "2025Q4", "--out", str(tmp_path / "x.pdf"))
    assert rc == 2 and ".docx" in err
    rc, _, err = _run("--db", str(tmp_path / "none.duckdb"), "bulletin", "--period", "2025", "--out",
                      str(tmp_path / "x.docx"))
    assert rc == 1 and "no warehouse" in err
    bad = tmp_path / "w.txt"
    bad.write_text("{% if %}", encoding="utf-8")
    rc, _, err = _run("--db", str(demo_db), "bulletin", "--period", "2025Q4", "--out", str(tmp_path / "x.docx"),
                      "--wording", str(bad))
    assert rc == 1 and "w.txt" in err


def test_the_one_page_brief(demo_db, tmp_path):
    import datetime as dt
    import shutil

    from etl import warehouse
    from metrics.bulletin import build_bulletin, brief_lines
    from official.bulletin import brief_docx, to_pdf_preview

    with warehouse.connect_read(demo_db) as con:
        b = build_bulletin(con, "2025Q4")
    data = brief_docx(b, made_on=dt.date(2026, 1, 10))
    d = docx.Document(io.BytesIO(data))
    text = [p.text for p in d.paragraphs]
    assert "一、主要数据" in text and "二、排名与预警" in text
    assert _table_rows(d.tables[0])[0][3:] == ["同比", "2025年第3季度", "环比"]
    lines = brief_lines(b)
    assert all(line in text for line in lines)
    first = b.frames["index"].sort_values("rank").iloc[0]
    assert lines[0].startswith(f"指数排名：11个设区市中最高{first['name']}（{first['index']:.1f}）")
    assert any(line.startswith("预警名单（2025年第4季度）：") for line in lines)
    if shutil.which("soffice"):   # a layout preview: one page
        import re

        from official.bulletin import PREVIEW_NOTE

        marked = brief_docx(b, made_on=dt.date(2026, 1, 10), preview=True)
        assert PREVIEW_NOTE in [p.text for p in docx.Document(io.BytesIO(marked)).paragraphs]
        assert PREVIEW_NOTE not in text
        pdf = to_pdf_preview(marked)
        assert len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf)) == 1


def test_the_warned_units_carry_their_notices_numbers(demo_db, tmp_path):
    import datetime as dt
    import shutil

    from etl import warehouse
    from metrics.bulletin import NOT_ISSUED, build_bulletin
    from metrics.score import warnings
    from official import log
    from official.bulletin import notice_numbers

    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    with warehouse.connect_read(db) as con:
        warned = warnings(con, "2025Q4")
    assert len(warned) >= 2
    first = warned.iloc[0]
    issued = log.issue(db, [log.NoticeRequest(first["code"], first["name"], "city", "2025Q4", first["score"])],
                       prefix="浙应急函", issued_on=dt.date(2026, 1, 5))
    with warehouse.connect_read(db) as con:
        b = build_bulletin(con, "2025Q4", numbers=notice_numbers(db))   # the store beside the warehouse
    got = b.frames["warned"].set_index("code")["number"]
    assert got[first["code"]] == issued[0].number == "浙应急函〔2026〕1号"
    assert (got.drop(first["code"]) == NOT_ISSUED).all()
    text = "\n".join(b.paragraphs())
    assert f"已对其中1个发提醒敦促函（文号见下表）" in text
    table = next(bl.table for s in b.sections for bl in s.blocks if bl.kind == "table" and bl.table.key == "warned")
    assert [issued[0].number] == [r[-1] for r in table.rows if r[1] == first["name"]]
