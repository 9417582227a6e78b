"""official.writer as a bulletin would use it, reopened with python-docx: page, fonts, headings,
table, annex, signature."""
from __future__ import annotations

import datetime as dt

import docx
from docx.oxml.ns import qn
from docx.shared import Mm

from official.writer import OfficialDocument, Style, fmt_date


def east(run):
    return run._r.rPr.find(qn("w:rFonts")).get(qn("w:eastAsia"))


def test_a_bulletin_with_every_part(tmp_path):
    doc = OfficialDocument(Style(issuer="四川省应急管理厅", note="联系人：张三，电话：028-1234567"))
    doc.letterhead()
    doc.number("川应急〔2025〕5号")
    doc.blank(2)
    doc.title(["关于2025年第一季度", "安全生产执法情况的通报"])
    doc.addressee("各市（州）应急管理局")
    doc.h1("一、总体情况")
    doc.body("一季度全省开展执法检查1200次。")
    doc.h2("（一）检查情况。各地按计划开展检查。")
    doc.h3("1.计划检查")
    doc.table(["单位", "得分"], [["成都市", "88.2"], ["绵阳市", "71.0"]], [80, 76], ["left", "center"])
    doc.annex_note("附件：各市（州）得分表")
    doc.signature(dt.date(2025, 4, 3))
    doc.annex("附件", "各市（州）得分表")
    doc.cc(["省安委会办公室"])
    doc.properties("通报", "四川省应急管理厅", "川应急〔2025〕5号")
    path = tmp_path / "b.docx"
    doc.save(path)

    d = docx.Document(path)
    sec = d.sections[0]
    assert round(sec.top_margin.mm) == 37 and round(sec.left_margin.mm) == 28
    assert round(sec.page_width.mm) == 210 and round(sec.page_height.mm) == 297
    assert d.sections[0].first_page_header.paragraphs[0].text == "四川省应急管理厅"  # mark defaults to issuer
    paras = {p.text: p for p in d.paragraphs if p.text.strip()}
    assert east(paras["一、总体情况"].runs[0]) == "黑体"
    h2 = paras["（一）检查情况。各地按计划开展检查。"]
    assert [east(r) for r in h2.runs] == ["楷体_GB2312", "仿宋_GB2312"] and h2.runs[0].text == "（一）检查情况。"
    assert east(paras["1.计划检查"].runs[0]) == "仿宋_GB2312"
    assert paras["一季度全省开展执法检查1200次。"].runs[0].font.size.pt == 16
    title = next(p for p in d.paragraphs if p.text.startswith("关于"))
    assert east(title.runs[0]) == "方正小标宋简体" and title.runs[0].font.size.pt == 22
    assert fmt_date(dt.date(2025, 4, 3)) == "2025年4月3日" in paras
    assert "（联系人：张三，电话：028-1234567）" in paras
    annex = paras["附件"]
    assert annex.paragraph_format.page_break_before and east(annex.runs[0]) == "黑体"
    assert [[c.text for c in r.cells] for r in d.tables[0].rows] == [["单位", "得分"], ["成都市", "88.2"], ["绵阳市", "71.0"]]
    assert abs(d.tables[0].columns[0].width - Mm(80)) < Mm(0.1)
    assert "抄送：省安委会办公室。" in paras
    assert d.core_properties.title == "通报" and d.core_properties.subject == "川应急〔2025〕5号"


def test_control_characters_never_reach_the_file(tmp_path):
    doc = OfficialDocument(Style(issuer="某厅"))
    doc.body("成都\x0b市\x00")
    doc.save(tmp_path / "c.docx")
    assert any(p.text == "成都市" for p in docx.Document(tmp_path / "c.docx").paragraphs)
