"""提醒敦促函: the quarterly warning notices, as official letters (GB/T 9704-2012 信函格式).

For each warned unit of a quarter (metrics.warned) a .docx laid out by official.writer: the red
issuer mark and double red line, the document number 〔year〕N号, a title in 小标宋, the body in
仿宋 3号 on the 22-lines × 28-characters grid, the unit's score and rank among its peers, the
items where it lost points with the figures behind them, its overdue major hazards (the same
records the score counted), the written reply required by a deadline, the signature block, and
抄送 at the foot of the last page.

Who issues and how documents are numbered and signed come from ``notice_settings.toml`` (and the
values notice staff set in the app, official.config); the wording comes from
``notice_template.txt`` (a Jinja text template, one line per paragraph): both are edited without
code. The layout is fixed, so an edited wording still comes out in the standard layout.

Numbering and logging are official.issue's and official.log's; this module only renders
(``preview_notice`` with the number left blank, 待编号). Also the Excel annex (the full score sheet).
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from etl.safe import safe_cell
from metrics import warned as W
from metrics.periods import Period
from metrics.provinces import province_name, resolve_province
from metrics.rounding import round_half_away
from metrics.scheme import Scheme, load_scheme
from metrics.warning import WarningRule
from official.writer import DEFAULT_FONTS, OfficialDocument, Style, clean as _clean, fmt_date

HERE = Path(__file__).resolve().parent
DEFAULT_SETTINGS = HERE / "notice_settings.toml"
DEFAULT_TEMPLATE = HERE / "notice_template.txt"

# GB/T 2260 province prefix → the province's one-character abbreviation (发文字号: 川应急函, 浙应急函 …)
PROVINCE_ABBR = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "内蒙古", "21": "辽", "22": "吉", "23": "黑",
    "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫",
    "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "黔",
    "53": "云", "54": "藏", "61": "陕", "62": "甘", "63": "青", "64": "宁", "65": "新",
}
PREVIEW_NUMBER_SEQ = "　"  # 待编号: a preview leaves N blank




class NoticeError(ValueError):
    """Settings, template or data that cannot make a notice; the message says which and where."""


# --- settings -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NoticeSettings:
    issuer: str
    mark: str
    prefix: str
    start_seq: int
    addressee: str
    reply_days: int
    note: str
    cc: tuple[str, ...]
    level_names: dict
    fonts: dict
    mark_pt: float
    mark_color: str
    figures: dict
    figures_na: dict
    path: Path | None = None

    def style(self) -> Style:
        """The writer's style: issuer, red mark, fonts, 附注."""
        return Style(issuer=self.issuer, mark=self.mark or self.issuer, mark_pt=self.mark_pt,
                     mark_color=self.mark_color, fonts=dict(self.fonts), note=self.note)

    def resolved(self, province: str, province_code: str) -> NoticeSettings:
        """The settings with {省} and {省简称} filled in for a province."""
        values = {"省": province, "省简称": PROVINCE_ABBR.get(str(province_code)[:2], province[:1])}
        fill = lambda s, key: _fill(s, values, f"{self.path}: {key}", keep={"单位"})  # noqa: E731
        issuer = fill(self.issuer, "[发文机关] 名称")
        return replace(self, issuer=issuer, mark=fill(self.mark, "[发文机关] 标志") or issuer,
                       prefix=fill(self.prefix, "[发文机关] 发文字号前缀"),
                       addressee=fill(self.addressee, "[主送] 机关"), note=fill(self.note, "[附注] 内容"),
                       cc=tuple(fill(c, "[抄送] 机关") for c in self.cc))


_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def _fill(text: str, values: dict, where: str, keep: set[str] = frozenset()) -> str:
    """Replace {name} placeholders; an unknown name is an error that says where it was written."""
    def sub(m):
        name = m.group(1).strip()
        if name in values:
            return str(values[name])
        if name in keep:
            return m.group(0)
        raise NoticeError(f"{where}: unknown placeholder {{{name}}} (known: {', '.join(sorted(values) + sorted(keep))})")
    return _PLACEHOLDER.sub(sub, text)


_SETTINGS_KEYS = {
    "发文机关": {"名称": str, "标志": str, "发文字号前缀": str, "起始序号": int},
    "主送": {"机关": str},
    "回复": {"期限天数": int},
    "附注": {"内容": str},
    "抄送": {"机关": list},
    "层级名称": {"city": str, "county": str},
    "字体": {"正文": str, "标题": str, "一级标题": str, "二级标题": str, "页码": str, "西文": str},
    "红头": {"字号": (int, float), "颜色": str},
    "数据表述": None,  # free keys: indicator codes
}


def load_settings(path: str | Path | None = None) -> NoticeSettings:
    """Read and check notice_settings.toml; errors name the file and the key."""
    p = Path(path) if path else DEFAULT_SETTINGS
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise NoticeError(f"{p}: no such settings file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise NoticeError(f"{p}: not a valid TOML file (UTF-8): {e}") from None
    problems = []
    for section, value in data.items():
        if section not in _SETTINGS_KEYS:
            problems.append(f"unknown section [{section}] (known: {', '.join(_SETTINGS_KEYS)})")
            continue
        if not isinstance(value, dict):
            problems.append(f"[{section}] should be a section")
            continue
        keys = _SETTINGS_KEYS[section]
        for k, v in value.items():
            if keys is None:
                ok = isinstance(v, str) or (k == "不适用" and isinstance(v, dict))
                kind = str
            elif k not in keys:
                problems.append(f"[{section}] unknown key {k!r} (known: {', '.join(keys)})")
                continue
            else:
                kind = keys[k]
                ok = isinstance(v, kind) and not isinstance(v, bool)
            if not ok:
                problems.append(f"[{section}] {k} = {v!r} has the wrong type")
    for section, keys in (("发文机关", ("名称", "发文字号前缀")), ("主送", ("机关",))):
        for k in keys:
            if not str(data.get(section, {}).get(k, "")).strip():
                problems.append(f"[{section}] {k} is required")
    if problems:
        raise NoticeError(f"{p}: " + "; ".join(problems))

    def get(section, key, default):
        return data.get(section, {}).get(key, default)

    days = get("回复", "期限天数", 15)
    start = get("发文机关", "起始序号", 1)
    if days < 1 or start < 1:
        raise NoticeError(f"{p}: [回复] 期限天数 and [发文机关] 起始序号 should be 1 or more")
    color = get("红头", "颜色", "FF0000").lstrip("#").upper()
    if not re.fullmatch(r"[0-9A-F]{6}", color):
        raise NoticeError(f"{p}: [红头] 颜色 should be six hex digits like FF0000, not {color!r}")
    fonts = {**DEFAULT_FONTS, **data.get("字体", {})}
    figures = {k: v for k, v in data.get("数据表述", {}).items() if isinstance(v, str)}
    figures_na = dict(data.get("数据表述", {}).get("不适用", {}))
    cc = get("抄送", "机关", [])
    if not all(isinstance(c, str) for c in cc):
        raise NoticeError(f"{p}: [抄送] 机关 should be a list of names in quotes")
    return NoticeSettings(
        issuer=get("发文机关", "名称", ""), mark=get("发文机关", "标志", ""), prefix=get("发文机关", "发文字号前缀", ""),
        start_seq=start, addressee=get("主送", "机关", ""), reply_days=days, note=get("附注", "内容", ""),
        cc=tuple(c for c in cc if c.strip()), level_names={"city": "", "county": "", **data.get("层级名称", {})},
        fonts=fonts, mark_pt=float(get("红头", "字号", 30)), mark_color=color, figures=figures,
        figures_na=figures_na, path=p)


def load_template(path: str | Path | None = None) -> str:
    p = Path(path) if path else DEFAULT_TEMPLATE
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise NoticeError(f"{p}: no such template file") from None
    except UnicodeDecodeError as e:
        raise NoticeError(f"{p}: save the template as UTF-8 text ({e})") from None


# --- placeholders: what must be filled in before a number is given ----------------------------------
PLACEHOLDER_TEXT = re.compile(r"[×╳xX]{3,}|[×╳]{2,}|[【［\[]\s*待[填定补][^】］\]]*[】］\]]|待填|○{2,}|_{3,}|＿{2,}")
SETTING_NAMES = {  # attribute → (file section and key, what notice staff call it in the app)
    "issuer": ("[发文机关] 名称", "发文机关名称"), "mark": ("[发文机关] 标志", "发文机关标志"),
    "prefix": ("[发文机关] 发文字号前缀", "发文字号前缀"), "addressee": ("[主送] 机关", "主送机关"),
    "note": ("[附注] 内容", "联系人及电话（附注）"), "cc": ("[抄送] 机关", "抄送机关"),
}


def placeholders(settings: NoticeSettings, template: str, template_name: str = "notice_template.txt") -> list[str]:
    """Why the notices may not be numbered yet: each setting or template line still holding a
    placeholder (×××, 【待填】, ○○, ___ …), named, in Chinese. Empty when all is filled in."""
    out = []
    where = settings.path.name if settings.path else "发文设置"
    for attr, (key, label) in SETTING_NAMES.items():
        value = getattr(settings, attr)
        for text in (value if isinstance(value, tuple) else (value,)):
            if m := PLACEHOLDER_TEXT.search(text or ""):
                out.append(f"发文设置“{label}”（{where} {key}）仍是占位内容“{text}”（{m.group(0)}）")
    for k, v in {**settings.figures, **settings.figures_na}.items():
        if isinstance(v, str) and (m := PLACEHOLDER_TEXT.search(v)):
            out.append(f"发文设置 {where} [数据表述] {k} 仍含占位内容“{m.group(0)}”")
    body = re.sub(r"\{#.*?#\}", lambda m: "\n" * m.group(0).count("\n"), template, flags=re.S)
    for n, line in enumerate(body.split("\n"), 1):
        if m := PLACEHOLDER_TEXT.search(line):
            out.append(f"措辞模板 {template_name} 第 {n} 行仍含占位内容“{m.group(0)}”")
    return out


def refuse_placeholders(settings: NoticeSettings, template: str, template_name: str = "notice_template.txt") -> None:
    """Raise NoticeError (in Chinese, naming each setting) while anything is left to fill in."""
    found = placeholders(settings, template, template_name)
    if found:
        raise NoticeError("不能编号印发：" + "；".join(found) + "。请先在“发文设置”中填写（预览不受影响）。")


# --- the data of a notice -------------------------------------------------------------------------
@dataclass(frozen=True)
class LostItem:
    """A score item the unit lost points on, or a deduction it suffered, with its figures."""
    indicator: str
    name: str
    kind: str                       # "项目" (an item scored below its points) | "扣分" (a deduction)
    full: float | None              # the item's points; None for a deduction
    points: float                   # points scored (item) or deducted (deduction), unrounded
    value: float | None
    numerator: float | None
    denominator: float | None
    target: float | None
    unit: str
    na: bool
    figures: str = ""               # the sentence with the figures, from the settings

    @property
    def lost(self) -> float:
        """Points lost as published: full − the rounded points (so 得 + 失 = 满分 on the page)."""
        return self.points if self.full is None else self.full - round_half_away(self.points, 1)


@dataclass(frozen=True)
class OverdueHazard:
    hazard_id: str
    enterprise: str
    place: str                      # the county the enterprise lies in
    found_date: dt.date
    deadline: dt.date
    days_overdue: int


@dataclass(frozen=True)
class NoticeData:
    unit_code: str
    unit_name: str
    level: str
    quarter: Period
    province_code: str
    province_name: str
    scope: str                      # 全省, or the city when counties are scored within each city
    score: float
    rank: int
    peers: int
    items_points: float
    bonus: float
    deduction: float
    threshold: float
    last: int
    lost_items: tuple[LostItem, ...] = ()
    hazards: tuple[OverdueHazard, ...] = ()
    overdue_count: int = 0
    level_noun: str = ""            # 设区市 / 市（州） / 县（市、区）: the peers' name, from the province's regions

    def request(self):
        """What the log records of this notice (official.log.NoticeRequest)."""
        from official.log import NoticeRequest

        return NoticeRequest(self.unit_code, self.unit_name, self.level, str(self.quarter),
                                        self.score, self.rank, self.peers)


def _isna(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def fmt_number(x, decimals: int = 1) -> str:
    """2255 → '2255', 300.25 → '300.3', 8.0 → '8'; NA → '—'."""
    if _isna(x):
        return "—"
    r = round_half_away(float(x), decimals)
    text = f"{r:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def fmt_value(x, unit: str) -> str:
    if _isna(x):
        return "不适用"
    if unit == "%":
        return f"{round_half_away(float(x) * 100, 1):.1f}%"
    if unit == "万元":
        return f"{round_half_away(float(x), 2):.2f}万元"
    return fmt_number(x)


def fmt_short_date(d: dt.date) -> str:
    """2024.8.23, for table cells."""
    return f"{d.year}.{d.month}.{d.day}"


def figures_sentence(item: LostItem, settings: NoticeSettings, indicator_name: str) -> str:
    values = {"分子": fmt_number(item.numerator), "分母": fmt_number(item.denominator),
              "值": fmt_value(item.value, item.unit), "目标": fmt_value(item.target, item.unit),
              "指标": indicator_name}
    if item.na and item.kind == "项目":
        text = settings.figures_na.get(item.indicator, settings.figures_na.get("默认", "无相关数据"))
        key = f"[数据表述.不适用] {item.indicator}"
    else:
        text = settings.figures.get(item.indicator, settings.figures.get("默认", "{指标}{值}"))
        key = f"[数据表述] {item.indicator}"
    return _fill(text, values, f"{settings.path}: {key}")



def build_notices(con: duckdb.DuckDBPyConnection, quarter: str | Period, level: str = "city",
                  province: str | None = None, scheme: Scheme | None = None,
                  settings: NoticeSettings | None = None, score: pd.DataFrame | None = None) -> list[NoticeData]:
    """The notice data of every warned unit of the quarter, lowest score first: the figures from
    metrics.warned, each lost item's sentence from the settings.

    ``score`` is compute_score's frame when the caller already has it (the page does).
    """
    from metrics.score import compute_score

    period = Period.parse(quarter)
    scheme = scheme or load_scheme()
    settings = settings or load_settings()
    province = resolve_province(con, province)
    if score is None:
        score = compute_score(con, period, level, province, scheme)
    warned = W.warned_units(score)
    if warned.empty:
        return []
    lost_all = W.lost_items(con, period, level, province, scheme, score)
    pname = province_name(con, province)
    names = W.region_names(con, province)
    noun = W.level_noun(con, province, level)
    out = []
    for _, row in warned.iterrows():
        code = str(row["code"])
        lost = []
        for r in lost_all[lost_all["code"] == code].itertuples(index=False):
            item = LostItem(r.indicator, r.name, r.kind, _num(r.full), float(r.points), _num(r.value),
                            _num(r.numerator), _num(r.denominator), _num(r.target), r.unit, bool(r.na))
            lost.append(replace(item, figures=figures_sentence(item, settings, r.name)))
        hazards = overdue_hazards(con, period, code, scheme, names)
        scope = "全省" if str(row["group"]) == province else names.get(str(row["group"]), "全市")
        out.append(NoticeData(
            code, str(row["name"]), level, period, province, pname, scope, float(row["score"]), int(row["rank"]),
            int(row["peers"]), float(row["items"]), float(row["bonus"]), float(row["deduction"]),
            float(scheme.warning.threshold), int(scheme.warning.last), tuple(lost), tuple(hazards),
            int(round(_num(row.get("overdue_major_value")) or len(hazards))), noun))
    return out


def _num(x) -> float | None:
    return None if _isna(x) else float(x)


def overdue_hazards(con: duckdb.DuckDBPyConnection, period: Period, code: str, scheme: Scheme,
                    names: dict[str, str] | None = None) -> list[OverdueHazard]:
    """metrics.warned.overdue_hazards as the notice's rows."""
    df = W.overdue_hazards(con, period, code, scheme, names)
    return [OverdueHazard(*r) for r in df.itertuples(index=False)]


level_noun = W.level_noun
LEVEL_NOUNS = W.LEVEL_NOUNS


# --- wording: the template ------------------------------------------------------------------------
CN_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (up to 99)."""
    n = int(n)
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + ("" if ones == 0 else CN_DIGITS[ones])


def reply_due(issued_on: dt.date, settings: NoticeSettings) -> dt.date:
    return issued_on + dt.timedelta(days=settings.reply_days)


def context(data: NoticeData, settings: NoticeSettings, number: str, issued_on: dt.date, due: dt.date) -> dict:
    """What the template can use (Chinese names, as the template's header lists them)."""
    unit_fill = {"单位": data.unit_name}
    return {
        "单位": data.unit_name,
        "主送机关": _fill(settings.addressee, unit_fill, f"{settings.path}: [主送] 机关"),
        "省": data.province_name,
        "季度": data.quarter.label,
        "季度末": fmt_date(data.quarter.end),
        "层级": settings.level_names.get(data.level) or data.level_noun or LEVEL_NOUNS.get(data.level, data.level),
        "考评范围": data.scope,
        "同级单位数": data.peers,
        "得分": f"{round_half_away(data.score, 1):.1f}",
        "排名": data.rank,
        "预警规则": WarningRule(data.threshold, data.last).condition(),  # the rule's own sentence
        "预警分数线": fmt_number(data.threshold),
        "末位数": data.last,
        "项目得分": fmt_number(data.items_points),
        "加分": fmt_number(data.bonus),
        "扣分": fmt_number(data.deduction),
        "失分项": [{"名称": i.name, "满分": fmt_number(i.full), "得分": fmt_number(i.points),
                  "失分": fmt_number(i.lost), "数据": i.figures, "类别": i.kind, "指标": i.indicator}
                 for i in data.lost_items],
        "逾期重大隐患": [{"序号": k, "隐患编号": h.hazard_id, "企业名称": h.enterprise, "所在地": h.place,
                      "发现日期": fmt_date(h.found_date), "整改期限": fmt_date(h.deadline), "逾期天数": h.days_overdue}
                     for k, h in enumerate(data.hazards, 1)],
        "逾期重大隐患数": len(data.hazards),
        "回复期限": fmt_date(due),
        "发文机关": settings.issuer,
        "成文日期": fmt_date(issued_on),
        "发文字号": number,
    }


@dataclass
class Block:
    kind: str          # title addressee h1 h2 body annex_note annex_mark annex_title signature pagebreak
    text: str = ""     # hazard_table lost_table
    lines: list[str] = field(default_factory=list)


_H1 = re.compile(r"^[一二三四五六七八九十]+、")
_H2 = re.compile(r"^（[一二三四五六七八九十]+）")
_MARKERS = {"署名": "signature", "分页": "pagebreak", "隐患清单": "hazard_table", "失分明细表": "lost_table"}
_MARKER = re.compile(r"^[［【\[]\s*(\S+?)\s*[］】\]]$")
_LABELS = [("标题：", "title"), ("主送：", "addressee"), ("附件标识：", "annex_mark"), ("附件标题：", "annex_title"),
           ("附件：", "annex_note")]


def render_wording(template: str, ctx: dict, template_name: str = "notice_template.txt") -> list[Block]:
    """Fill the template (sandboxed Jinja, unknown names are errors) and read its lines as blocks."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    # no trim_blocks: a line ending in {% endif %} keeps its line break (empty lines are dropped anyway)
    env = SandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False, lstrip_blocks=True,
                               keep_trailing_newline=True)
    env.filters["中文数字"] = chinese_numeral
    try:
        text = env.from_string(template).render(**ctx)
    except jinja2.TemplateSyntaxError as e:
        raise NoticeError(f"{template_name}:{e.lineno}: {e.message}") from None
    except jinja2.UndefinedError as e:
        raise NoticeError(f"{template_name}: {e.message} — the data the template may use are listed at its top") from None
    except jinja2.TemplateError as e:
        raise NoticeError(f"{template_name}: {e}") from None
    blocks: list[Block] = []
    for raw in text.split("\n"):  # not splitlines(): a vertical tab in a unit's name is no line break
        line = _clean(raw).strip()
        if not line:
            continue
        if m := _MARKER.match(line):
            kind = _MARKERS.get(m.group(1))
            if kind is None:
                raise NoticeError(f"{template_name}: unknown mark {line} (known: "
                                  + "、".join(f"［{k}］" for k in _MARKERS) + ")")
            blocks.append(Block(kind))
            continue
        for label, kind in _LABELS:
            if line.startswith(label):
                body = line[len(label):].strip()
                if kind == "annex_note":
                    body = line  # 附件说明 keeps its “附件：”
                if kind == "title" and blocks and blocks[-1].kind == "title":
                    blocks[-1].lines.append(body)
                else:
                    blocks.append(Block(kind, body, [body]))
                break
        else:
            kind = "h1" if _H1.match(line) else "h2" if _H2.match(line) else "body"
            blocks.append(Block(kind, line, [line]))
    return blocks



LOST_TABLE = (["考评项目", "满分", "得分", "失分", "有关数据"], [40, 14, 14, 14, 74],
              ["left", "center", "center", "center", "left"])
HAZARD_TABLE = (["序号", "企业名称", "所在地", "隐患编号", "发现日期", "整改期限", "逾期天数"],
                [11, 45, 16, 28, 19, 19, 18], ["center", "left", "center", "center", "center", "center", "center"])


PREVIEW_MARK = "预览稿（未编号，不得印发）"


def render_docx(data: NoticeData, settings: NoticeSettings, template: str, number: str, issued_on: dt.date,
                due: dt.date | None = None, target=None, template_name: str = "notice_template.txt",
                preview: bool = False):
    """Write one notice (.docx) to ``target`` (a path or a binary file); returns the python-docx Document.
    ``preview`` marks it as such on the number's line (预览稿) and in its title."""
    settings = settings.resolved(data.province_name, data.province_code)
    due = due or reply_due(issued_on, settings)
    blocks = render_wording(template, context(data, settings, number, issued_on, due), template_name)
    kinds = [b.kind for b in blocks]
    if "signature" not in kinds:
        raise NoticeError(f"{template_name}: the mark ［署名］ is missing (where the signature and date go)")
    w = OfficialDocument(settings.style())
    w.letterhead()
    w.number(f"{PREVIEW_MARK}　{number}" if preview else number)
    for k, b in enumerate(blocks):
        before = blocks[k - 1].kind if k else None
        if b.kind == "title":
            if before is None:
                w.blank(2)  # 标题与其上最后一个要素（发文字号）相距二行
            w.title(b.lines)
        elif b.kind == "addressee":
            if before == "title":
                w.blank()
            w.addressee(b.text)
        elif b.kind in ("body", "h1", "h2"):
            getattr(w, b.kind)(b.text)
        elif b.kind == "annex_note":
            w.annex_note(b.text)
        elif b.kind == "signature":
            w.signature(issued_on)
        elif b.kind == "pagebreak":
            w.page_break()
        elif b.kind == "annex_mark":
            w.annex_mark(b.text)
        elif b.kind == "annex_title":
            w.annex_title(b.text)
        elif b.kind == "hazard_table":
            header, widths, align = HAZARD_TABLE
            rows = [[str(k), h.enterprise, h.place, h.hazard_id, fmt_short_date(h.found_date),
                     fmt_short_date(h.deadline), str(h.days_overdue)] for k, h in enumerate(data.hazards, 1)]
            w.table(header, rows, widths, align)
        elif b.kind == "lost_table":
            header, widths, align = LOST_TABLE
            rows = [[i.name, fmt_number(i.full), fmt_number(i.points) if i.full is not None else "—",
                     fmt_number(i.lost), i.figures] for i in data.lost_items]
            w.table(header, rows, widths, align)
    if settings.cc:
        w.cc([_fill(c, {"单位": data.unit_name}, f"{settings.path}: [抄送] 机关") for c in settings.cc])
    w.properties(("（预览稿）" if preview else "")
                 + ("".join(blocks[kinds.index("title")].lines) if "title" in kinds else "提醒敦促函"),
                 settings.issuer, f"{number} {data.unit_name} {data.quarter.label}")
    if target is not None:
        w.save(target)
    return w.doc


# --- previewing -----------------------------------------------------------------
def file_name(data: NoticeData, number: str | None) -> str:
    """2024Q3-金华市-浙应急函〔2025〕3号.docx (a preview: 2024Q3-金华市-提醒敦促函（预览）.docx)."""
    tail = number if number else "提醒敦促函（预览）"
    return re.sub(r'[\\/:*?"<>|\s]+', "_", _clean(f"{data.quarter}-{data.unit_name}-{tail}")) + ".docx"


def preview_number(settings: NoticeSettings, data: NoticeData, on: dt.date) -> str:
    """The number a preview shows: the prefix and year with N left blank (待编号)."""
    s = settings.resolved(data.province_name, data.province_code)
    return f"{s.prefix}〔{on.year}〕{PREVIEW_NUMBER_SEQ}号"


def preview_notice(data: NoticeData, settings: NoticeSettings | None = None, template: str | None = None,
                   on: dt.date | None = None, number: str | None = None) -> bytes:
    """The .docx of one notice without numbering or logging it: the number left blank and the
    document marked 预览稿 — unless ``number`` is given (an issued notice, shown again).
    Placeholders in the settings are allowed here; numbering refuses them."""
    settings = settings or load_settings()
    template = template if template is not None else load_template()
    on = on or dt.date.today()
    buf = io.BytesIO()
    render_docx(data, settings, template, number or preview_number(settings, data, on), on, target=buf,
                preview=number is None)
    return buf.getvalue()


def score_sheet(score: pd.DataFrame, scheme: Scheme) -> pd.DataFrame:
    """The full score sheet as people read it: Chinese headers, published values, 无数据 rows last."""
    spec = scheme.require_score()
    df = score.copy()
    df["_order"] = df["rank"].astype("Float64").fillna(1e9)
    df = df.sort_values(["group", "_order", "code"])
    out = pd.DataFrame({"排名": df["rank"].astype("Int64"), "代码": df["code"], "单位": df["name"],
                        "得分": df["score"]})
    out["项目得分"] = round_half_away(df["items"].astype(float), 1)
    out["加分"], out["扣分"] = df["bonus"], df["deduction"]
    for it in spec.items:
        ind = scheme.indicator(it.indicator)
        value = df[f"{it.indicator}_value"].astype(float)
        out[f"{ind.name}" + ("（%）" if ind.unit == "%" else f"（{ind.unit}）")] = round_half_away(
            value * (100 if ind.unit == "%" else 1), 1)
        out[f"{ind.name}得分（满分{fmt_number(it.points)}）"] = round_half_away(df[f"{it.indicator}_points"].astype(float), 1)
    for a in [*spec.bonus, *spec.deductions]:
        ind = scheme.indicator(a.indicator)
        out[f"{ind.name}（{ind.unit}）"] = df[f"{a.indicator}_value"].astype(float)
    out["提醒敦促"] = df["warned"].map(lambda w: "是" if w is True else ("" if _isna(w) else "否"))
    out["说明"] = [r if r else f for r, f in zip(df["reason"].fillna(""), df.get("flags", pd.Series("", index=df.index)).fillna(""))]
    out.loc[~df["assessed"].astype(bool).to_numpy(), "得分"] = None
    return out.reset_index(drop=True)


def score_sheet_xlsx(score: pd.DataFrame, scheme: Scheme, title: str, target=None) -> bytes:
    """The Excel annex: a title row, the score sheet, every text cell formula-safe (etl.safe)."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter

    sheet = score_sheet(score, scheme)
    wb = Workbook()
    ws = wb.active
    ws.title = "得分表"
    ws.append([safe_cell(_clean(title))])
    ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(sheet.columns))
    ws["A1"].font = Font(name="方正小标宋简体", size=16)
    ws["A1"].alignment = Alignment(horizontal="center")
    ws.append([safe_cell(c) for c in sheet.columns])
    thin = Side(style="thin")
    for cell in ws[2]:
        cell.font = Font(name="黑体", bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    at_score = list(sheet.columns).index("得分")
    for row in sheet.itertuples(index=False):
        # a missing figure says why (issue 12): the unit was not assessed, or the item has no denominator
        why = MISSING_NO_DATA if _isna(row[at_score]) else MISSING_NOT_APPLICABLE
        ws.append([why if _isna(v) else _xl(v) for v in row])
    ws.cell(row=2, column=at_score + 1).comment = Comment(MISSING_LEGEND, "执法效能")
    for row in ws.iter_rows(min_row=2, max_row=ws.max_row, max_col=len(sheet.columns)):
        for cell in row:
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    for k, col in enumerate(sheet.columns, 1):
        ws.column_dimensions[get_column_letter(k)].width = 40 if col == "说明" else max(8, min(18, len(col) * 2 + 2))
    ws.freeze_panes = "D3"
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if target is not None:
        Path(target).write_bytes(data)
    return data


MISSING_NO_DATA, MISSING_NOT_APPLICABLE = "— 无数据", "— 不适用"
MISSING_LEGEND = "“— 无数据”：本期无检查、隐患和立案记录，不参加考评；“— 不适用”：该项分母为0（无应计事项）。"


def _xl(v):
    """A cell value: None for NA, plain Python numbers, formula-safe text."""
    if _isna(v):
        return None
    if isinstance(v, str):
        return safe_cell(_clean(v))
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
    return v


def annex_name(period: Period, level: str) -> str:
    return f"{period}-{'市' if level == 'city' else '县'}-执法量化考评得分表.xlsx"


def annex_title(period: Period, province: str, level: str, settings: NoticeSettings, noun: str = "") -> str:
    return f"{province}{period.label}{settings.level_names.get(level) or noun}安全生产执法量化考评得分表"


