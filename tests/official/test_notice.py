"""提醒敦促函: documents reopened with python-docx (text, tables, margins, fonts), numbering through the
log, the CLI, the ZIP, the Excel annex, previews, the follow-up, and the wording/settings files."""
from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import shutil
import zipfile
from pathlib import Path

import docx
import openpyxl
import pandas as pd
import pytest
from docx.oxml.ns import qn

from etl import warehouse
from official import log as notice_log, notice as N, writer
from metrics.periods import Period

Q = "2024Q3"
ON = dt.date(2024, 10, 15)
BODY_FONT, TITLE_FONT, H1_FONT, H2_FONT = "仿宋_GB2312", "方正小标宋简体", "黑体", "楷体_GB2312"


# --- reading a .docx back ---------------------------------------------------------------------
def east(run) -> str | None:
    rpr = run._r.rPr
    fonts = rpr.find(qn("w:rFonts")) if rpr is not None else None
    return None if fonts is None else fonts.get(qn("w:eastAsia"))


def texts(d) -> list[str]:
    return [p.text for p in d.paragraphs if p.text.strip()]


def para(d, pattern: str):
    found = [p for p in d.paragraphs if re.search(pattern, p.text)]
    assert found, f"no paragraph matches {pattern!r} in:\n" + "\n".join(texts(d))
    return found[0]


def cn(x: float) -> str:
    return N.fmt_number(x)


# --- the demo warehouse, issued once for the module -------------------------------------------------
CONTACT = "联系人：张明，电话：0571-87052345"


@pytest.fixture(scope="module")
def db(demo_db, tmp_path_factory):
    """A copy of the session's demo warehouse, its contact filled in as notice staff would in the
    app (the shipped settings hold a placeholder, which numbering refuses)."""
    from official import config

    p = tmp_path_factory.mktemp("notices") / "warehouse.duckdb"
    shutil.copyfile(demo_db, p)
    config.save(p, {"note": CONTACT}, actor="notice-staff")
    return p


@pytest.fixture(scope="module")
def expected(db):
    from metrics.explain import records
    from metrics.indicators import compute_indicators
    from metrics.scheme import load_scheme
    from metrics.score import compute_score, warnings

    scheme = load_scheme()
    con = warehouse.connect_read(db)
    try:
        warned = warnings(con, Q, "city")
        score = compute_score(con, Q, "city")
        long = compute_indicators(con, Q, "city").set_index(["code", "indicator"])
        hazards = {c: records(con, Q, c, "overdue_major") for c in warned["code"]}
    finally:
        con.close()
    return {"warned": warned, "score": score, "long": long, "hazards": hazards, "scheme": scheme}


@pytest.fixture(scope="module")
def issued(db, tmp_path_factory):
    """python -m metrics notices for the quarter, once: (out dir, (stdout, stderr))."""
    from metrics.__main__ import main

    out = tmp_path_factory.mktemp("out")
    buf_out, buf_err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(buf_out), contextlib.redirect_stderr(buf_err):
        code = main(["--db", str(db), "notices", "--quarter", Q, "--out", str(out), "--date", ON.isoformat(),
                     "--zip", "--annex"])
    assert code == 0, buf_err.getvalue()
    return out, (buf_out.getvalue(), buf_err.getvalue())


@pytest.fixture(scope="module")
def documents(issued, expected):
    out, (stdout, _) = issued
    paths = [Path(line) for line in stdout.splitlines() if line.strip()]
    by_code = {}
    for p in paths:
        d = docx.Document(p)
        code = next(c for c, n in zip(expected["warned"]["code"], expected["warned"]["name"])
                    if para(d, "：$").text.startswith(n))
        by_code[code] = (p, d)
    return by_code


# --- the demo: one notice per warned unit, each with its figures ----------------------------------------
def test_one_notice_per_warned_unit(issued, expected, documents):
    out, (stdout, stderr) = issued
    paths = [Path(line) for line in stdout.splitlines() if line.strip()]
    assert len(expected["warned"]) >= 1
    assert len(paths) == len(expected["warned"]) == len(documents)
    assert all(p.parent == out and p.suffix == ".docx" and p.exists() for p in paths)
    assert sorted(out.glob("*.docx")) == sorted(paths)
    assert "zip:" in stderr and "annex:" in stderr


def test_unit_score_rank_and_peers(documents, expected):
    for row in expected["warned"].itertuples():
        _, d = documents[row.code]
        assert para(d, "应急管理局：$").text == f"{row.name}应急管理局："
        lead = para(d, "^根据").text
        assert f"你局得分{row.score:.1f}分" in lead
        assert f"在全省{row.peers}个设区市中排名第{row.rank}位" in lead  # Zhejiang: every city is a 市
        assert "低于80分且位列后3名" in lead
        assert "2024年第3季度" in lead


def test_lost_items_with_their_figures(documents, expected):
    scheme, score, long = expected["scheme"], expected["score"].set_index("code"), expected["long"]
    spec = scheme.require_score()
    for code, (_, d) in documents.items():
        row = score.loc[code]
        body = "\n".join(texts(d))
        lost = 0
        for it in spec.items:
            name = scheme.indicator(it.indicator).name
            points = float(row[f"{it.indicator}_points"])
            if N.round_half_away(points, 1) >= it.points:
                assert f"）{name}。" not in body, f"{code}: {name} lost no points"
                continue
            lost += 1
            p = para(d, f"^（[一二三四五六七八九十]+）{name}。").text
            assert f"得{cn(points)}分（满分{cn(it.points)}分），失{cn(it.points - N.round_half_away(points, 1))}分" in p
            f = long.loc[(code, it.indicator)]
            if row[f"{it.indicator}_na"]:
                continue
            assert re.search(rf"\D{re.escape(cn(f['numerator']))}\D", p), (name, p)
            assert re.search(rf"\D{re.escape(cn(f['denominator']))}\D", p), (name, p)
            assert f"{N.round_half_away(f['value'] * 100, 1):.1f}%" in p
        overdue = int(row["overdue_major_value"])
        if overdue:
            lost += 1
            p = para(d, "^（[一二三四五六七八九十]+）逾期未整改重大隐患数。").text
            assert f"重大事故隐患{overdue}项，扣{cn(row['overdue_major_points'])}分。" in p
        assert lost == sum(1 for t in texts(d) if re.match(r"^（[一二三四五六七八九十]+）", t)) - 3  # 3 in 三、有关要求
        assert f"扣分{cn(row['deduction'])}分" in body and f"加分{cn(row['bonus'])}分" in body


def test_overdue_major_hazards_are_listed(documents, expected):
    score = expected["score"].set_index("code")
    for code, (_, d) in documents.items():
        hz = expected["hazards"][code]
        assert len(hz) == int(score.loc[code, "overdue_major_value"])
        if hz.empty:
            assert not d.tables and "附件" not in "".join(texts(d))
            continue
        (table,) = d.tables
        header = [c.text for c in table.rows[0].cells]
        assert header == ["序号", "企业名称", "所在地", "隐患编号", "发现日期", "整改期限", "逾期天数"]
        body = [[c.text for c in r.cells] for r in table.rows[1:]]
        assert sorted(r[3] for r in body) == sorted(hz["hazard_id"])
        assert [r[0] for r in body] == [str(k) for k in range(1, len(hz) + 1)]
        end = Period.parse(Q).end
        by_id = hz.set_index("hazard_id")
        for r in body:
            deadline = pd.Timestamp(by_id.loc[r[3], "deadline"]).date()
            assert r[5] == f"{deadline.year}.{deadline.month}.{deadline.day}"
            assert int(r[6]) == (end - deadline).days > 0
        days = [int(r[6]) for r in body]
        assert days == sorted(days, reverse=True)
        assert f"逾期未整改的重大事故隐患共{len(hz)}项" in "".join(texts(d))
        assert para(d, "^附件：").text.endswith("逾期未整改重大事故隐患清单")


def test_reply_deadline_signature_and_cc(documents):
    for code, (_, d) in documents.items():
        t = texts(d)
        assert any("请于2024年10月30日前" in x and "书面报送我厅" in x for x in t)
        i = t.index("浙江省应急管理厅")
        assert t[i + 1] == "2024年10月15日"
        assert t[i + 2].startswith("（联系人")
        assert t[-1].startswith("抄送：") and t[-1].endswith("人民政府。")
        sign = para(d, "^浙江省应急管理厅$")
        assert sign.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT


def test_layout_margins_fonts_and_sizes(documents):
    for code, (path, d) in documents.items():
        (sec,) = d.sections
        assert abs(sec.page_width.mm - 210) < 0.5 and abs(sec.page_height.mm - 297) < 0.5
        for side, mm in (("top", 37), ("bottom", 35), ("left", 28), ("right", 26)):
            assert abs(getattr(sec, f"{side}_margin").mm - mm) < 0.5, (side, getattr(sec, f"{side}_margin").mm)
        # 发文机关标志: red, 小标宋, in the first page's header, with the red double line under it
        mark = sec.first_page_header.paragraphs[0]
        assert mark.text == "浙江省应急管理厅"
        assert all(east(r) == TITLE_FONT and str(r.font.color.rgb) == "FF0000" for r in mark.runs if r.text)
        bottom = mark._p.pPr.find(qn("w:pBdr")).find(qn("w:bottom"))
        assert bottom.get(qn("w:color")) == "FF0000" and bottom.get(qn("w:val")) == "thickThinSmallGap"
        # 发文字号 right under it, then the title
        number = d.paragraphs[0]
        assert re.fullmatch(r"浙应急函〔2024〕\d+号", number.text)
        assert number.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.RIGHT
        title = para(d, "提醒敦促函$")
        assert title.alignment == docx.enum.text.WD_ALIGN_PARAGRAPH.CENTER
        assert all(east(r) == TITLE_FONT and r.font.size.pt == 22 for r in title.runs if r.text)
        # body 仿宋 3号 with a two-character first-line indent and fixed 28.95 pt lines (22 a page)
        lead = para(d, "^根据")
        assert all(east(r) == BODY_FONT and r.font.size.pt == 16 for r in lead.runs)
        assert abs(lead.paragraph_format.first_line_indent.pt - 2 * writer.CHAR_PT) < 0.1
        assert 22 * lead.paragraph_format.line_spacing.pt <= (297 - 37 - 35) / 25.4 * 72 + 0.5
        h1 = para(d, "^一、")
        assert all(east(r) == H1_FONT and r.font.size.pt == 16 for r in h1.runs)
        h2 = para(d, "^（一）")
        assert east(h2.runs[0]) == H2_FONT and h2.runs[0].text.endswith("。")
        assert all(east(r) == BODY_FONT for r in h2.runs[1:])
        normal = d.styles["Normal"]
        assert normal.font.size.pt == 16
        assert normal.element.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia")) == BODY_FONT
        # page numbers from the second page: a PAGE field between 一字线, right on odd and left on even pages
        for footer in (sec.footer, sec.even_page_footer):
            xml = footer._element.xml
            assert "PAGE" in xml and footer.paragraphs[0].text.startswith("— ")
        assert "PAGE" not in sec.first_page_footer._element.xml
        assert d.settings.odd_and_even_pages_header_footer and sec.different_first_page_header_footer


def test_numbers_are_unique_and_logged(documents, db, expected):
    logged = notice_log.notices(db, quarter=Q, level="city")
    numbers = {d.paragraphs[0].text for _, d in documents.values()}
    assert len(numbers) == len(documents) == len(logged)
    assert set(logged["number"]) == numbers
    assert set(logged["unit_code"]) == set(expected["warned"]["code"])
    assert (logged["issued_on"].map(lambda x: pd.Timestamp(x).date()) == ON).all()
    assert set(logged["file_name"]) == {p.name for p, _ in documents.values()}


def test_second_run_continues_numbering_and_reissue_keeps_numbers(db, documents, tmp_path):
    from metrics.__main__ import main

    first = sorted(int(re.search(r"〕(\d+)号", d.paragraphs[0].text).group(1)) for _, d in documents.values())
    out = tmp_path / "q4"
    assert main(["--db", str(db), "notices", "--quarter", "2024Q4", "--out", str(out),
                 "--date", "2024-12-28"]) == 0
    q4 = sorted(int(re.search(r"〕(\d+)号", docx.Document(p).paragraphs[0].text).group(1))
                for p in out.glob("*.docx"))
    assert q4 and min(q4) == max(first) + 1 and q4 == list(range(min(q4), min(q4) + len(q4)))
    # issuing 2024Q3 again: same numbers and 成文日期, nothing new in the log
    again = tmp_path / "again"
    assert main(["--db", str(db), "notices", "--quarter", Q, "--out", str(again), "--date", "2024-11-02"]) == 0
    numbers = {docx.Document(p).paragraphs[0].text for p in again.glob("*.docx")}
    assert numbers == {d.paragraphs[0].text for _, d in documents.values()}
    assert all("2024年10月15日" in texts(docx.Document(p)) for p in again.glob("*.docx"))
    assert len(notice_log.notices(db)) == len(first) + len(q4)


def test_zip_and_excel_annex(issued, expected, documents):
    out, _ = issued
    (z,) = out.glob("*.zip")
    with zipfile.ZipFile(z) as f:
        names = f.namelist()
        assert sorted(n for n in names if n.endswith(".docx")) == sorted(p.name for p, _ in documents.values())
        (xlsx,) = [n for n in names if n.endswith(".xlsx")]
        wb = openpyxl.load_workbook(io.BytesIO(f.read(xlsx)))
    ws = wb.active
    assert ws["A1"].value == "浙江省2024年第3季度设区市安全生产执法量化考评得分表"
    header = [c.value for c in ws[2]]
    assert header[:7] == ["排名", "代码", "单位", "得分", "项目得分", "加分", "扣分"]
    rows = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    score = expected["score"]
    assert len(rows) == len(score)
    by_name = {r[2]: r for r in rows}
    for s in score.itertuples():
        assert by_name[s.name][3] == pytest.approx(s.score) and by_name[s.name][0] == s.rank
        assert by_name[s.name][header.index("提醒敦促")] == ("是" if s.warned else "否")


def test_cli_preview_logs_nothing(db, tmp_path, capsys):
    from metrics.__main__ import main

    before = len(notice_log.notices(db))
    # the shipped settings' placeholder (联系人：×××) does not stop a preview
    assert main(["--db", str(db), "notices", "--quarter", "2024Q2", "--out", str(tmp_path), "--preview",
                 "--settings", str(N.DEFAULT_SETTINGS)]) == 0
    paths = capsys.readouterr().out.split()
    assert paths and all("预览" in p for p in paths)
    first = docx.Document(paths[0]).paragraphs[0].text
    assert first.startswith(N.PREVIEW_MARK) and first.endswith("〔" + str(dt.date.today().year) + "〕　号")
    assert "（预览稿）" in docx.Document(paths[0]).core_properties.title
    assert len(notice_log.notices(db)) == before


def test_cli_usage_errors(db, tmp_path, capsys):
    from metrics.__main__ import main

    assert main(["--db", str(db), "notices", "--quarter", "2024", "--out", str(tmp_path)]) == 2
    assert main(["--db", str(tmp_path / "none.duckdb"), "notices", "--quarter", Q, "--out", str(tmp_path)]) == 1
    assert "no warehouse" in capsys.readouterr().err


def test_follow_up_next_quarter(db, expected):
    from metrics.score import compute_score

    con = warehouse.connect_read(db)
    try:
        f = notice_log.follow_up(con, Q, "city", db=db)
        q4 = compute_score(con, "2024Q4", "city").set_index("code")
    finally:
        con.close()
    assert list(f["code"]) == list(expected["warned"]["code"])
    assert f["number"].notna().all()  # issued above
    for r in f.itertuples():
        assert r.next_score == pytest.approx(q4.loc[r.code, "score"])
        assert r.next_rank == q4.loc[r.code, "rank"]
        assert bool(r.left_list) == (not bool(q4.loc[r.code, "warned"]))
        assert r.change == pytest.approx(N.round_half_away(q4.loc[r.code, "score"] - r.score, 1))
        assert bool(r.improved) == (bool(r.left_list) or r.change > 0)


# --- a hand-made notice: exact wording, settings and template edits ------------------------------------
def made(**kw) -> N.NoticeData:
    items = (
        N.LostItem("plan_completion", "计划完成率", "项目", 20.0, 8.0, 0.4, 120.0, 300.0, 1.0, "%", False,
                   "本季度开展执法检查120次，按年度计划折算应检查300次，计划完成率40.0%"),
        N.LostItem("overdue_major", "逾期未整改重大隐患数", "扣分", None, 4.0, 2.0, 2.0, None, None, "项", False,
                   "截至季度末，逾期未整改的重大事故隐患2项"),
    )
    hazards = (N.OverdueHazard("YH001", "某某化工有限公司", "金牛区", dt.date(2024, 3, 1), dt.date(2024, 4, 1), 182),
               N.OverdueHazard("YH002", "=HYPERLINK(\"x\")", "武侯区", dt.date(2024, 5, 1), dt.date(2024, 6, 1), 121))
    base = dict(unit_code="510100", unit_name="成都市", level="city", quarter=Period.parse(Q),
                province_code="510000", province_name="四川省", scope="全省", score=71.25, rank=19, peers=21,
                items_points=83.2, bonus=1.0, deduction=4.0, threshold=80.0, last=3, lost_items=items,
                hazards=hazards, overdue_count=2)
    return N.NoticeData(**{**base, **kw})


def render(data=None, settings=None, template=None, number="川应急函〔2024〕7号") -> docx.Document:
    buf = io.BytesIO()
    N.render_docx(data or made(), settings or N.load_settings(), template if template is not None else N.load_template(),
                  number, ON, target=buf)
    return docx.Document(io.BytesIO(buf.getvalue()))


def test_hand_made_notice_reads_as_written():
    d = render()
    t = texts(d)
    assert t[0] == "川应急函〔2024〕7号"
    assert d.sections[0].first_page_header.paragraphs[0].text == "四川省应急管理厅"
    assert para(d, "提醒敦促函$").text == "关于2024年第3季度安全生产执法工作\n量化考评情况的提醒敦促函"
    assert "成都市应急管理局：" in t
    assert "你局得分71.3分，在全省21个市（州）中排名第19位" in para(d, "^根据").text  # 71.25 → 71.3
    assert para(d, "^（一）计划完成率").text == (
        "（一）计划完成率。本季度开展执法检查120次，按年度计划折算应检查300次，计划完成率40.0%，得8分（满分20分），失12分。")
    assert para(d, "^（二）逾期").text == "（二）逾期未整改重大隐患数。截至季度末，逾期未整改的重大事故隐患2项，扣4分。"
    rows = [[c.text for c in r.cells] for r in d.tables[0].rows]
    assert rows[1] == ["1", "某某化工有限公司", "金牛区", "YH001", "2024.3.1", "2024.4.1", "182"]
    assert rows[2][1] == '=HYPERLINK("x")'  # text in Word is inert; only spreadsheets need guarding
    assert t[-1] == "抄送：成都市人民政府。"


def test_settings_change_issuer_number_cc_and_fonts(tmp_path):
    text = N.DEFAULT_SETTINGS.read_text(encoding="utf-8")
    text = (text.replace('"名称" = "{省}应急管理厅"', '"名称" = "四川省应急管理厅"')
                .replace('"机关" = ["{单位}人民政府"]', '"机关" = ["{单位}人民政府", "省安委办"]')
                .replace('"期限天数" = 15', '"期限天数" = 10')
                .replace('"正文" = "仿宋_GB2312"', '"正文" = "仿宋"'))
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    s = N.load_settings(p)
    d = render(made(province_name="浙江省", province_code="330000"), settings=s)
    assert d.sections[0].first_page_header.paragraphs[0].text == "四川省应急管理厅"
    assert texts(d)[-1] == "抄送：成都市人民政府，省安委办。"
    assert "请于2024年10月25日前" in "".join(texts(d))
    assert all(east(r) == "仿宋" for r in para(d, "^根据").runs)


@pytest.mark.parametrize("change, message", [
    ('["主送"]\n"机关" = ""', "主送"),
    ('["回复"]\n"期限天数" = "15"', "期限天数"),
    ('["红头"]\n"颜色" = "red"', "颜色"),
    ('["页脚"]\n"x" = 1', "unknown section"),
    ('["发文机关"]\n"名称" = "{市}应急局"\n"发文字号前缀" = "川应急函"', "{市}"),
])
def test_settings_errors_name_the_problem(tmp_path, change, message):
    text = N.DEFAULT_SETTINGS.read_text(encoding="utf-8")
    section = change.split("\n")[0]
    if section in text:  # replace that whole section
        start = text.index(section)
        end = text.find("\n[", start + 1)
        text = text[:start] + change + "\n" + (text[end:] if end > 0 else "")
    else:
        text += "\n" + change + "\n"
    p = tmp_path / "s.toml"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(N.NoticeError, match=re.escape(message)):
        render(settings=N.load_settings(p))


def test_template_edits_change_the_wording_only():
    template = N.load_template().replace("现将有关情况函告如下。", "特此函告。")
    template = template.replace("［隐患清单］", "［隐患清单］\n［失分明细表］")
    d = render(template=template)
    assert para(d, "^根据").text.endswith("特此函告。")
    assert len(d.tables) == 2 and [c.text for c in d.tables[1].rows[0].cells][:4] == ["考评项目", "满分", "得分", "失分"]
    assert all(east(r) == BODY_FONT and r.font.size.pt == 16 for r in para(d, "^根据").runs)


@pytest.mark.parametrize("template, message", [
    ("标题：{{ 单位名 }}\n［署名］", "单位名"),
    ("标题：{% if 得分 %}\n［署名］", "notice_template.txt:"),
    ("标题：x\n正文", "［署名］"),
    ("标题：x\n［盖章］\n［署名］", "［盖章］"),
    ("标题：{{ 单位.__class__.__mro__ }}\n［署名］", "notice_template.txt"),
])
def test_template_errors_name_the_problem(template, message):
    with pytest.raises(N.NoticeError, match=re.escape(message)):
        render(template=template)


def test_no_hazards_no_annex_and_control_characters_dropped():
    d = render(made(hazards=(), unit_name="成都\x0b市"))
    body = "".join(texts(d))
    assert not d.tables and "附件" not in body
    assert "你局辖区无逾期未整改的重大事故隐患" in body
    assert "成都市应急管理局：" in texts(d)


def test_signature_block_positions():
    """署名 右空二字; 成文日期 starts two characters right of the 署名 (GB/T 9704 §7.3.5.2)."""
    d = render()
    name, date = para(d, "^四川省应急管理厅$"), para(d, "^2024年10月15日$")
    chars = lambda p: p.paragraph_format.right_indent.pt / writer.CHAR_PT  # noqa: E731
    assert chars(name) == pytest.approx(2, abs=0.01)
    # name 8 characters wide, date 7 (digits count half): date's right edge 1 character left of the margin
    assert chars(date) == pytest.approx(1, abs=0.01)


def test_excel_annex_guards_formulas():
    score = pd.DataFrame({
        "code": ["1", "2"], "name": ["=1+1", "@SUM(A1)"], "score": [70.0, None], "rank": [1, None],
        "bonus": [0.0, None], "deduction": [0.0, None], "warned": [False, pd.NA], "assessed": [True, False],
        "reason": ["", "无数据"], "group": ["x", "x"], "peers": [1, 1], "items": [70.0, None], "flags": ["", ""]})
    from metrics.scheme import load_scheme
    scheme = load_scheme()
    for it in scheme.require_score().items:
        score[f"{it.indicator}_value"] = [0.5, None]
        score[f"{it.indicator}_points"] = [10.0, None]
        score[f"{it.indicator}_na"] = [False, False]
    for a in [*scheme.require_score().bonus, *scheme.require_score().deductions]:
        score[f"{a.indicator}_value"] = [1.0, None]
        score[f"{a.indicator}_points"] = [1.0, None]
    wb = openpyxl.load_workbook(io.BytesIO(N.score_sheet_xlsx(score, scheme, "=title")))
    ws = wb.active
    assert ws["A1"].value == "'=title"
    names = [ws.cell(row=r, column=3).value for r in (3, 4)]
    assert names == ["'=1+1", "'@SUM(A1)"]
    assert ws.cell(row=4, column=4).value == "— 无数据"  # not assessed: no score, and says why
    assert "不参加考评" in ws.cell(row=2, column=4).comment.text


def test_chinese_numerals_and_formats():
    assert [N.chinese_numeral(n) for n in (1, 9, 10, 12, 20, 21)] == ["一", "九", "十", "十二", "二十", "二十一"]
    assert N.fmt_number(300.25) == "300.3" and N.fmt_number(8.0) == "8" and N.fmt_number(None) == "—"
    assert N.fmt_value(0.9861, "%") == "98.6%" and N.fmt_value(7.6201, "万元") == "7.62万元"
    assert N.fmt_date(dt.date(2025, 4, 3)) == "2025年4月3日"


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice not installed")
def test_libreoffice_reads_it_as_the_same_letter(tmp_path):
    """LibreOffice opens the file and lays it out: the PDF holds the mark, number, title and 抄送."""
    import subprocess

    path = tmp_path / "notice.docx"
    N.render_docx(made(), N.load_settings(), N.load_template(), "川应急函〔2024〕7号", ON, target=path)
    pdf = writer.to_pdf(path)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    text = re.sub(r"\s+", "", text)
    for s in ("四川省应急管理厅", "川应急函〔2024〕7号", "提醒敦促函", "成都市应急管理局：", "抄送：成都市人民政府。", "—2—"):
        assert s in text, s
    if shutil.which("pdftoppm"):  # keep the pages for people to look at (test-artifacts/ is gitignored)
        pages = writer.to_png(pdf, dpi=60)
        assert len(pages) >= 2
        artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        for old in artifacts.glob("notice-page-*.png"):
            old.unlink()
        for k, page in enumerate(pages, 1):
            shutil.copyfile(page, artifacts / f"notice-page-{k}.png")


def test_peers_are_named_as_the_province_names_them(tmp_path):
    p = tmp_path / "w.duckdb"
    warehouse.ensure(p)
    con = warehouse.connect_read(p)
    try:
        assert N.level_noun(con, "330000", "city") == "设区市"      # Zhejiang: 11 cities, all 市
        assert N.level_noun(con, "510000", "city") == "市（州）"    # Sichuan: 3 autonomous prefectures
        assert N.level_noun(con, "150000", "city") == "盟市"        # Inner Mongolia: 盟
        assert N.level_noun(con, "510000", "county") == "县（市、区）"
    finally:
        con.close()
