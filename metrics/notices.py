"""提醒敦促函: the quarterly warning notices, as official letters (GB/T 9704-2012 信函格式).

For each warned unit of a quarter (metrics.score.warnings) a .docx: the red issuer mark and double
red line, the document number 〔year〕N号, a title in 小标宋, the body in 仿宋 3号 on the
22-lines × 28-characters grid, the unit's score and rank among its peers, the items where it lost
points with the figures behind them, its overdue major hazards (through metrics.explain, the same
records the score counted), the written reply required by a deadline, the signature block, and
抄送 at the foot of the last page. Page numbers "— 2 —" from the second page (信函: none on the
first).

Who issues and how documents are numbered and signed come from ``notice_settings.toml``; the
wording comes from ``notice_template.txt`` (a Jinja text template, one line per paragraph): both
are edited without code. The layout is fixed here, so an edited wording still comes out in the
standard layout.

Numbers come from the warehouse's notice log (etl.notice_log): ``issue_notices`` numbers and logs
the notices in one write, reusing a unit's number when its notice for the quarter is issued again.
``preview_notice`` renders without logging (the number is left blank, 待编号).

Also: a ZIP of a quarter's notices, the Excel annex of the full score sheet, the follow-up of the
warned units in the next quarter, and the ``notices`` sub-command of ``python -m metrics``.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
import sys
import tomllib
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from etl import notice_log
from etl.safe import safe_cell
from metrics.periods import Period
from metrics.provinces import province_name, resolve_province
from metrics.rounding import round_half_away
from metrics.scheme import Scheme, load_scheme

HERE = Path(__file__).resolve().parent
DEFAULT_SETTINGS = HERE / "notice_settings.toml"
DEFAULT_TEMPLATE = HERE / "notice_template.txt"
HELP = "提醒敦促函: one .docx per warned unit into --out DIR (numbered and logged); prints their paths"

# GB/T 2260 province prefix → the province's one-character abbreviation (发文字号: 川应急函, 浙应急函 …)
PROVINCE_ABBR = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "内蒙古", "21": "辽", "22": "吉", "23": "黑",
    "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫",
    "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "黔",
    "53": "云", "54": "藏", "61": "陕", "62": "甘", "63": "青", "64": "宁", "65": "新",
}
PREVIEW_NUMBER_SEQ = "　"  # 待编号: a preview leaves N blank

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
    fonts = {"正文": "仿宋_GB2312", "标题": "方正小标宋简体", "一级标题": "黑体", "二级标题": "楷体_GB2312",
             "页码": "宋体", "西文": "Times New Roman", **data.get("字体", {})}
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

    def request(self) -> notice_log.NoticeRequest:
        return notice_log.NoticeRequest(self.unit_code, self.unit_name, self.level, str(self.quarter),
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


def fmt_date(d: dt.date) -> str:
    """2025年4月3日 (GB/T 9704: Arabic numerals, no leading zeros)."""
    return f"{d.year}年{d.month}月{d.day}日"


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
    """The notice data of every warned unit of the quarter, lowest score first.

    ``score`` is compute_score's frame when the caller already has it (the page does).
    """
    from metrics.indicators import compute_indicators
    from metrics.score import compute_score

    period = Period.parse(quarter)
    scheme = scheme or load_scheme()
    settings = settings or load_settings()
    province = resolve_province(con, province)
    if score is None:
        score = compute_score(con, period, level, province, scheme)
    warned = score[score["warned"].fillna(False).astype(bool)].sort_values(["group", "score", "code"])
    if warned.empty:
        return []
    spec = scheme.require_score()
    codes = list(dict.fromkeys([it.indicator for it in spec.items] + [a.indicator for a in spec.deductions]))
    long = compute_indicators(con, period, level, province, scheme, codes)
    long = long[long["code"].isin(warned["code"])].set_index(["code", "indicator"])
    pname = province_name(con, province)
    names = _region_names(con, province)
    noun = level_noun(con, province, level)
    out = []
    for _, row in warned.iterrows():
        code = str(row["code"])
        lost = []
        for it in spec.items:
            points = float(row[f"{it.indicator}_points"])
            if round_half_away(points, 1) >= it.points:
                continue
            ind = scheme.indicator(it.indicator)
            f = long.loc[(code, it.indicator)]
            target = it.target * (period.months_elapsed / 12.0 if it.prorate else 1.0)
            item = LostItem(it.indicator, ind.name, "项目", float(it.points), points, _num(f["value"]),
                            _num(f["numerator"]), _num(f["denominator"]), target, ind.unit,
                            bool(row[f"{it.indicator}_na"]))
            lost.append(replace(item, figures=figures_sentence(item, settings, ind.name)))
        for a in spec.deductions:
            points = float(row[f"{a.indicator}_points"])
            if points <= 0:
                continue
            ind = scheme.indicator(a.indicator)
            f = long.loc[(code, a.indicator)]
            item = LostItem(a.indicator, ind.name, "扣分", None, points, _num(f["value"]), _num(f["numerator"]),
                            None, None, ind.unit, False)
            lost.append(replace(item, figures=figures_sentence(item, settings, ind.name)))
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


def _region_names(con, province: str) -> dict[str, str]:
    rows = con.execute("SELECT code, name FROM regions WHERE province_code = ?", [province]).fetchall()
    return dict(rows)


def overdue_hazards(con: duckdb.DuckDBPyConnection, period: Period, code: str, scheme: Scheme,
                    names: dict[str, str] | None = None) -> list[OverdueHazard]:
    """The unit's overdue, unrectified major hazards at the quarter's end: exactly the records the
    overdue_major deduction counted (metrics.explain), longest overdue first."""
    from metrics.explain import records

    df = records(con, period, code, "overdue_major", "numerator", scheme)
    if df.empty:
        return []
    ids = list(df["enterprise_id"].dropna().unique())
    firms = dict(con.execute("SELECT enterprise_id, name FROM enterprises WHERE enterprise_id IN "
                             "(SELECT unnest(?::VARCHAR[]))", [ids]).fetchall()) if ids else {}
    names = names if names is not None else {}
    out = []
    for r in df.itertuples(index=False):
        deadline = pd.Timestamp(r.deadline).date()
        out.append(OverdueHazard(
            str(r.hazard_id), firms.get(r.enterprise_id, str(r.enterprise_id or "")),
            names.get(str(r.enterprise_county), str(r.enterprise_county or "")),
            pd.Timestamp(r.found_date).date(), deadline, (period.end - deadline).days))
    out.sort(key=lambda h: (-h.days_overdue, h.hazard_id))
    return out


# --- wording: the template ------------------------------------------------------------------------
CN_DIGITS = "零一二三四五六七八九"


def chinese_numeral(n: int) -> str:
    """1 → 一, 10 → 十, 12 → 十二, 21 → 二十一 (up to 99)."""
    n = int(n)
    if n < 10:
        return CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + ("" if ones == 0 else CN_DIGITS[ones])


LEVEL_NOUNS = {"city": "市（州）", "county": "县（市、区）"}


def level_noun(con: duckdb.DuckDBPyConnection, province: str, level: str) -> str:
    """What a province calls its units of a level: 设区市 where every city is a 市, 市（州） where
    some are autonomous prefectures, 盟市 / 地市 likewise; counties are 县（市、区）."""
    if level != "city":
        return LEVEL_NOUNS.get(level, level)
    names = [n for (n,) in con.execute("SELECT name FROM regions WHERE province_code = ? AND level = '市'",
                                       [province]).fetchall()]
    if names and all(n.endswith("市") for n in names):
        return "设区市"
    if any(n.endswith("盟") for n in names):
        return "盟市"
    if any(n.endswith("地区") for n in names) and not any(n.endswith("州") for n in names):
        return "地市"
    return "市（州）"


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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def _clean(text) -> str:
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


class _Writer:
    """Lays blocks out on the GB/T 9704 page."""

    def __init__(self, settings: NoticeSettings):
        import docx
        from docx.shared import Mm

        self.s = settings
        self.f = settings.fonts
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

        r = p.add_run(_clean(text))
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
        self.run(p, self.s.mark, self.f["标题"], self.s.mark_pt, color=self.s.mark_color, latin=self.f["标题"])
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

    def annex_note(self, text: str) -> None:
        """附件说明: 正文下空一行左空二字; a wrapped name lines up after “附件：”."""
        self.blank()
        p = self.para(first_chars=-3, left_pt=5 * CHAR_PT)
        self.run(p, text)

    def signature(self, issued_on: dt.date) -> None:
        """发文机关署名 and 成文日期 without a seal (GB/T 9704 §7.3.5.2): the name 右空二字 one blank line
        under the text; the date on the next line, its first character two right of the name's."""
        name, date = self.s.issuer, fmt_date(issued_on)
        w_name, w_date = _width(name), _width(date)
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
        if self.s.note:
            p = self.para()
            self.run(p, "（" + self.s.note.strip("（）()") + "）")

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
        if getattr(self, "_break_next", False):
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

    def save(self, target) -> None:
        self.doc.save(target)


def _width(text: str) -> float:
    """Width in characters: full-width 1, ASCII (digits) ½."""
    return sum(0.5 if ord(c) < 0x2000 else 1.0 for c in text)


LOST_TABLE = (["考评项目", "满分", "得分", "失分", "有关数据"], [40, 14, 14, 14, 74],
              ["left", "center", "center", "center", "left"])
HAZARD_TABLE = (["序号", "企业名称", "所在地", "隐患编号", "发现日期", "整改期限", "逾期天数"],
                [11, 45, 16, 28, 19, 19, 18], ["center", "left", "center", "center", "center", "center", "center"])


def render_docx(data: NoticeData, settings: NoticeSettings, template: str, number: str, issued_on: dt.date,
                due: dt.date | None = None, target=None, template_name: str = "notice_template.txt"):
    """Write one notice (.docx) to ``target`` (a path or a binary file); returns the document's paragraphs' text."""
    settings = settings.resolved(data.province_name, data.province_code)
    due = due or reply_due(issued_on, settings)
    blocks = render_wording(template, context(data, settings, number, issued_on, due), template_name)
    kinds = [b.kind for b in blocks]
    if "signature" not in kinds:
        raise NoticeError(f"{template_name}: the mark ［署名］ is missing (where the signature and date go)")
    w = _Writer(settings)
    w.furniture()
    w.number(number)
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
            w._break_next = True
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
    core = w.doc.core_properties
    core.title = _clean("".join(blocks[kinds.index("title")].lines) if "title" in kinds else "提醒敦促函")
    core.author = _clean(settings.issuer)
    core.subject = _clean(f"{number} {data.unit_name} {data.quarter.label}")
    core.comments = ""
    if target is not None:
        w.save(target)
    return w.doc


# --- issuing, previewing, packing -----------------------------------------------------------------
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
    """The .docx of one notice without numbering or logging it (the number is left blank unless given)."""
    settings = settings or load_settings()
    template = template if template is not None else load_template()
    on = on or dt.date.today()
    buf = io.BytesIO()
    render_docx(data, settings, template, number or preview_number(settings, data, on), on, target=buf)
    return buf.getvalue()


@dataclass(frozen=True)
class IssuedNotice:
    path: Path
    number: str
    unit_code: str
    unit_name: str
    issued_on: dt.date
    reissued: bool


def issue_notices(db, notices: list[NoticeData], out_dir: str | Path, *, settings: NoticeSettings | None = None,
                  template: str | None = None, issued_on: dt.date | None = None, actor: str | None = None,
                  template_name: str = "notice_template.txt") -> list[IssuedNotice]:
    """Number, log (etl.notice_log, one warehouse write) and write the notices into ``out_dir``.

    A unit whose notice for the quarter is already logged keeps its number and issue date. The
    files are written inside the write: if one fails, nothing is logged and no number is used.
    The caller must not hold a connection to ``db`` open (DuckDB would hand back the old file).
    """
    settings = settings or load_settings()
    template = template if template is not None else load_template()
    issued_on = issued_on or dt.date.today()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not notices:
        return []
    by_key = {(d.unit_code, str(d.quarter), d.level): d for d in notices}
    first = notices[0]
    s = settings.resolved(first.province_name, first.province_code)
    # fail on the template or settings before a number is taken
    render_wording(template, context(first, s, "", issued_on, reply_due(issued_on, s)), template_name)
    staging = out_dir / f".notices-{dt.datetime.now():%Y%m%d%H%M%S%f}"
    staging.mkdir()
    written: dict[str, Path] = {}

    def render(request: notice_log.NoticeRequest, issued: notice_log.Issued) -> str:
        data = by_key[(request.unit_code, request.quarter, request.level)]
        name = file_name(data, issued.number)
        render_docx(data, settings, template, issued.number, issued.issued_on, issued.reply_due,
                    target=staging / name, template_name=template_name)
        written[issued.number] = staging / name
        return name

    try:
        logged = notice_log.issue(db, [d.request() for d in notices], prefix=s.prefix, issued_on=issued_on,
                                  reply_due=lambda on: reply_due(on, s), actor=actor,
                                  start_seq=settings.start_seq, render=render)
        out = []
        for i in logged:
            final = out_dir / i.file_name
            written[i.number].replace(final)
            out.append(IssuedNotice(final, i.number, i.unit_code, i.unit_name, i.issued_on, i.reissued))
        return out
    finally:
        for leftover in staging.glob("*"):
            leftover.unlink()
        staging.rmdir()


def zip_notices(files: Iterable[tuple[str, bytes] | Path], annex: tuple[str, bytes] | Path | None = None) -> bytes:
    """A ZIP of the notices (and the score-sheet annex): (name, bytes) pairs or paths; UTF-8 names."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for item in [*files, *([annex] if annex is not None else [])]:
            name, data = (item.name, item.read_bytes()) if isinstance(item, Path) else item
            z.writestr(name, data)
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
    for row in sheet.itertuples(index=False):
        ws.append([_xl(v) for v in row])
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


# --- the next quarter ------------------------------------------------------------------------------
def next_quarter(period: Period) -> Period:
    return Period(period.year + 1, "quarter", 1) if period.number == 4 else Period(period.year, "quarter", period.number + 1)


def follow_up(con: duckdb.DuckDBPyConnection, quarter: str | Period, level: str = "city",
              province: str | None = None, scheme: Scheme | None = None) -> pd.DataFrame:
    """The units warned in ``quarter`` and how they did in the next one.

    code, name, number (logged notice, if any), status, score, rank, next_score, next_rank,
    change, next_warned, left_list (no longer on the warning list), improved (left the list or
    scored higher). Next-quarter columns are empty while the next quarter has no data.
    """
    from metrics.score import compute_score

    period = Period.parse(quarter)
    scheme = scheme or load_scheme()
    province = resolve_province(con, province)
    now = compute_score(con, period, level, province, scheme)
    warned = now[now["warned"].fillna(False).astype(bool)].sort_values(["group", "score", "code"])
    warned = warned[["code", "name", "score", "rank", "peers"]]
    nxt = compute_score(con, next_quarter(period), level, province, scheme)
    nxt = nxt[["code", "score", "rank", "warned", "assessed"]].rename(
        columns={"score": "next_score", "rank": "next_rank", "warned": "next_warned", "assessed": "next_assessed"})
    out = warned.merge(nxt, on="code", how="left")
    log = notice_log.notices(con, quarter=str(period), level=level)[["unit_code", "number", "status"]]
    out = out.merge(log.rename(columns={"unit_code": "code"}), on="code", how="left")
    has_next = out["next_assessed"].fillna(False).astype(bool)
    out["change"] = round_half_away((out["next_score"] - out["score"]).where(has_next), 1)
    out["left_list"] = pd.array([(not bool(w)) if h else pd.NA for w, h in zip(out["next_warned"].fillna(False), has_next)],
                                dtype="boolean")
    out["improved"] = pd.array([(bool(l) or c > 0) if h else pd.NA
                                for l, c, h in zip(out["left_list"].fillna(False), out["change"].fillna(0), has_next)],
                               dtype="boolean")
    cols = ["code", "name", "number", "status", "score", "rank", "peers", "next_score", "next_rank", "change",
            "next_warned", "left_list", "improved"]
    return out[cols].reset_index(drop=True)


# --- PDF / PNG (LibreOffice) -------------------------------------------------------------------------
FONTS_CONF = HERE / "notice_fonts.conf"


def to_pdf(docx_path: str | Path, out_dir: str | Path | None = None, timeout: float = 120) -> Path:
    """Convert a notice to PDF with LibreOffice headless (official fonts substituted by notice_fonts.conf
    where they are not installed). Raises NoticeError when LibreOffice is missing or fails."""
    import os
    import shutil
    import subprocess
    import tempfile

    docx_path = Path(docx_path)
    out_dir = Path(out_dir or docx_path.parent)
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if not office:
        raise NoticeError("LibreOffice (soffice) is not installed: cannot make a PDF")
    with tempfile.TemporaryDirectory(prefix="notice-lo-") as profile:
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
        cmd = [office, f"-env:UserInstallation=file://{profile}", "--headless", "--convert-to", "pdf",
               "--outdir", str(out_dir), str(docx_path)]
        try:
            subprocess.run(cmd, env=env, capture_output=True, timeout=timeout, check=True)
        except (subprocess.SubprocessError, OSError) as e:
            raise NoticeError(f"LibreOffice could not convert {docx_path.name}: {e}") from None
    pdf = out_dir / (docx_path.stem + ".pdf")
    if not pdf.exists():
        raise NoticeError(f"LibreOffice wrote no PDF for {docx_path.name}")
    return pdf


def to_png(pdf: str | Path, dpi: int = 60) -> list[Path]:
    """Render each page of a PDF to PNG with pdftoppm; returns the page images in order."""
    import shutil
    import subprocess

    pdf = Path(pdf)
    if not shutil.which("pdftoppm"):
        raise NoticeError("pdftoppm (poppler-utils) is not installed: cannot render pages")
    stem = pdf.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(stem)], check=True, capture_output=True)
    return sorted(pdf.parent.glob(stem.name + "-*.png"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))


# --- python -m metrics notices -----------------------------------------------------------------------
def add_arguments(p) -> None:
    import argparse

    p.add_argument("--quarter", required=True, help="e.g. 2024Q3")
    p.add_argument("--out", required=True, help="folder for the .docx files")
    p.add_argument("--db", dest="db_sub", help=argparse.SUPPRESS)
    p.add_argument("--province", help="province code (default: the province whose agencies have records)")
    p.add_argument("--level", choices=["city", "county"], default="city", help="peers: cities (default) or counties")
    p.add_argument("--scheme", help="scheme file (default: metrics/schemes/default.toml)")
    p.add_argument("--date", help="成文日期 YYYY-MM-DD (default: today); a re-issued notice keeps its own")
    p.add_argument("--settings", help=f"notice settings (default: {DEFAULT_SETTINGS.name})")
    p.add_argument("--template", help=f"wording template (default: {DEFAULT_TEMPLATE.name})")
    p.add_argument("--zip", action="store_true", help="also write a ZIP of the notices and the annex (path on stderr)")
    p.add_argument("--annex", action="store_true", help="also write the Excel score sheet (path on stderr)")
    p.add_argument("--preview", action="store_true", help="write unnumbered previews; log nothing")


def run(args) -> int:
    from etl import warehouse
    from metrics.provinces import ProvinceError
    from metrics.scheme import SchemeError
    from metrics.score import compute_score

    try:
        period = Period.parse(args.quarter)
        if period.kind != "quarter":
            raise ValueError(f"give a quarter like 2024Q3, not {args.quarter!r}")
        on = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    except ValueError as e:
        print(f"python -m metrics notices: {e}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.settings)
        template = load_template(args.template)
        scheme = load_scheme(args.scheme)
        try:
            con = warehouse.connect_read(args.db)
        except warehouse.WarehouseMissing as e:
            raise NoticeError(str(e)) from None
        try:
            province = resolve_province(con, args.province)
            score = compute_score(con, period, args.level, province, scheme)
            data = build_notices(con, period, args.level, province, scheme, settings, score)
            pname = province_name(con, province)
            noun = level_noun(con, province, args.level)
        finally:
            con.close()
        out = Path(args.out)
        if not data:
            reasons = sorted(set(score["reason"].dropna()) - {""})
            print(f"no warned units in {period} ({args.level})" + (f": {reasons[0]}" if reasons else ""),
                  file=sys.stderr)
            return 0
        tname = Path(args.template).name if args.template else DEFAULT_TEMPLATE.name
        if args.preview:
            out.mkdir(parents=True, exist_ok=True)
            paths = []
            for d in data:
                p = out / file_name(d, None)
                p.write_bytes(preview_notice(d, settings, template, on))
                paths.append(p)
        else:
            issued = issue_notices(args.db, data, out, settings=settings, template=template, issued_on=on,
                                   template_name=tname)
            paths = [i.path for i in issued]
        for p in paths:
            print(p)
        annex = None
        if args.annex or args.zip:
            s = settings.resolved(pname, province)
            annex = out / annex_name(period, args.level)
            score_sheet_xlsx(score, scheme, annex_title(period, pname, args.level, s, noun), annex)
            if args.annex:
                print(f"annex: {annex}", file=sys.stderr)
        if args.zip:
            z = out / f"{period}-{'市' if args.level == 'city' else '县'}-提醒敦促函.zip"
            z.write_bytes(zip_notices(paths, annex))
            print(f"zip: {z}", file=sys.stderr)
        return 0
    except (NoticeError, notice_log.NoticeLogError, SchemeError, ProvinceError) as e:
        print(str(e), file=sys.stderr)
        return 1
