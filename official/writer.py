"""A GB/T 9704-2012 official-document writer (python-docx): the page, the red issuer mark and
lines, the title, headings 一、/（一）/1., body paragraphs, tables, the annex, the signature and
date, 抄送 — laid out the standard way whatever the content. Notices (official.notice) and the
quarterly bulletin use it; it knows nothing of the warehouse.

    doc = OfficialDocument(Style(mark="四川省应急管理厅", issuer="四川省应急管理厅"))
    doc.letterhead(); doc.number("川应急函〔2025〕3号"); doc.blank(2)
    doc.title(["关于……的通报"]); doc.addressee("各市（州）应急管理局")
    doc.h1("一、总体情况"); doc.body("……"); doc.h2("（一）检查。……"); doc.h3("1.……")
    doc.table(["单位", "得分"], [["成都市", "88.2"]], [80, 76], ["left", "center"])
    doc.annex_note("附件：……"); doc.signature(dt.date(2025, 4, 3)); doc.annex("附件", "……")
    doc.cc(["……"]); doc.save("x.docx")

``to_pdf`` / ``to_png`` make a layout preview with LibreOffice (fonts substituted: fonts.conf).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
FONTS_CONF = HERE / "fonts.conf"
DEFAULT_FONTS = {"正文": "仿宋_GB2312", "标题": "方正小标宋简体", "一级标题": "黑体", "二级标题": "楷体_GB2312",
                 "页码": "宋体", "西文": "Times New Roman"}


class DocumentError(ValueError):
    """A document cannot be made or converted; the message says why."""


@dataclass(frozen=True)
class Style:
    """Who signs and how the document looks: the issuer (署名), the red mark (发文机关标志; the
    issuer when empty), its size and colour, the fonts (DEFAULT_FONTS' keys) and the 附注 under
    the date."""
    issuer: str = ""
    mark: str = ""
    mark_pt: float = 30
    mark_color: str = "FF0000"
    fonts: dict = field(default_factory=lambda: dict(DEFAULT_FONTS))
    note: str = ""


def fmt_date(d: dt.date) -> str:
    """2025年4月3日 (GB/T 9704: Arabic numerals, no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


# --- page geometry (GB/T 9704-2012 §5) -----------------------------------------------------------
PAGE_W_MM, PAGE_H_MM = 210, 297
MARGIN_MM = {"top": 37, "bottom": 35, "left": 28, "right": 26}
TEXT_W_TWIPS = round((PAGE_W_MM - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 1440)  # 156 mm
LINE_PITCH_TWIPS = 579          # 225 mm / 22 lines = 28.95 pt
LINE_PT = LINE_PITCH_TWIPS / 20
CHARS_PER_LINE = 28
BODY_PT = 16                    # 3号
CHAR_PT = TEXT_W_TWIPS / 20 / CHARS_PER_LINE   # the character pitch of a 28-character line (15.79 pt)
CHAR_SPACING_TWIPS = -5         # 16 pt characters condensed by 0.25 pt: 28 fit in the 156 mm line
TITLE_PT = 22                   # 2号
CC_PT = 14                      # 4号: 版记, page numbers
TABLE_PT = 10.5                 # 五号 in tables
HEADER_MM = 30                  # 信函: the issuer mark's top edge 30 mm below the page's top edge
FOOTER_MM = 20                  # 信函: the second red double line 20 mm above the page's bottom edge
LINE_MM = 170                   # the red double lines are 170 mm long, centred

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def clean(text) -> str:
    """Text that Word can hold: no control characters (a unit name from a spreadsheet may have one)."""
    return _CONTROL.sub("", str(text))


# --- layout: python-docx --------------------------------------------------------------------------
def _qn(tag: str) -> str:
    from docx.oxml.ns import qn
    return qn(tag)


def _el(tag: str, **attrs):
    from docx.oxml import OxmlElement
    e = OxmlElement(tag)
    for k, v in attrs.items():
        e.set(_qn(f"w:{k}"), str(v))
    return e


# child order of w:rPr and w:pPr (ECMA-376): Word refuses a file whose properties are out of order
RPR_ORDER = ("rStyle rFonts b bCs i iCs caps smallCaps strike dstrike outline shadow emboss imprint noProof "
             "snapToGrid vanish webHidden color spacing w kern position sz szCs highlight u effect bdr shd "
             "fitText vertAlign rtl cs em lang eastAsianLayout specVanish oMath").split()
PPR_ORDER = ("pStyle keepNext keepLines pageBreakBefore framePr widowControl numPr suppressLineNumbers pBdr shd "
             "tabs suppressAutoHyphens kinsoku wordWrap overflowPunct topLinePunct autoSpaceDE autoSpaceDN bidi "
             "adjustRightInd snapToGrid spacing ind contextualSpacing mirrorIndents suppressOverlap jc "
             "textDirection textAlignment textboxTightWrap outlineLvl divId cnfStyle rPr sectPr pPrChange").split()

TBLPR_ORDER = ("tblStyle tblpPr tblOverlap bidiVisual tblStyleRowBandSize tblStyleColBandSize tblW jc "
               "tblCellSpacing tblInd tblBorders shd tblLayout tblCellMar tblLook tblCaption tblDescription").split()


def _put(parent, el, order: list[str]):
    """Insert ``el`` into ``parent`` at its schema position, replacing an element of the same tag."""
    local = el.tag.split("}")[1]
    for old in parent.findall(el.tag):
        parent.remove(old)
    later = {_qn(f"w:{t}") for t in order[order.index(local) + 1:]}
    for k, child in enumerate(parent):
        if child.tag in later:
            parent.insert(k, el)
            return el
    parent.append(el)
    return el


def _set_fonts(rpr, east: str, latin: str) -> None:
    fonts = rpr.find(_qn("w:rFonts"))
    if fonts is None:
        fonts = _el("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("asciiTheme", "hAnsiTheme", "eastAsiaTheme", "cstheme"):
        fonts.attrib.pop(_qn(f"w:{attr}"), None)
    for attr, name in (("ascii", latin), ("hAnsi", latin), ("eastAsia", east), ("cs", latin)):
        fonts.set(_qn(f"w:{attr}"), name)


class OfficialDocument:
    """One document laid out on the GB/T 9704 page (A4, 22 lines × 28 characters)."""

    def __init__(self, style: Style | None = None):
        import docx
        from docx.shared import Mm

        self.s = style or Style()
        self.f = {**DEFAULT_FONTS, **self.s.fonts}
        self._break_next = False
        self.doc = docx.Document()
        sec = self.doc.sections[0]
        sec.page_width, sec.page_height = Mm(PAGE_W_MM), Mm(PAGE_H_MM)
        sec.top_margin, sec.bottom_margin = Mm(MARGIN_MM["top"]), Mm(MARGIN_MM["bottom"])
        sec.left_margin, sec.right_margin = Mm(MARGIN_MM["left"]), Mm(MARGIN_MM["right"])
        sec.header_distance, sec.footer_distance = Mm(HEADER_MM), Mm(FOOTER_MM)
        sec.gutter = 0
        sec.different_first_page_header_footer = True
        self.doc.settings.odd_and_even_pages_header_footer = True
        self._grid(sec)
        self._normal_style()
        self.body_started = False

    # page setup
    def _grid(self, sec) -> None:
        """No document grid: Word's character grid draws a 16 pt character across two cells in
        LibreOffice. 22 lines come from the exact 28.95 pt line spacing, 28 characters a line from
        the body's character spacing (16 pt − 0.25 pt)."""
        sectPr = sec._sectPr
        for old in sectPr.findall(_qn("w:docGrid")):
            sectPr.remove(old)

    def _normal_style(self) -> None:
        from docx.shared import Pt

        st = self.doc.styles["Normal"]
        st.font.size = Pt(BODY_PT)
        _set_fonts(st.element.get_or_add_rPr(), self.f["正文"], self.f["西文"])
        rpr = st.element.get_or_add_rPr()
        _put(rpr, _el("w:spacing", val=CHAR_SPACING_TWIPS), RPR_ORDER)
        _put(rpr, _el("w:lang", val="en-US", eastAsia="zh-CN"), RPR_ORDER)
        pf = st.paragraph_format
        pf.space_before = pf.space_after = Pt(0)
        self._exact(pf, LINE_PT)
        pf.widow_control = False
        # no automatic space between Chinese and Latin text: widths (28 a line, the signature block)
        # come out as counted, in Word and in LibreOffice alike
        ppr = st.element.get_or_add_pPr()
        _put(ppr, _el("w:autoSpaceDE", val=0), PPR_ORDER)
        _put(ppr, _el("w:autoSpaceDN", val=0), PPR_ORDER)
        # rPrDefault carries theme fonts in python-docx's template: make the defaults ours too
        styles = self.doc.styles.element
        rpr_default = styles.find(_qn("w:docDefaults") + "/" + _qn("w:rPrDefault") + "/" + _qn("w:rPr"))
        if rpr_default is not None:
            _set_fonts(rpr_default, self.f["正文"], self.f["西文"])

    @staticmethod
    def _exact(pf, pt: float) -> None:
        from docx.enum.text import WD_LINE_SPACING
        from docx.shared import Pt

        pf.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        pf.line_spacing = Pt(pt)

    # runs and paragraphs
    def run(self, p, text: str, east: str | None = None, size: float = BODY_PT, bold: bool = False,
            color: str | None = None, latin: str | None = None):
        from docx.shared import Pt, RGBColor

        r = p.add_run(clean(text))
        r.font.size = Pt(size)
        r.font.bold = bold or None
        if color:
            r.font.color.rgb = RGBColor.from_string(color)
        _set_fonts(r._r.get_or_add_rPr(), east or self.f["正文"], latin or self.f["西文"])
        return r

    def para(self, align: str = "justify", first_chars: float = 2, container=None, line_pt: float | None = LINE_PT,
             left_pt: float = 0, right_pt: float = 0):
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        p = (container or self.doc).add_paragraph()
        pf = p.paragraph_format
        pf.alignment = {"justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "center": WD_ALIGN_PARAGRAPH.CENTER,
                        "left": WD_ALIGN_PARAGRAPH.LEFT, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
        if first_chars:
            pf.first_line_indent = Pt(first_chars * CHAR_PT)
        if left_pt:
            pf.left_indent = Pt(left_pt)
        if right_pt:
            pf.right_indent = Pt(right_pt)
        if line_pt:
            self._exact(pf, line_pt)
        return p

    def blank(self, n: int = 1) -> None:
        for _ in range(n):
            self.para(first_chars=0)

    @staticmethod
    def _border(p, side: str, style: str, size_eighths: int, color: str, space_pt: int = 0) -> None:
        ppr = p._p.get_or_add_pPr()
        bdr = ppr.find(_qn("w:pBdr"))
        if bdr is None:
            bdr = _put(ppr, _el("w:pBdr"), PPR_ORDER)
        bdr.append(_el(f"w:{side}", val=style, sz=size_eighths, space=space_pt, color=color))

    # the page furniture
    def letterhead(self) -> None:
        """The page furniture of a letter (信函格式): the red issuer mark and double line on the first
        page, a second red double line at its foot, page numbers from the second page."""
        self.furniture()

    def furniture(self) -> None:
        """First page: red issuer mark and double line (header), second double line (footer).
        Later pages: the page number, right on odd pages and left on even pages."""
        from docx.shared import Mm, Pt

        sec = self.doc.sections[0]
        overhang = Pt((LINE_MM - (PAGE_W_MM - MARGIN_MM["left"] - MARGIN_MM["right"])) / 2 / 25.4 * 72)
        head = sec.first_page_header
        head.is_linked_to_previous = False
        p = head.paragraphs[0]
        p.paragraph_format.alignment = 1
        p.paragraph_format.left_indent = -overhang
        p.paragraph_format.right_indent = -overhang
        p.paragraph_format.space_before = Pt(0)
        p.paragraph_format.space_after = Pt(0)
        self._exact(p.paragraph_format, self.s.mark_pt * 1.25)
        self._no_grid(p)
        self.run(p, self.s.mark or self.s.issuer, self.f["标题"], self.s.mark_pt, color=self.s.mark_color, latin=self.f["标题"])
        # 发文机关标志下 4 mm 处一条红色双线（上粗下细）
        self._border(p, "bottom", "thickThinSmallGap", 24, self.s.mark_color, space_pt=round(Mm(4).pt))

        foot = sec.first_page_footer
        foot.is_linked_to_previous = False
        q = foot.paragraphs[0]
        q.paragraph_format.left_indent = -overhang
        q.paragraph_format.right_indent = -overhang
        self._exact(q.paragraph_format, 2)
        self._no_grid(q)
        r = self.run(q, "", size=1)
        r.font.size = Pt(1)
        # 距下页边 20 mm 处一条红色双线（上细下粗）
        self._border(q, "bottom", "thinThickSmallGap", 24, self.s.mark_color, space_pt=0)

        for footer, align in ((sec.footer, "right"), (sec.even_page_footer, "left")):
            footer.is_linked_to_previous = False
            fp = footer.paragraphs[0]
            self._page_number(fp, align)

    def _no_grid(self, p) -> None:
        _put(p._p.get_or_add_pPr(), _el("w:snapToGrid", val=0), PPR_ORDER)

    def _page_number(self, p, align: str) -> None:
        """— 2 —: 4号半角宋体, 一字线 on each side, 空一字 from the outer edge, 7 mm under the text block."""
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Mm, Pt

        pf = p.paragraph_format
        pf.alignment = WD_ALIGN_PARAGRAPH.RIGHT if align == "right" else WD_ALIGN_PARAGRAPH.LEFT
        if align == "right":
            pf.right_indent = Pt(CC_PT)
        else:
            pf.left_indent = Pt(CC_PT)
        self._exact(pf, CC_PT * 1.3)
        # the 一字线's middle 7 mm under the text block's bottom edge (35 mm): 28 mm above the page edge
        pf.space_after = Pt(Mm(MARGIN_MM["bottom"] - 7 - FOOTER_MM).pt - CC_PT * 1.3 / 2)
        self._no_grid(p)
        font = self.f["页码"]
        self.run(p, "— ", font, CC_PT, latin=font)
        r = self.run(p, "", font, CC_PT, latin=font)
        r._r.append(_el("w:fldChar", fldCharType="begin"))
        r = self.run(p, "", font, CC_PT, latin=font)
        instr = _el("w:instrText")
        instr.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        instr.text = " PAGE "
        r._r.append(instr)
        r = self.run(p, "", font, CC_PT, latin=font)
        r._r.append(_el("w:fldChar", fldCharType="separate"))
        self.run(p, "2", font, CC_PT, latin=font)
        r = self.run(p, "", font, CC_PT, latin=font)
        r._r.append(_el("w:fldChar", fldCharType="end"))
        self.run(p, " —", font, CC_PT, latin=font)

    # the document's parts
    def number(self, number: str) -> None:
        """发文字号: 顶格居版心右边缘, under the red double line."""
        p = self.para("right", first_chars=0)
        self.run(p, number)

    def title(self, lines: list[str], page_break: bool = False) -> None:
        p = self.para("center", first_chars=0)
        p.paragraph_format.keep_with_next = True
        for k, line in enumerate(lines):
            r = self.run(p, line, self.f["标题"], TITLE_PT, latin=self.f["标题"])
            if k < len(lines) - 1:
                r.add_break()
        return p

    def addressee(self, text: str) -> None:
        p = self.para("justify", first_chars=0)
        self.run(p, text.rstrip("：:") + "：")

    def body(self, text: str) -> None:
        self.run(self.para(), text)

    def h1(self, text: str) -> None:
        p = self.para()
        p.paragraph_format.keep_with_next = True
        self.run(p, text, self.f["一级标题"], latin=self.f["一级标题"])

    def h2(self, text: str) -> None:
        """（一）lead sentence in 楷体, up to its first 。; the rest of the paragraph in 仿宋."""
        p = self.para()
        cut = text.find("。")
        lead, rest = (text[:cut + 1], text[cut + 1:]) if cut >= 0 else (text, "")
        self.run(p, lead, self.f["二级标题"], latin=self.f["西文"])
        if rest:
            self.run(p, rest)

    def h3(self, text: str) -> None:
        """1. third-level heading: 仿宋, like the body, kept with what follows."""
        p = self.para()
        p.paragraph_format.keep_with_next = True
        self.run(p, text)

    def page_break(self) -> None:
        """The next annex mark or annex title starts a new page."""
        self._break_next = True

    def annex(self, mark: str, title: str) -> None:
        """An annex on a new page: 附件N 黑体 顶格, then its title centred on the third line."""
        self.page_break()
        self.annex_mark(mark)
        self.annex_title(title)

    def annex_note(self, text: str) -> None:
        """附件说明: 正文下空一行左空二字; a wrapped name lines up after “附件：”."""
        self.blank()
        p = self.para(first_chars=-3, left_pt=5 * CHAR_PT)
        self.run(p, text)

    def signature(self, issued_on: dt.date, issuer: str | None = None, note: str | None = None) -> None:
        """发文机关署名 and 成文日期 without a seal (GB/T 9704 §7.3.5.2): the name 右空二字 one blank line
        under the text; the date on the next line, its first character two right of the name's;
        then the 附注 in parentheses (the style's unless given)."""
        name, date = issuer if issuer is not None else self.s.issuer, fmt_date(issued_on)
        note = self.s.note if note is None else note
        w_name, w_date = width(name), width(date)
        if w_date <= w_name:          # the date starts two characters right of the name's start
            name_right, date_right = 2.0, w_name - w_date
        else:                         # a longer date keeps 右空二字 and the name moves left of it
            name_right, date_right = 4.0 + w_date - w_name, 2.0
        self.blank()
        p = self.para("right", first_chars=0, right_pt=name_right * CHAR_PT)
        p.paragraph_format.keep_with_next = True
        self.run(p, name)
        p = self.para("right", first_chars=0, right_pt=max(date_right, 0) * CHAR_PT)
        self.run(p, date)
        if note:
            p = self.para()
            self.run(p, "（" + note.strip("（）()") + "）")

    def annex_mark(self, text: str) -> None:
        """附件: 黑体, 顶格 on the first line of the annex's page."""
        p = self.para("left", first_chars=0)
        self._page_break_before(p)
        self.run(p, text, self.f["一级标题"], latin=self.f["一级标题"])

    def annex_title(self, text: str) -> None:
        """附件标题: 居中 on the third line of the page."""
        self.blank()
        p = self.title([text])
        self._page_break_before(p)

    def _page_break_before(self, p) -> None:
        if self._break_next:
            p.paragraph_format.page_break_before = True
            self._break_next = False

    def table(self, header: list[str], rows: list[list[str]], widths_mm: list[float],
              align: list[str]) -> None:
        from docx.enum.table import WD_TABLE_ALIGNMENT
        from docx.shared import Mm

        self.blank()
        t = self.doc.add_table(rows=1, cols=len(header))
        t.style = self.doc.styles["Table Grid"]
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        t.autofit = False
        tbl_pr = t._tbl.tblPr
        margins = _el("w:tblCellMar")
        for side in ("left", "right"):   # 1 mm cell margins: dates and ids fit their columns
            margins.append(_el(f"w:{side}", w=Mm(1).twips, type="dxa"))
        _put(tbl_pr, margins, TBLPR_ORDER)
        for k, text in enumerate(header):
            cell = t.rows[0].cells[k]
            p = cell.paragraphs[0]
            self._cell_para(p, "center")
            self.run(p, text, self.f["一级标题"], TABLE_PT, latin=self.f["一级标题"])
        tr_pr = t.rows[0]._tr.get_or_add_trPr()
        tr_pr.append(_el("w:tblHeader"))  # repeat the header row on every page
        for values in rows:
            cells = t.add_row().cells
            for k, text in enumerate(values):
                p = cells[k].paragraphs[0]
                self._cell_para(p, align[k])
                self.run(p, text, size=TABLE_PT)
        for row in t.rows:
            row._tr.get_or_add_trPr().append(_el("w:cantSplit"))
            for k, cell in enumerate(row.cells):
                cell.width = Mm(widths_mm[k])
        for k, col in enumerate(t.columns):
            col.width = Mm(widths_mm[k])

    def _cell_para(self, p, align: str) -> None:
        from docx.enum.text import WD_ALIGN_PARAGRAPH
        from docx.shared import Pt

        pf = p.paragraph_format
        pf.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                        "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
        pf.first_line_indent = Pt(0)
        self._exact(pf, TABLE_PT * 1.5)
        pf.space_before = pf.space_after = Pt(2)
        self._no_grid(p)

    def cc(self, names: list[str]) -> None:
        """版记 抄送: 4号仿宋, 左右各空一字, a wrapped line aligned after “抄送：”, 句号 at the end; in a
        frame at the foot of the last page's text block (信函格式: no separator lines)."""
        if not names:
            return
        from docx.shared import Pt

        text = "抄送：" + "，".join(n.strip("，。, ") for n in names) + "。"
        p = self.para("justify", first_chars=0, left_pt=CC_PT * 4, line_pt=CC_PT * 1.6)
        p.paragraph_format.first_line_indent = Pt(-CC_PT * 3)
        p.paragraph_format.right_indent = Pt(CC_PT)
        self._no_grid(p)
        ppr = p._p.get_or_add_pPr()
        frame = _el("w:framePr", w=TEXT_W_TWIPS, wrap="notBeside", vAnchor="margin", hAnchor="margin",
                    xAlign="center", yAlign="bottom")
        _put(ppr, frame, PPR_ORDER)
        self.run(p, text, size=CC_PT)

    def properties(self, title: str = "", author: str = "", subject: str = "") -> None:
        """The file's properties (Word shows them); nothing else about who made it."""
        core = self.doc.core_properties
        core.title, core.author, core.subject, core.comments = clean(title), clean(author), clean(subject), ""

    def save(self, target) -> None:
        """Write to a path or a binary file."""
        self.doc.save(target)


def width(text: str) -> float:
    """Width in characters: full-width 1, ASCII (digits) ½."""
    return sum(0.5 if ord(c) < 0x2000 else 1.0 for c in text)


# --- PDF / PNG (LibreOffice) -------------------------------------------------------------------------


def to_pdf(docx_path: str | Path, out_dir: str | Path | None = None, timeout: float = 120) -> Path:
    """Convert a notice to PDF with LibreOffice headless (official fonts substituted by fonts.conf
    where they are not installed). Raises DocumentError when LibreOffice is missing or fails."""
    import os
    import shutil
    import subprocess
    import tempfile

    docx_path = Path(docx_path)
    out_dir = Path(out_dir or docx_path.parent)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office:
        raise DocumentError("LibreOffice (soffice) is not installed: cannot make a PDF")
    with tempfile.TemporaryDirectory(prefix="notice-lo-") as profile:
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
        cmd = [office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out_dir), str(docx_path)]
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, check=True)
        except (subprocess.SubprocessError, OSError) as e:
            raise DocumentError(f"LibreOffice could not convert {docx_path.name}: {e}") from None
    pdf = out_dir / (docx_path.stem + ".pdf")
    if not pdf.exists():
        raise DocumentError(f"LibreOffice wrote no PDF for {docx_path.name}")
    return pdf


def to_png(pdf: str | Path, dpi: int = 60) -> list[Path]:
    """Render each page of a PDF to PNG with pdftoppm; returns the page images in order."""
    import shutil
    import subprocess

    pdf = Path(pdf)
    if not shutil.which("pdftoppm"):
        raise DocumentError("pdftoppm (poppler-utils) is not installed: cannot render pages")
    stem = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(stem)], check=True, capture_output=True)
    return sorted(pdf.parent.glob(stem.name + "-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))

