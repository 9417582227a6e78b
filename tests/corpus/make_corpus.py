"""Build the bad-input corpus: files as users really send them, each with a known outcome.

    python tests/corpus/make_corpus.py            # rewrites the files beside this script
    python tests/corpus/make_corpus.py OUT_DIR    # somewhere else (the drift test does this)

The files are committed (the legacy .xls needs xlwt, pinned in requirements-dev.txt); what each
must give is in expected.toml, written by hand, and tests/etl/test_corpus.py checks both agree.
Every file is loaded into the ETL tests' base warehouse (tests/etl/conftest.py: enterprises 1–3
of 上城区, inspections JC0001 of 2024-03-05 and JC0002, hazard YH0001), so references go there.
Ids are unique per file (K07-1 …), so the files can also be uploaded together in one run and
give the same outcome each (the page test does that).

The very large file is not here: tests/etl/test_corpus.py generates it at test time.
"""
from __future__ import annotations

import codecs
import random
import re
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.etl import helpers as h  # noqa: E402

HERE = Path(__file__).resolve().parent
FULL = str.maketrans("0123456789-/.,ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                     "０１２３４５６７８９－／．，ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
                     "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ")
TITLE = [["上城区应急管理局执法检查台账（2024年）"], ["填报单位：上城区应急管理局", None, "填报日期：2024年4月2日"], []]


def insp(nn: int, k: int, **kw) -> dict:
    return h.inspection(1, **{"inspection_id": f"K{nn:02d}-{k}", **kw})


def haz(nn: int, k: int, **kw) -> dict:
    return h.hazard(1, **{"hazard_id": f"Y{nn:02d}-{k}", **kw})


def pen(nn: int, k: int, **kw) -> dict:
    return h.penalty(1, **{"case_id": f"A{nn:02d}-{k}", **kw})


def ent(nn: int, k: int, **kw) -> dict:
    return h.enterprise(1000 + nn * 10 + k, **kw)


def csv_bytes(table: str, rows: list[dict], *, encoding="utf-8", delimiter=",", newline="\r\n",
              above=(), columns=None, headers="zh") -> bytes:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    for row in [*above, *h.grid(table, rows, columns, headers)]:
        w.writerow(["" if v is None else str(v) for v in row])
    return buf.getvalue().encode(encoding)


def _rezip(path: Path, edit) -> None:
    """Rewrite a workbook's parts: edit(name, bytes) -> bytes."""
    with zipfile.ZipFile(path) as z:
        parts = [(i, z.read(i.filename)) for i in z.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for info, data in parts:
            z.writestr(info, edit(info.filename, data))


def build(out: Path) -> list[Path]:
    import openpyxl

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, data: bytes) -> None:
        (out / name).write_bytes(data)
        written.append(out / name)

    def xlsx(name: str, cells, **kw) -> Path:
        p = h.write_xlsx(out / name, cells, **kw)
        written.append(p)
        return p

    # --- encodings ---------------------------------------------------------------------------
    put("01_utf8_bom.csv", csv_bytes("inspections", [insp(1, 1), insp(1, 2), insp(1, 3), insp(1, 4, inspection_type="抽查")],
                                     encoding="utf-8-sig"))
    put("02_gbk.csv", csv_bytes("enterprises", [ent(2, 1, name="杭州市上城区鑫达化工有限公司"),
                                                ent(2, 2, name="浙江省杭州市钱塘烟花爆竹经营部"),
                                                ent(2, 3, enterprise_id=h.bad_check_char(h.eid(1023)))], encoding="gbk"))
    put("03_gb18030_rare_chars.csv", csv_bytes("enterprises", [ent(3, 1, name="𠀀𠀁五金制品厂"), ent(3, 2, name="㐀㐁涂料有限公司")],
                                               encoding="gb18030"))
    # Excel's "Unicode text": UTF-16 LE with BOM, tab-separated, quotes where a cell holds one
    put("04_utf16_excel_unicode_text.txt",
        codecs.BOM_UTF16_LE + csv_bytes("inspections", [insp(4, 1), insp(4, 2, inspection_type="专项检查")],
                                        delimiter="\t", above=[["执法检查台账"]]).decode().encode("utf-16-le"))
    put("05_utf16be.csv", codecs.BOM_UTF16_BE + csv_bytes("inspections", [insp(5, 1), insp(5, 2)]).decode().encode("utf-16-be"))
    # neither UTF-8 nor GB18030 (0x80 and 0xFF are not lead bytes in GB18030), and no NUL byte
    put("06_undecodable.csv", "检查编号,统一社会信用代码\r\n".encode() + b"K06-1,\x80\xff\x80\xff\r\n")

    # --- legacy .xls (BIFF8, as Excel 97–2003 saves it) --------------------------------------
    import datetime as dt

    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("执法检查")
    date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    cols = list(h.HEADER["inspections"])
    for c, name in enumerate(cols):
        ws.write(0, c, h.HEADER["inspections"][name])
    rows = [insp(7, 1), insp(7, 2, inspection_date=dt.date(2024, 5, 6)), insp(7, 3, inspection_date="2024-02-30")]
    for r, row in enumerate(rows, start=1):
        for c, name in enumerate(cols):
            v = row[name]
            if name == "agency_code":
                v = int(v)  # a number cell, as Excel keeps codes typed in without a leading '
            if isinstance(v, dt.date):
                ws.write(r, c, v, date)
            else:
                ws.write(r, c, v)
    wb.save(str(out / "07_legacy.xls"))
    written.append(out / "07_legacy.xls")

    # --- empty, header only, junk, truncated -------------------------------------------------
    put("08_empty.csv", b"")
    xlsx("09_empty.xlsx", [])
    put("10_header_only.csv", csv_bytes("inspections", []))
    rnd = random.Random(8)
    put("11_binary_junk.csv", bytes(rnd.randrange(256) for _ in range(4096)))
    put("12_binary_junk.xlsx", bytes(rnd.randrange(256) for _ in range(4096)))
    full = h.write_xlsx(out / "13_truncated.xlsx", h.grid("inspections", [insp(13, k) for k in range(1, 200)]))
    data = full.read_bytes()
    full.write_bytes(data[: len(data) * 6 // 10])  # a download or copy cut short
    written.append(full)

    # --- headers -----------------------------------------------------------------------------
    put("14_misspelt_header.csv", csv_bytes("inspections", [insp(14, 1)], headers={"inspection_id": "检查编码"}))
    dup = csv_bytes("inspections", [insp(15, 1)], headers={"via_mobile": "检查日期"})
    put("15_duplicated_header.csv", dup)

    # --- merged cells ------------------------------------------------------------------------
    cells = h.grid("inspections", [insp(16, 1, agency_code=h.COUNTY2), insp(16, 2, agency_code=None),
                                   insp(16, 3, agency_code=None), insp(16, 4), insp(16, 5, inspection_id=None),
                                   insp(16, 6, via_mobile=None)])
    p = xlsx("16_merged_cells.xlsx", cells)
    wb = openpyxl.load_workbook(p)
    ws = wb.active
    ws.merge_cells("C2:C4")  # 执法机构区划代码: one bureau for three rows, filled down
    ws.merge_cells("A5:A6")  # 检查编号: one id for two rows, the second cannot be named
    ws.merge_cells("E7:F7")  # 检查方式 across 移动执法: 移动执法 has no value of its own
    wb.save(p)

    # --- formula cells: one with its calculated value, one never calculated, one cached error --
    cols = list(h.HEADER["penalties"])
    rows = [pen(17, 1, fine_company=1000, fine_person=None), pen(17, 2, fine_company=1000, fine_person=None),
            pen(17, 3, hazard_id=None)]
    p = xlsx("17_formula_cells.xlsx", h.grid("penalties", rows, cols))
    wb = openpyxl.load_workbook(p)
    ws = wb.active
    fp, fc, hz = (cols.index(c) + 1 for c in ("fine_person", "fine_company", "hazard_id"))
    L = openpyxl.utils.get_column_letter
    ws.cell(2, fp, f"={L(fc)}2*2")
    ws.cell(3, fp, f"={L(fc)}3*2")
    ws.cell(4, hz, '=VLOOKUP(A4,隐患!A:B,2,FALSE)')
    wb.save(p)
    cached = {f"{L(fp)}2": ("", "2000"), f"{L(hz)}4": (' t="e"', "#N/A")}

    def with_cache(name, data):
        if not name.endswith("sheet1.xml"):
            return data
        text = data.decode()
        for ref, (t, value) in cached.items():
            text, n = re.subn(rf'<c r="{ref}"([^>]*)>(<f>[^<]*</f>)<v\s*/?>(?:</v>)?',
                              rf'<c r="{ref}"\g<1>{t}>\g<2><v>{value}</v>', text)
            assert n == 1, (ref, text)
        return text.encode()

    _rezip(p, with_cache)

    # --- values ------------------------------------------------------------------------------
    put("18_fullwidth_digits.csv", csv_bytes("penalties", [
        pen(18, 1, agency_code=h.COUNTY.translate(FULL), filed_date="2024-03-10".translate(FULL),
            decision_date="2024/4/1".translate(FULL), fine_company="12,345.5".translate(FULL), fine_person="０"),
        pen(18, 2, case_id="A18-2".translate(FULL), fine_company="１．２万", review_score="９０")]))
    put("19_enterprise_id_case.csv", csv_bytes("inspections", [
        insp(19, 1, enterprise_id=h.eid(2).lower()), insp(19, 2, enterprise_id=h.eid(3).lower().translate(FULL)),
        insp(19, 3, enterprise_id=h.eid(999))]))
    put("20_impossible_dates.csv", csv_bytes("inspections", [
        insp(20, 1, inspection_date="2024-02-29"), insp(20, 2, inspection_date="2024-02-30"),
        insp(20, 3, inspection_date="2023-02-29"), insp(20, 4, inspection_date="2024-13-01"),
        insp(20, 5, inspection_date="2024/4/31"), insp(20, 6, inspection_date="2024年6月0日")]))
    put("21_amounts.csv", csv_bytes("penalties", [
        pen(21, 1, fine_company="1.2万"), pen(21, 2, fine_company="12,345.50元"), pen(21, 3, fine_company="¥3,000"),
        pen(21, 4, fine_company="-500"), pen(21, 5, fine_company="壹万元"), pen(21, 6, fine_person="1e30"),
        pen(21, 7, fine_person="0.5万元")]))
    put("22_duplicate_ids.csv", csv_bytes("inspections", [insp(22, 1), insp(22, 1, inspection_type="专项检查"), insp(22, 2)]))
    put("23_orphan_hazards.csv", csv_bytes("hazards", [haz(23, 1), haz(23, 2, inspection_id="JC9999")]))
    put("24_orphan_penalties.csv", csv_bytes("penalties", [
        pen(24, 1), pen(24, 2, enterprise_id=h.eid(998)), pen(24, 3, hazard_id="YH9999"),
        pen(24, 4, inspection_id="JC9999")]))
    put("25_future_dates.csv", csv_bytes("inspections", [insp(25, 1), insp(25, 2, inspection_date="2099-01-01")]))

    # --- layout ------------------------------------------------------------------------------
    cells = h.grid("enterprises", [ent(26, 1), ent(26, 2, name="小计算机配件厂"), ent(26, 3, name="合计划建材有限公司")])
    cells += [["合　计", "3家", None, None, None], ["总计：", None, None, None, "2"]]
    xlsx("26_totals_rows.xlsx", cells, above=TITLE)
    p = xlsx("27_notes_sheet_first.xlsx", h.grid("enterprises", [ent(27, 1), ent(27, 2)]), sheet_title="名录")
    wb = openpyxl.load_workbook(p)
    notes = wb.create_sheet("填写说明", 0)
    for line in [["填写说明"], ["统一社会信用代码：18位"], ["单位名称：与营业执照一致"], ["所属区县代码：6位"]]:
        notes.append(line)
    wb.active = 0
    wb.save(p)
    p = xlsx("28_wrong_dimension.xlsx", h.grid("enterprises", [ent(28, 1), ent(28, 2), ent(28, 3)]))
    _rezip(p, lambda name, data: re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1"/>', data)
           if name.endswith("sheet1.xml") else data)
    put("29_oversize_int.csv", csv_bytes("plans", [h.plan(agency_code=h.COUNTY2, year="2024"),
                                                   h.plan(agency_code=h.COUNTY2, year="2025", planned_inspections="99999999999"),
                                                   h.plan(agency_code=h.COUNTY2, year="99999999999")]))
    put("30_no_header.csv", "这是一份工作总结，不是数据表。\r\n本季度共检查企业120家。\r\n".encode())
    put("31_unsupported.pdf", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    put("32_csv_named_xlsx.xlsx", csv_bytes("enterprises", [ent(32, 1)]))
    text = csv_bytes("inspections", [insp(33, 1), insp(33, 2), insp(33, 3)]).decode()
    put("33_ragged_rows.csv", text.replace("K33-2,", "K33-2,多出的一格,", 1).encode())
    put("34_required_blank.csv", csv_bytes("inspections", [
        insp(34, 1), insp(34, 2, inspection_date=None), insp(34, 3, enterprise_id="　"), insp(34, 4, inspection_type="")]))
    put("35_formula_injection.csv", csv_bytes("enterprises", [
        ent(35, 1, name='=HYPERLINK("http://example.invalid/","点击查看")'), ent(35, 2, name="+cmd|' /C calc'!A0"),
        ent(35, 3, name="@SUM(1+1)"), ent(35, 4, name="-2+3", key_unit="=1+1")], encoding="utf-8-sig"))
    cols = [c for c in h.HEADER["inspections"] if c != "inspection_date"]
    xlsx("36_missing_required_column.xlsx", h.grid("inspections", [insp(36, 1)], cols))
    put("37_header_beyond_scan.csv", csv_bytes("inspections", [insp(37, 1)], above=[[f"说明第{i}行"] for i in range(1, 36)]))
    text = csv_bytes("inspections", [insp(38, 1), insp(38, 2), insp(38, 3)]).decode()
    put("38_stray_quote.csv", text.replace("K38-2", '"K38-2', 1).encode())
    put("39_semicolon_cr_only.csv", csv_bytes("inspections", [insp(39, 1), insp(39, 2)], delimiter=";", newline="\r"))
    put("40_hazard_before_inspection.csv", csv_bytes("hazards", [
        haz(40, 1), haz(40, 2, found_date="2024-03-01", deadline="2024-04-01", rectified_date=None),
        haz(40, 3, deadline="2024-03-01")]))
    text = csv_bytes("inspections", [insp(41, k) for k in range(1, 80)]).decode()
    put("41_nul_byte_far_down.csv", text.replace("K41-70,", "K41-70\x00,", 1).encode())
    put("42_bool_words.csv", csv_bytes("inspections", [insp(42, 1, via_mobile="√", with_expert="×"),
                                                     insp(42, 2, via_mobile="可能"), insp(42, 3, with_expert="Y")]))
    # a VLOOKUP that found nothing, pasted as values or exported to CSV as its error text
    put("43_excel_error_values.csv", csv_bytes("inspections", [insp(43, 1), insp(43, 2, enterprise_id="#N/A"),
                                                               insp(43, 3, inspection_id="#REF!")]))

    # --- text that must never reach SQL as SQL -------------------------------------------------
    # a header that still names 检查编号 (the unit in brackets is ignored) but carries SQL
    put("44_sql_in_header.csv", csv_bytes("inspections", [insp(44, 1), insp(44, 1), insp(44, 2)], headers={
        "inspection_id": "检查编号('||(SELECT string_agg(enterprise_id, ',') FROM enterprises)||')"}))
    # .xls strings may hold NUL (no SQL string can): in an extra header and in an id
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("检查")
    cells = h.grid("inspections", [insp(45, 1), insp(45, 2, inspection_id="K45-2\x00")])
    cells[0].append("备注\x00")
    cells[1].append("正常")
    for r, row in enumerate(cells):
        for c, v in enumerate(row):
            if v is not None:
                ws.write(r, c, v)
    wb.save(str(out / "45_nul_in_xls.xls"))
    written.append(out / "45_nul_in_xls.xls")
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    for p in build(target):
        print(p.relative_to(target), p.stat().st_size)
