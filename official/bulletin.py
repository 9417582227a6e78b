"""执法情况通报 as a GB/T 9704 document, its annex tables as Excel, and the one-page brief of the
overview for a leaders' meeting — laid out with official.writer from metrics.bulletin's content.

The text and every figure come from metrics.bulletin.build_bulletin; this module only lays them
out (headings 一、 黑体, （一） 楷体, body 仿宋 3号, tables 五号, annexes on their own pages) and
looks up the warning notices' numbers in the notice log (official.log). Who issues comes from
the notice settings (official/notice_settings.toml: 发文机关, 字体, 红头).

Also the ``bulletin`` sub-command of ``python -m metrics`` (metrics/__main__.py PLUGINS).
"""
from __future__ import annotations

import datetime as dt
import io
import re
import sys
from dataclasses import replace
from pathlib import Path

import duckdb

from metrics.bulletin import (DEFAULT_REQUIREMENTS, Bulletin, BulletinError, NumberLookup, Table, annex_xlsx,
                              brief_lines)
from official.writer import CHAR_PT, TEXT_W_TWIPS, DocumentError, OfficialDocument, Style, clean, fmt_date, width

HELP = "执法情况通报: the period's bulletin as a GB/T 9704 .docx (--out FILE.docx) and its annex tables as .xlsx"
TEXT_W_MM = TEXT_W_TWIPS / 1440 * 25.4      # 156 mm
TABLE_CHAR_MM = 10.5 / 72 * 25.4            # a 五号 character is 3.7 mm wide


def notice_numbers(db=None) -> NumberLookup:
    """The warning notices' numbers from the notice log (official.log, in the operational store
    beside the warehouse ``db``), per quarter and level: {unit code: number}. A voided notice
    does not count."""
    from official import log

    def lookup(quarter: str, level: str) -> dict[str, str]:
        df = log.notices(db, quarter=str(quarter), level=level, voided=False)
        return {str(c): str(n) for c, n in zip(df["unit_code"], df["number"])}
    return lookup


def style_for(b: Bulletin, settings=None) -> Style:
    """The issuer and fonts of the notice settings, for the bulletin's province."""
    from official.notice import load_settings

    s = (settings or load_settings()).resolved(b.province_name, b.province)
    style = s.style()
    if "×" in style.note:  # the shipped 附注 is a placeholder (联系人：×××): left out until filled in
        style = replace(style, note="")
    return style


SHOWN_APART = ("代码",)   # codes stay in the Excel annex; people read names in the document


def _shown(t: Table) -> tuple[list[str], list[list[str]]]:
    keep = [k for k, c in enumerate(t.columns) if c not in SHOWN_APART]
    return [clean(t.columns[k]) for k in keep], [[clean(r[k]) for k in keep] for r in t.rows]


def _widths(header: list[str], rows: list[list[str]]) -> list[float]:
    """Column widths (mm): each column as wide as its widest cell (a header may take two lines),
    scaled to the 156 mm text block."""
    need = []
    for k, col in enumerate(header):
        chars = max([width(col) / 2] + [width(r[k]) for r in rows])
        need.append(min(chars * TABLE_CHAR_MM + 2.5, 60.0))
    total = sum(need)
    return [w * TEXT_W_MM / total for w in need]


def _align(header: list[str]) -> list[str]:
    return ["left" if c in ("单位", "行业领域", "检查方式", "指标") else "center" for c in header]


def _table(doc: OfficialDocument, t: Table) -> None:
    header, rows = _shown(t)
    doc.table(header, rows, _widths(header, rows), _align(header))


def render_docx(b: Bulletin, style: Style | None = None, issued_on: dt.date | None = None, target=None):
    """Write the bulletin (.docx) to ``target`` (a path or a binary file); returns the Document.
    Without ``target`` returns the bytes."""
    style = style or style_for(b)
    issued_on = issued_on or dt.date.today()
    doc = OfficialDocument(style)
    doc.letterhead()
    doc.blank(2)
    doc.title(_title_lines(b.title))
    doc.blank()
    doc.addressee(b.addressee)
    doc.body(f"现将{b.period.label}全省安全生产执法工作情况通报如下。")
    for s in b.sections:
        doc.h1(s.heading)
        for bl in s.blocks:
            if bl.kind == "h2":
                doc.h2(clean(bl.text))
            elif bl.kind == "table":
                _table(doc, bl.table)
            else:
                doc.body(clean(bl.text))
    names = [f"{k}.{t.title}" for k, t in enumerate(b.annexes, 1)]
    if names:
        doc.annex_note("附件：" + "\n".join(names))
    doc.signature(issued_on)
    for k, t in enumerate(b.annexes, 1):
        doc.annex(f"附件{k}", clean(t.title))
        _table(doc, t)
    doc.properties(b.title, style.issuer, f"{b.province_name} {b.period.label} {b.noun}")
    if target is None:
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
    doc.save(target)
    return doc.doc


def _title_lines(title: str) -> list[str]:
    """A long title in two lines, broken after 关于…: 2号 小标宋 holds about 20 characters a line."""
    if width(title) <= 20 or "全省" not in title:
        return [title]
    cut = title.index("全省")
    return [title[:cut], title[cut:]]


# --- the one-page brief ------------------------------------------------------------------------------
PREVIEW_NOTE = "（本 PDF 由 LibreOffice 转换，仅为版式预览：公文字体以替代字体显示，正式文本以 Word 文件为准。）"


def brief_docx(b: Bulletin, style: Style | None = None, made_on: dt.date | None = None, target=None,
               preview: bool = False):
    """A one-page brief of the overview for a leaders' meeting: the headline table with 同比 (and
    环比), the ranking's first and last, who moved most, the warning list and the priority issues
    (metrics.bulletin.brief_lines, from the bulletin's own frames, so the two never differ). No
    red letterhead: meeting material. ``preview``: the copy a PDF is made from says it is a
    layout preview (the official fonts are substituted)."""
    style = style or style_for(b)
    made_on = made_on or dt.date.today()
    doc = OfficialDocument(style)
    doc.title([f"{b.province_name}{b.period.label}", "安全生产执法工作简况"])
    p = doc.para("center", first_chars=0)
    doc.run(p, f"（{fmt_date(made_on)}）", size=14)
    head = next(bl.table for bl in b.sections[0].blocks if bl.kind == "table")
    doc.h1("一、主要数据")
    _table(doc, head)
    doc.h1("二、排名与预警")
    for line in brief_lines(b):
        doc.body(clean(line))
    if preview:
        p = doc.para("left", first_chars=0)
        doc.run(p, PREVIEW_NOTE, size=10.5)
    doc.properties(f"{b.period.label}执法工作简况", style.issuer, "一页简报")
    if target is None:
        buf = io.BytesIO()
        doc.save(buf)
        return buf.getvalue()
    doc.save(target)
    return doc.doc


def file_name(b: Bulletin, kind: str = "通报", ext: str = "docx") -> str:
    stem = f"{b.period}-{'市' if b.level == 'city' else '县'}-{b.province_name}-{kind}"
    return re.sub(r'[\\/:*?"<>|\s]+', "_", clean(stem)) + f".{ext}"


def to_pdf_preview(docx_bytes: bytes, name: str = "brief.docx") -> bytes:
    """A PDF of a document made with LibreOffice — a layout preview (fonts substituted), not the
    official fonts; DocumentError when LibreOffice is not installed."""
    import tempfile

    from official.writer import to_pdf

    with tempfile.TemporaryDirectory(prefix="bulletin-pdf-") as d:
        src = Path(d) / name
        src.write_bytes(docx_bytes)
        return to_pdf(src, d).read_bytes()


# --- python -m metrics bulletin ---------------------------------------------------------------------
def add_arguments(p) -> None:
    import argparse

    p.add_argument("--period", required=True, help="a quarter (2025Q4) or a year (2025)")
    p.add_argument("--out", required=True, help="the .docx to write (the annex tables go beside it as .xlsx)")
    p.add_argument("--db", dest="db_sub", help=argparse.SUPPRESS)
    p.add_argument("--province", help="province code (default: the province whose agencies have records)")
    p.add_argument("--level", choices=["city", "county"], default="city", help="units: cities (default) or counties")
    p.add_argument("--scheme", help="scheme file (default: metrics/schemes/default.toml)")
    p.add_argument("--date", help="成文日期 YYYY-MM-DD (default: today)")
    p.add_argument("--wording", help="六、工作要求 wording file (default: metrics/bulletin_requirements.txt)")


def run(args) -> int:
    from etl import warehouse
    from metrics.bulletin import build_bulletin, load_requirements
    from metrics.periods import Period
    from metrics.provinces import ProvinceError
    from metrics.query import MartsMissing
    from metrics.scheme import SchemeError, load_scheme
    from official.notice import NoticeError

    try:
        period = Period.parse(args.period)
        if period.kind not in ("quarter", "year"):
            raise ValueError(f"give a quarter like 2025Q4 or a year like 2025, not {args.period!r}")
        on = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
        out = Path(args.out)
        if out.suffix.lower() != ".docx":
            raise ValueError(f"--out should name a .docx file, not {args.out!r}")
    except ValueError as e:
        print(f"python -m metrics bulletin: {e}", file=sys.stderr)
        return 2
    try:
        scheme = load_scheme(args.scheme)
        wording = load_requirements(args.wording)
        try:
            con = warehouse.connect_read(args.db)
        except warehouse.WarehouseMissing as e:
            raise BulletinError(str(e)) from None
        try:
            b = build_bulletin(con, period, args.level, args.province, scheme, wording, notice_numbers(args.db),
                               str(args.wording or DEFAULT_REQUIREMENTS))
        finally:
            con.close()
        style = style_for(b)
        out.parent.mkdir(parents=True, exist_ok=True)
        render_docx(b, style, on, out)
        xlsx = out.with_name(out.stem + "-附件.xlsx")
        annex_xlsx(b, xlsx)
        print(out)
        print(xlsx)
        return 0
    except (BulletinError, SchemeError, ProvinceError, NoticeError, DocumentError, MartsMissing) as e:
        print(str(e), file=sys.stderr)
        return 1
    except duckdb.Error as e:
        print(f"the warehouse could not be read: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"cannot write {args.out}: {e.strerror or e}", file=sys.stderr)
        return 1
