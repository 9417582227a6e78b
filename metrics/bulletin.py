"""执法情况通报: the quarterly or annual enforcement bulletin's content, as data (no .docx here).

The shape follows published bulletins (Shanghai 2025 Q1, Guangxi 2020, Jiangsu 2018 Q1):
一、总体情况 (every headline figure with 同比, and 环比 for a quarter) → 二、主要指标分析 (rates per
1,000 inspections, coverage, rectification, by inspection type and by industry, hazard kinds) →
三、各地排名 (index and score, first and last, who rose and fell) → 四、预警与表扬 → 五、存在问题
(strengths and priority issues, SRF style, metrics.priorities) → 六、工作要求 (an editable wording
file) → 附件 (per-unit tables). Renderers (official/bulletin.py, the 通报 page) lay it out.

Every sentence with a number is built here from the warehouse through the functions that define
the number: the headline totals and their changes are metrics.kpis' (the overview's tiles), the
index and score are compute_index / compute_score / commendations, per-unit figures are
compute_indicators' and unit_totals', the counts by inspection type and by industry are
metrics.kpis.totals' grouped by that column, growth is metrics.growth.growth. What has no
definition elsewhere is defined here once: the whole province's indicators (the scheme's numerator
and denominator over every agency of the province, compiled by metrics.query) and rates per 1,000
inspections.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import jinja2
import pandas as pd

from metrics.capacity import capacity_frame, missed_windows, target_summary
from metrics.warned import level_noun
from metrics.expr import sql_literal
from metrics.kpis import compared_period, region_series, region_totals, unit_totals
from metrics.kpis import tiles as kpi_tiles_from
from metrics.kpis import totals as kpi_totals
from metrics.moves import movers, rank_moves
from metrics.periods import Period
from metrics.priorities import province_priorities, summary, unit_priorities, value_text
from metrics.provinces import province_name, resolve_province
from metrics.query import parts_frame
from metrics.rounding import round_half_away
from metrics.scheme import Scheme, load_scheme
from metrics.growth import growth

HERE = Path(__file__).resolve().parent
DEFAULT_REQUIREMENTS = HERE / "bulletin_requirements.txt"
NO_YEAR_AGO = "无上年同期数据"
NO_PREVIOUS = "无上期数据"
NOT_ISSUED = "未发文"
MAX_NAMED = 10          # a sentence names at most this many units ("等" after)
# the province indicators the analysis quotes (the scheme's definitions, whole province)
ANALYSIS_INDICATORS = ["coverage", "key_coverage", "rectification", "major_on_time", "penalty_rate", "avg_fine",
                       "major_filing", "dual_penalty", "mobile_share", "key_matter_findings", "dual_penalty_cases",
                       "fines_total"]


class BulletinError(ValueError):
    """A period, level or wording file that cannot make a bulletin; the message says why."""


# --- the content's shape ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """A table as printed (``rows`` of display strings) and as data (``data``: typed, for Excel)."""
    key: str
    title: str
    columns: list[str]
    rows: list[list[str]]
    data: pd.DataFrame
    note: str = ""


@dataclass(frozen=True)
class Block:
    """A heading ('h2': （一）…), a paragraph ('p') or a table ('table')."""
    kind: str
    text: str = ""
    table: Table | None = None


@dataclass(frozen=True)
class Section:
    heading: str          # 一、总体情况
    blocks: list[Block]


@dataclass
class Bulletin:
    period: Period
    level: str
    province: str
    province_name: str
    noun: str              # 设区市 / 市（州） / 县（市、区）
    title: str
    addressee: str
    sections: list[Section]
    annexes: list[Table]
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)   # the numbers behind the text

    def paragraphs(self) -> list[str]:
        """Every heading and paragraph in reading order (tests and previews search it)."""
        out = []
        for s in self.sections:
            out.append(s.heading)
            out += [b.text for b in s.blocks if b.kind != "table"]
        return out

    @property
    def file_stem(self) -> str:
        return f"{self.province_name}{self.period.label}安全生产执法情况通报"


# --- numbers in words ------------------------------------------------------------------------------
def _na(x) -> bool:
    return x is None or x is pd.NA or (isinstance(x, float) and math.isnan(x))


def count(x) -> str:
    return "—" if _na(x) else f"{int(round_half_away(float(x), 0)):,}"


def pct(x) -> str:
    return "—" if _na(x) else f"{round_half_away(100 * float(x), 1):.1f}%"


def money(x) -> str:
    return "—" if _na(x) else f"{round_half_away(float(x), 2):,.2f}"


def money_exact(x) -> str:
    """万元 to four decimals: exact to the yuan, so that a column of fines adds up to its total."""
    return "—" if _na(x) else f"{round_half_away(float(x), 4):,.4f}"


def one(x) -> str:
    return "—" if _na(x) else f"{round_half_away(float(x), 1):.1f}"


def thousand(x) -> str:
    """A rate per 1,000 inspections: one decimal, thousands grouped (1,470.5)."""
    return "—" if _na(x) else f"{round_half_away(float(x), 1):,.1f}"


def change_words(change, kind: str, then_exists: bool, word: str = "同比") -> str:
    """同比增长16.2% / 同比下降27.7% / 同比提高0.5个百分点 / 与上年同期持平; in words when there is
    nothing to compare with (无上年同期数据) or the base is 0 (上年同期为0) — never 0%."""
    base = "上年同期" if word == "同比" else "上期"
    if not then_exists:
        return NO_YEAR_AGO if word == "同比" else NO_PREVIOUS
    if _na(change):
        return f"{base}为0，不计{word}"
    if kind == "pp":
        v = round_half_away(float(change), 1)
        if v == 0:
            return f"与{base}持平"
        return f"{word}{'提高' if v > 0 else '降低'}{abs(v):.1f}个百分点"
    v = round_half_away(100 * float(change), 1)
    if v == 0:
        return f"与{base}持平"
    return f"{word}{'增长' if v > 0 else '下降'}{abs(v):.1f}%"


def change_cell(change, kind: str, then_exists: bool) -> str:
    """A change in a table cell: +16.2%, −27.7%, +0.5个百分点, or the reason there is none."""
    if not then_exists:
        return "无数据"
    if _na(change):
        return "基数为0"
    if kind == "pp":
        v = round_half_away(float(change), 1)
        return f"{'+' if v > 0 else '−' if v < 0 else ''}{abs(v):.1f}个百分点"
    v = round_half_away(100 * float(change), 1)
    return f"{'+' if v > 0 else '−' if v < 0 else ''}{abs(v):.1f}%"


def names_list(names: list[str]) -> str:
    return "、".join(names)


# --- the province's numbers (compiled by metrics.query) ---------------------------------------------
def province_indicators(con: duckdb.DuckDBPyConnection, period: str | Period, province: str,
                        scheme: Scheme, codes: list[str]) -> pd.DataFrame:
    """The scheme's indicators for the whole province as one unit (every agency of the province,
    its own bureau included, as the overview's totals count it): indicator, name, unit, value,
    numerator, denominator. Same numerator and denominator definitions as compute_indicators."""
    period = Period.parse(period)
    inds = [scheme.indicator(c) for c in codes]
    parts = list(dict.fromkeys(p for i in inds for p in (i.numerator, i.denominator) if p is not None))
    if not parts:
        return pd.DataFrame(columns=["indicator", "name", "unit", "value", "numerator", "denominator"])
    units = f"SELECT code, name FROM regions WHERE code = {sql_literal(str(province))}"
    wide, alias = parts_frame(con, parts, [period], "province", str(province), units=units,
                              unit_col="province_code", only=str(province))
    got = {p: float(wide[alias[p]].iloc[0]) for p in parts}
    out = []
    for i in inds:
        n = got[i.numerator]
        d = None if i.denominator is None else got[i.denominator]
        value = n if i.denominator is None else (None if d == 0 else n / d)
        out.append(dict(indicator=i.code, name=i.name, unit=i.unit, value=value, numerator=n, denominator=d))
    return pd.DataFrame(out)


def by_dimension(con: duckdb.DuckDBPyConnection, period: str | Period, province: str, dimension: str,
                 scheme: Scheme | None = None) -> pd.DataFrame:
    """The province's period totals split by ``dimension`` ('industry' or 'inspection_type'):
    key, inspections, enterprises, hazards, major_hazards, cases, fines (万元), per_thousand_major,
    per_thousand_hazards; most inspections first, then by key.

    Compiled by the one compiler from the very definitions of the KPI tiles (metrics.kpis.totals,
    grouped by the dimension instead of the unit): inspections, hazards and cases are the
    activity counts, major_hazards the scheme's 重大隐患立案率 denominator, fines its 处罚金额,
    enterprises its 执法检查覆盖率 numerator (the distinct enterprises inspected: a distinct count,
    so its rows may add up to more than the province's). Counted as the tiles count the province
    (every agency of it; a hazard carries its inspection's type and industry, a case the inspected
    enterprise's industry). A case has no inspection type: split by type, cases and fines are 0.
    The additive columns' rows sum to the province's tiles (region_totals); a blank key is 未登记."""
    if dimension not in ("industry", "inspection_type"):
        raise ValueError(f"dimension must be industry or inspection_type, not {dimension!r}")
    period = Period.parse(period)
    counted = ("inspections", "enterprises", "hazards", "major_hazards")
    columns = counted + (("cases", "fines") if dimension == "industry" else ())
    # grouped by a one-column tuple: the compiler's key is then a struct of the column, which is
    # never blank, so records without the column are kept (a plain ``by`` drops a blank key)
    df = kpi_totals(con, [period], "province", str(province), scheme, columns=columns, unit_col="province_code",
                only=str(province), by=(dimension,))
    key = df["code"].map(lambda k: k[dimension]).astype(object)
    out = pd.DataFrame({"key": key.where(key.notna(), "未登记").astype(str)})
    for c in counted:
        out[c] = df[c].astype("int64")
    out["cases"] = df["cases"].astype("int64") if "cases" in df else 0
    out["fines"] = df["fines"].astype(float) if "fines" in df else 0.0
    out = out.sort_values(["inspections", "key"], ascending=[False, True], kind="stable").reset_index(drop=True)
    out["per_thousand_major"] = per_thousand(out["major_hazards"], out["inspections"])
    out["per_thousand_hazards"] = per_thousand(out["hazards"], out["inspections"])
    return out


def per_thousand(part, inspections):
    """Per 1,000 inspections (49.7 major hazards per 1,000 inspections); NA without inspections."""
    if isinstance(part, pd.Series):
        return (part.astype(float) * 1000.0 / inspections.astype(float).where(inspections > 0))
    return None if not inspections else float(part) * 1000.0 / float(inspections)


def _has_records(totals: dict) -> bool:
    return bool((totals.get("inspections") or 0) + (totals.get("hazards") or 0) + (totals.get("cases") or 0))


# --- the headline figures ----------------------------------------------------------------------------
HEADLINES = [  # key, name, unit, change kind
    ("inspections", "执法检查", "次", "pct"),
    ("enterprises", "检查企业", "家", "pct"),
    ("hazards", "发现隐患", "项", "pct"),
    ("major_hazards", "重大事故隐患", "项", "pct"),
    ("rectification", "隐患整改率", "%", "pp"),
    ("cases", "立案", "件", "pct"),
    ("fines", "罚款", "万元", "pct"),
]


def headline_figures(con: duckdb.DuckDBPyConnection, period: Period, province: str, scheme: Scheme) -> pd.DataFrame:
    """The province's headline figures with 同比 and 环比: key, name, unit, value, year_ago, yoy,
    previous, mom, kind ('pct' relative, 'pp' percentage points), year_ago_exists,
    previous_exists. The overview's tiles (metrics.kpis.kpi_tiles, under the same scheme) give the
    five they share; 检查企业 is the coverage numerator and 重大事故隐患 the totals' major hazards."""
    other = {a: compared_period(period, a) for a in ("year_ago", "previous")}
    # the three periods' totals in one query, the tiles from them as the overview's (ui.data._kpi_totals)
    now, ya, prev = region_series(con, [period, other["year_ago"], other["previous"]], province, scheme)
    totals = {"now": now, "year_ago": ya, "previous": prev}
    tiles = {a: kpi_tiles_from(now, totals[a], period, p).set_index("kpi") for a, p in other.items()}
    ent = {"now": province_indicators(con, period, province, scheme, ["coverage"])["numerator"].iloc[0]}
    for a, p in other.items():
        ent[a] = province_indicators(con, p, province, scheme, ["coverage"])["numerator"].iloc[0]
    rows = []
    for key, name, unit, kind in HEADLINES:
        row = dict(key=key, name=name, unit=unit, kind=kind)
        for a, col in (("year_ago", "yoy"), ("previous", "mom")):
            if key in tiles[a].index:
                t = tiles[a].loc[key]
                now, then, ch = t["value"], t["previous"], t["change"]
            else:
                now = ent["now"] if key == "enterprises" else totals["now"][key]
                then = ent[a] if key == "enterprises" else totals[a][key]
                ch = growth(pd.Series([now], dtype=float), pd.Series([then], dtype=float)).iloc[0]
            row.update(value=None if _na(now) else float(now), **{a: None if _na(then) else float(then)},
                       **{col: None if _na(ch) else float(ch)}, **{f"{a}_exists": _has_records(totals[a])})
        rows.append(row)
    return pd.DataFrame(rows)


def _capacity_value(x, unit: str) -> str:
    return pct(x) if unit == "%" else ("—" if _na(x) else f"{round_half_away(float(x), 1):g}")


def capacity_sentences(con, period: Period, level: str, province: str, scheme: Scheme, noun: str) -> list[str]:
    """The capacity and case-reporting paragraph (methodology §7): how many units meet each
    published target (metrics.capacity.target_summary, as on the overview), the units whose own
    bureau missed reporting windows, and the province bureau's own reporting. Empty when the
    warehouse holds no roster and no reporting window for the period."""
    cap = capacity_frame(con, period, level, province, scheme)
    if cap.empty or not cap["value"].notna().any():
        return []
    out = []
    parts = [f"{r.indicator_name}（目标{_capacity_value(r.target, r.unit)}）{r.meeting}个{noun}达到"
             f"（有数据{r.units_with_data}个）" for r in target_summary(cap, scheme).itertuples() if r.units_with_data]
    if parts:
        out.append("对照公开目标：" + "；".join(parts) + "。")
    missed = missed_windows(con, period, level, province, scheme)
    if len(missed):
        names = dict(zip(cap["code"], cap["name"]))
        who = missed.groupby("code").size().sort_values(ascending=False)
        out.append(f"有{len(who)}个{noun}本级未按期向应急管理部直报典型案例：" + names_list(
            [f"{names.get(c, c)}（{n}个周期）" for c, n in who.head(MAX_NAMED).items()])
            + ("等" if len(who) > MAX_NAMED else "") + "。")
    prov = capacity_frame(con, period, "province", province, scheme)
    cad = prov[prov["indicator"] == "report_cadence"]
    if len(cad) and cad["denominator"].iloc[0] > 0:
        own = missed_windows(con, period, "province", province, scheme)
        out.append(f"省厅本级案例报送：{period.label}结束{int(cad['denominator'].iloc[0])}个半年周期，按期直报"
                   f"{int(cad['numerator'].iloc[0])}个" + (f"，未按期：{names_list(list(own['window_name']))}。"
                                                          if len(own) else "。"))
    return out


ADDITIVE = ["inspections", "hazards", "needing", "rectified", "major_hazards", "cases", "fines"]
ANNEX_TOTALS_NOTE = ("合计为全省数据，与“一、总体情况”一致；“本级”为不属于任何一个所列单位的执法机构（省厅、"
                     "县级表中的市本级，及省直管县）的记录。检查企业为去重数，各行相加可多于合计。")


def _annex_total_rows(con, period: Period, level: str, province: str, scheme: Scheme, ut: pd.DataFrame,
                      ut_then: pd.DataFrame, year_ago_exists: bool) -> pd.DataFrame:
    """The rows that make the per-unit annex add up to the headline: the records of bureaus above
    the level (the province's own; at county level the cities' own too), and the province's total.
    Each is a count or sum of records (the province's minus its units'), so every additive column
    of the annex sums to the 合计 row, which is the headline (region_totals of the province)."""
    rows = []
    now = region_totals(con, period, province, scheme)   # as the headline
    then = region_totals(con, period.year_ago(), province, scheme)
    rest = {k: (now.get(k) or 0) - float(ut[k].sum()) for k in ADDITIVE}
    rest_then = {k: (then.get(k) or 0) - float(ut_then[k].sum()) for k in ADDITIVE}
    rest["fines"], rest_then["fines"] = round(rest["fines"], 6), round(rest_then["fines"], 6)

    def row(code, name, f, f_then, enterprises):
        return dict(code=code, name=name, **{k: f.get(k) or 0 for k in ADDITIVE},
                    rectification=(f["rectified"] / f["needing"]) if f.get("needing") else None,
                    enterprises=enterprises,
                    fines_yoy=growth(pd.Series([f["fines"] or 0.0]), pd.Series([f_then["fines"] or 0.0])).iloc[0]
                    if year_ago_exists else None)

    if any(abs(v) > 1e-9 for v in rest.values()):
        direct = con.execute("SELECT count(*) FROM regions WHERE province_code = ? AND level = '县' "
                             "AND city_code IS NULL", [str(province)]).fetchone()[0]  # 省直管县 (仙桃 …)
        label = ("省本级" if level == "city" else "省、市本级") + ("及省直管县" if level == "city" and direct else "")
        rows.append(row("", label, rest, rest_then, None))
    ent = province_indicators(con, period, province, scheme, ["coverage"])["numerator"].iloc[0]
    rows.append(row("", "合计", {k: now.get(k) for k in ADDITIVE}, {k: then.get(k) for k in ADDITIVE}, ent))
    return pd.DataFrame(rows)


# --- the bulletin ----------------------------------------------------------------------------------------
NumberLookup = Callable[[str, str], dict[str, str]]   # (quarter '2025Q4', level) → {unit code: notice number}


def load_requirements(path: str | Path | None = None) -> str:
    p = Path(path) if path else DEFAULT_REQUIREMENTS
    try:
        return p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise BulletinError(f"{p}: no such wording file") from None
    except UnicodeDecodeError as e:
        raise BulletinError(f"{p}: save the wording file as UTF-8 text ({e})") from None


def _env() -> jinja2.Environment:
    return jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=False)


def check_requirements(template: str, name: str = "bulletin_requirements.txt") -> None:
    """Refuse a wording file that does not parse, before any figure is computed."""
    try:
        _env().parse(template)
    except jinja2.TemplateSyntaxError as e:
        raise BulletinError(f"{name}, line {e.lineno}: {e.message}") from None


def render_requirements(template: str, ctx: dict, name: str = "bulletin_requirements.txt") -> list[str]:
    """The wording file's paragraphs (one per non-empty line) with its {{ }} data filled in."""
    check_requirements(template, name)
    try:
        text = _env().from_string(template).render(**ctx)
    except jinja2.UndefinedError as e:
        raise BulletinError(f"{name}: {e.message} (known: {', '.join(ctx)})") from None
    return [line.strip() for line in text.splitlines() if line.strip()]


def _city_names(con, province: str) -> dict[str, str]:
    """county code → its city's name (a county list says which city each county belongs to)."""
    rows = con.execute("SELECT r.code, c.name FROM regions r JOIN regions c ON c.code = r.city_code "
                       "WHERE r.province_code = ? AND r.level = '县'", [province]).fetchall()
    return dict(rows)


def _table(key: str, title: str, df: pd.DataFrame, formats: dict[str, Callable], note: str = "") -> Table:
    cols = list(df.columns)
    rows = [[(formats[c](v) if c in formats else ("—" if _na(v) else str(v))) for c, v in zip(cols, rec)]
            for rec in df.itertuples(index=False, name=None)]
    return Table(key, title, cols, rows, df.reset_index(drop=True), note)


def build_bulletin(con: duckdb.DuckDBPyConnection, period: str | Period, level: str = "city",
                   province: str | None = None, scheme: Scheme | None = None,
                   requirements: str | None = None, numbers: NumberLookup | None = None,
                   requirements_name: str = "bulletin_requirements.txt") -> Bulletin:
    """The bulletin of a quarter or a year for the units of ``level`` in ``province``.

    ``requirements``: the 六、工作要求 wording (default: bulletin_requirements.txt).
    ``numbers``: looks up the warning notices' numbers (the notice log); without it the number
    column reads 未发文.
    """
    from metrics.index import compute_index, index_frames
    from metrics.indicators import compute_indicators
    from metrics.score import commendations, compute_score

    period = Period.parse(period)
    if period.kind not in ("quarter", "year"):
        raise BulletinError(f"通报按季度或年度编制：请给出 2025Q4 或 2025 这样的期间，而不是 {period}")
    if level not in ("city", "county"):
        raise BulletinError(f"level must be city or county, not {level!r}")
    scheme = scheme or load_scheme()
    spec = scheme.require_index()
    province = resolve_province(con, province)
    pname = province_name(con, province)
    noun = level_noun(con, province, level)
    quarterly = period.kind == "quarter"
    template = requirements if requirements is not None else load_requirements()
    check_requirements(template, requirements_name)
    city_of = _city_names(con, province) if level == "county" else {}
    meets, attention, improve = scheme.bands.labels

    def named(code: str, name: str) -> str:
        return f"{city_of[code]}{name}" if code in city_of else name

    # --- 一、总体情况 -----------------------------------------------------------------------------------
    head = headline_figures(con, period, province, scheme)
    h = head.set_index("key")
    ya = bool(h["year_ago_exists"].iloc[0])
    pv = bool(h["previous_exists"].iloc[0])

    def with_changes(key: str) -> str:
        r = h.loc[key]
        words = change_words(r["yoy"], r["kind"], ya)
        if quarterly:
            words += "，" + change_words(r["mom"], r["kind"], pv, "环比")
        return words

    overall = [
        f"{period.label}，全省各级应急管理部门共开展安全生产执法检查{count(h.loc['inspections', 'value'])}次"
        f"（{with_changes('inspections')}），检查企业{count(h.loc['enterprises', 'value'])}家"
        f"（{with_changes('enterprises')}）。",
        f"共发现事故隐患{count(h.loc['hazards', 'value'])}项（{with_changes('hazards')}），其中重大事故隐患"
        f"{count(h.loc['major_hazards', 'value'])}项（{with_changes('major_hazards')}）；隐患整改率"
        f"{pct(h.loc['rectification', 'value'])}（{with_changes('rectification')}）。",
        f"立案查处{count(h.loc['cases', 'value'])}件（{with_changes('cases')}），罚款"
        f"{money(h.loc['fines', 'value'])}万元（{with_changes('fines')}）。",
    ]
    if not ya:
        overall.append(f"数据仓库中没有{period.year_ago().label}的执法记录，本通报不作同比分析。")
    head_rows = []
    for r in head.itertuples():
        fmt = pct if r.kind == "pp" else (money if r.unit == "万元" else count)
        unit = "" if r.unit == "%" else f"（{r.unit}）"
        row = [f"{r.name}{unit}", fmt(r.value), fmt(r.year_ago) if ya else "无数据", change_cell(r.yoy, r.kind, ya)]
        if quarterly:
            row += [fmt(r.previous) if pv else "无数据", change_cell(r.mom, r.kind, pv)]
        head_rows.append(row)
    head_cols = ["指标", period.label, period.year_ago().label, "同比"] + (
        [period.previous().label, "环比"] if quarterly else [])
    head_table = Table("headline", f"{pname}{period.label}执法主要数据", head_cols, head_rows,
                       pd.DataFrame(head_rows, columns=head_cols))
    s1 = Section("一、总体情况", [Block("p", t) for t in overall] + [Block("table", table=head_table)])

    # --- 二、主要指标分析 --------------------------------------------------------------------------------
    pi = province_indicators(con, period, province, scheme,
                             [c for c in ANALYSIS_INDICATORS if c in scheme.indicators]).set_index("indicator")
    pi_then = province_indicators(con, period.year_ago(), province, scheme,
                                  [c for c in ANALYSIS_INDICATORS if c in scheme.indicators]).set_index("indicator")

    def ind(code: str) -> str:
        i = scheme.indicator(code)
        return value_text(pi.loc[code, "value"], i.unit, i.decimals)

    def ratio(code: str, what_num: str, what_den: str) -> str:
        r = pi.loc[code]
        if _na(r["value"]):
            return f"{scheme.indicator(code).name}不适用（{what_den}为0）"
        return f"{scheme.indicator(code).name}{ind(code)}（{what_num}{count(r['numerator'])}/{what_den}{count(r['denominator'])}）"

    insp = h.loc["inspections", "value"]
    pt_major = per_thousand(h.loc["major_hazards", "value"] or 0, insp)
    pt_haz = per_thousand(h.loc["hazards", "value"] or 0, insp)
    a1 = [
        f"每千次检查发现隐患{thousand(pt_haz)}项、重大事故隐患{thousand(pt_major)}项。" if insp else
        "本期没有执法检查记录，不计每千次检查发现隐患数。",
        f"{ratio('coverage', '检查企业', '名录企业')}；{ratio('key_coverage', '年初以来检查重点单位', '重点单位')}。",
        f"{ratio('rectification', '已整改', '需整改')}；{ratio('major_on_time', '按期整改', '到期重大隐患')}。",
        f"{ratio('penalty_rate', '立案', '发现隐患的检查')}；{ratio('major_filing', '重大隐患立案', '重大隐患')}；"
        f"{ratio('dual_penalty', '一案双罚', '单位被罚款案件')}；案均罚款{ind('avg_fine')}。",
    ]
    yoy_bits = []
    for code in scheme.yoy:
        if code in pi.index and code in pi_then.index:
            g = growth(pd.Series([pi.loc[code, "value"]], dtype=float), pd.Series([pi_then.loc[code, "value"]], dtype=float)).iloc[0]
            i = scheme.indicator(code)
            yoy_bits.append(f"{i.name}{value_text(pi.loc[code, 'value'], i.unit, i.decimals)}（{change_words(g, 'pct', ya)}）")
    if yoy_bits:
        a1.append("同比指标：" + "；".join(yoy_bits) + "。")

    by_type = by_dimension(con, period, province, "inspection_type", scheme)
    by_ind = by_dimension(con, period, province, "industry", scheme)
    total_insp = int(by_type["inspections"].sum())
    if total_insp:
        shares = [f"{r.key}{count(r.inspections)}次（占{pct(r.inspections / total_insp)}）" for r in by_type.itertuples()
                  if r.inspections]
        a2 = [f"按检查方式分：{names_list(shares)}。"]
        top = by_type[by_type["inspections"] > 0].sort_values(["per_thousand_major", "key"], ascending=[False, True])
        if len(top) > 1 and not _na(top["per_thousand_major"].iloc[0]) and top["per_thousand_major"].iloc[0] > 0:
            t = top.iloc[0]
            a2.append(f"{t['key']}每千次检查发现重大事故隐患{one(t['per_thousand_major'])}项，为各检查方式中最高。")
    else:
        a2 = ["本期没有执法检查记录，不分检查方式统计。"]
    type_table = _table("by_type", "按检查方式统计", by_type[["key", "inspections", "hazards", "major_hazards",
                                                           "per_thousand_major"]].set_axis(
        ["检查方式", "检查次数", "发现隐患", "重大事故隐患", "每千次检查重大隐患"], axis=1),
        {"检查次数": count, "发现隐患": count, "重大事故隐患": count, "每千次检查重大隐患": thousand})
    if len(by_ind) and (by_ind["inspections"].sum() or by_ind["cases"].sum()):
        top_i = by_ind.sort_values(["inspections", "key"], ascending=[False, True]).iloc[0]
        top_f = by_ind.sort_values(["fines", "key"], ascending=[False, True]).iloc[0]
        a3 = [f"按行业领域分：{top_i['key']}检查{count(top_i['inspections'])}次，居各行业之首"
              + (f"；{top_f['key']}罚款{money(top_f['fines'])}万元，罚款金额最高。" if top_f["fines"] > 0 else
                 "；本期没有罚款。")]
    else:
        a3 = ["本期没有按行业领域可统计的记录。"]
    ind_table = _table("by_industry", "按行业领域统计", by_ind[["key", "inspections", "enterprises", "hazards",
                                                             "major_hazards", "cases", "fines"]].set_axis(
        ["行业领域", "检查次数", "检查企业", "发现隐患", "重大事故隐患", "立案", "罚款（万元）"], axis=1),
        {"检查次数": count, "检查企业": count, "发现隐患": count, "重大事故隐患": count, "立案": count,
         "罚款（万元）": money})
    a4 = [f"现行数据规范未采集隐患类别，暂无法统计隐患类型分布；本期发现的隐患中，属于重点检查事项的"
          f"{count(pi.loc['key_matter_findings', 'value']) if 'key_matter_findings' in pi.index else '—'}项，"
          f"重大事故隐患{count(h.loc['major_hazards', 'value'])}项。"]
    a5 = capacity_sentences(con, period, level, province, scheme, noun)
    s2 = Section("二、主要指标分析", [Block("h2", "（一）检查与隐患治理。")] + [Block("p", t) for t in a1]
                 + [Block("h2", "（二）分检查方式情况。")] + [Block("p", t) for t in a2] + [Block("table", table=type_table)]
                 + [Block("h2", "（三）分行业领域情况。")] + [Block("p", t) for t in a3] + [Block("table", table=ind_table)]
                 + [Block("h2", "（四）隐患类型。")] + [Block("p", t) for t in a4]
                 + ([Block("h2", "（五）执法能力建设与案例报送。")] + [Block("p", t) for t in a5] if a5 else []))

    # --- 三、各地排名 ------------------------------------------------------------------------------------
    ix, detail = index_frames(con, period, level, province, scheme)
    prev_ix = compute_index(con, period.previous(), level, province, scheme)
    ranked = ix[ix["index"].notna()].sort_values(["rank", "code"])
    n_assessed = len(ranked)
    r3 = []
    if n_assessed == 0:
        r3.append(f"{period.label}全省{noun}均无执法记录，不计算{spec.name}。")
    else:
        first = ranked[ranked["rank"] == ranked["rank"].min()]
        last = ranked[ranked["rank"] == ranked["rank"].max()]
        avg = f"{period.label}全省{n_assessed}个{noun}{spec.name}平均{one(ranked['index'].mean())}"
        if len(first) == n_assessed:
            r3.append(f"{avg}，各{noun}指数相同（均为{one(first['index'].iloc[0])}）。")
        else:
            r3.append(f"{avg}，最高的是{names_list([named(c, n) for c, n in zip(first['code'], first['name'])])}"
                      f"（{one(first['index'].iloc[0])}），最低的是"
                      f"{names_list([named(c, n) for c, n in zip(last['code'], last['name'])])}（{one(last['index'].iloc[0])}）。")
            top5 = ranked.head(5)
            r3.append("排名前五位的是：" + names_list(
                [f"{named(c, n)}（{one(v)}）" for c, n, v in zip(top5["code"], top5["name"], top5["index"])]) + "。")
    no_data = ix[~ix["assessed"].astype(bool)]
    if len(no_data) and n_assessed:
        r3.append(f"{names_list([named(c, n) for c, n in zip(no_data['code'], no_data['name'])])}本期无执法记录（无数据），不参与排名。")
    all_na = ix[ix["assessed"].astype(bool) & ix["index"].isna()]
    if len(all_na):
        r3.append(f"{names_list([named(c, n) for c, n in zip(all_na['code'], all_na['name'])])}本期各项指数指标均不适用"
                  "（分母为0），未计算指数。")
    moves = rank_moves(ix, prev_ix)   # the overview's 名次变化 (metrics.moves), said in words
    word = "上季度" if quarterly else "上年"
    if len(moves):
        up, down = movers(moves)

        def mv(r) -> str:
            return (f"{named(r['code'], r['name'])}（第{int(r['previous_rank'])}名→第{int(r['rank'])}名，"
                    f"指数{one(r['previous_index'])}→{one(r['index'])}）")
        r3.append(f"与{word}相比，名次上升最多的是" + (names_list([mv(r) for _, r in up.iterrows()]) if len(up) else "（无上升单位）")
                  + "；下降最多的是" + (names_list([mv(r) for _, r in down.iterrows()]) if len(down) else "（无下降单位）") + "。")
    else:
        r3.append(f"{period.previous().label}无可比的{spec.name}，不作升降比较。")

    # per-unit totals (annex) and the units whose fines fell year on year (Guangxi's bulletin names them)
    ut = unit_totals(con, period, level, province, scheme=scheme)
    ut_then = unit_totals(con, period.year_ago(), level, province, scheme=scheme)
    ut["fines_yoy"] = growth(ut["fines"], ut["code"].map(ut_then.set_index("code")["fines"]))
    fell = ut[ut["fines_yoy"] < 0].sort_values(["fines_yoy", "code"])
    if ya and len(fell):
        shown = fell.head(MAX_NAMED)
        r3.append(f"罚款金额同比下降的{noun}有{len(fell)}个：" + names_list(
            [f"{named(c, n)}（{change_cell(g, 'pct', True)}）" for c, n, g in zip(shown["code"], shown["name"], shown["fines_yoy"])])
            + ("等" if len(fell) > MAX_NAMED else "") + "。")
    elif ya:
        r3.append(f"各{noun}罚款金额均未同比下降。")

    if quarterly:
        sheet = compute_score(con, period, level, province, scheme)
        scored = sheet[sheet["assessed"].astype(bool)].sort_values(["rank", "code"])
        if len(scored) and scored["score"].nunique() == 1:
            r3.append(f"季度量化考评：{len(scored)}个参评{noun}得分均为{one(scored['score'].iloc[0])}分。")
        elif len(scored):
            r3.append(f"季度量化考评：{len(scored)}个参评{noun}平均得分{one(scored['score'].mean())}分，"
                      f"最高{names_list([named(c, n) for c, n in zip(scored[scored['rank'] == scored['rank'].min()]['code'], scored[scored['rank'] == scored['rank'].min()]['name'])])}"
                      f"（{one(scored['score'].max())}分），最低"
                      f"{names_list([named(c, n) for c, n in zip(scored[scored['rank'] == scored['rank'].max()]['code'], scored[scored['rank'] == scored['rank'].max()]['name'])])}"
                      f"（{one(scored['score'].min())}分）。")
        comm = None
        quarter_sheets = {str(period): sheet}
    else:
        comm = commendations(con, period.year, level, province, scheme)
        quarter_sheets = {str(q): compute_score(con, q, level, province, scheme) for q in period.quarters()}
        c_ok = comm[comm["mean_score"].notna()].sort_values(["rank", "code"])
        if len(c_ok):
            r3.append(f"全年季度量化考评：{len(c_ok)}个{noun}平均得分最高的是"
                      f"{named(c_ok['code'].iloc[0], c_ok['name'].iloc[0])}（{one(c_ok['mean_score'].iloc[0])}分），最低的是"
                      f"{named(c_ok['code'].iloc[-1], c_ok['name'].iloc[-1])}（{one(c_ok['mean_score'].iloc[-1])}分）。")
        sheet = None
    s3 = Section("三、各地排名", [Block("p", t) for t in r3])

    # --- 四、预警与表扬 -----------------------------------------------------------------------------------
    rule = scheme.warning
    w_blocks: list[Block] = []
    warned_rows = []
    for q, sh in quarter_sheets.items():
        qlabel = Period.parse(q).label
        assessed = sh[sh["assessed"].astype(bool)]
        # peers are the province, or each city when a scheme scores counties within their city
        largest = int(assessed["peers"].max()) if len(assessed) else 0
        if not rule.has_list(largest):
            w_blocks.append(Block("p", f"{qlabel}{rule.no_list_reason(len(assessed), noun)}。"))
            continue
        w = sh[sh["warned"].fillna(False).astype(bool)].sort_values(["score", "code"])
        nums = numbers(q, level) if numbers else {}
        for r in w.itertuples():
            warned_rows.append(dict(quarter=qlabel, code=r.code, name=named(r.code, r.name), score=r.score,
                                    rank=int(r.rank), peers=int(r.peers), number=nums.get(str(r.code)) or NOT_ISSUED))
        if len(w):
            sent = sum(1 for c in w["code"] if nums.get(str(c)))
            tail = ("，均已发提醒敦促函（文号见下表）。" if sent == len(w) else
                    f"，已对其中{sent}个发提醒敦促函（文号见下表）。" if sent else "。")
            w_blocks.append(Block("p", f"{qlabel}，得分{rule.condition()}、列入预警名单的有{len(w)}个{noun}："
                                  + names_list([f"{named(r.code, r.name)}（{one(r.score)}分，第{int(r.rank)}名）"
                                                for r in w.itertuples()]) + tail))
        else:
            w_blocks.append(Block("p", f"{qlabel}没有{noun}同时满足得分{rule.condition()}，"
                                       "无预警单位。"))
    warned = pd.DataFrame(warned_rows, columns=["quarter", "code", "name", "score", "rank", "peers", "number"])
    if len(warned):
        wt = warned[["quarter", "name", "score", "rank", "number"]].set_axis(["季度", "单位", "得分", "名次", "提醒敦促函文号"], axis=1)
        w_blocks.append(Block("table", table=_table("warned", "预警单位及提醒敦促函", wt, {"得分": one})))
    if quarterly:
        top = scheme.commendation.top
        best = sheet[sheet["assessed"].astype(bool) & sheet["rank"].le(top).fillna(False).astype(bool)].sort_values(["rank", "code"])
        if len(best):
            w_blocks.append(Block("p", f"本季度考评得分前{top}名的是：" + names_list(
                [f"{named(r.code, r.name)}（{one(r.score)}分）" for r in best.itertuples()])
                + "，予以通报表扬。年度表扬按全年各季度平均得分确定。"))
        commended = best
    else:
        commended = comm[comm["commended"]].sort_values(["rank", "code"])
        if len(commended):
            w_blocks.append(Block("p", f"按全年各季度考评平均得分，{names_list([f'{named(r.code, r.name)}（{one(r.mean_score)}分）' for r in commended.itertuples()])}"
                                       f"位列前{scheme.commendation.top}名，予以通报表扬，并在年度考核中加分。"))
        else:
            w_blocks.append(Block("p", f"{period.label}没有参评{noun}，不作表扬。"))
    s4 = Section("四、预警与表扬", w_blocks)

    # --- 五、存在问题 -------------------------------------------------------------------------------------
    prov_p = province_priorities(detail, scheme)
    p_blocks = []
    if n_assessed:
        good, bad = summary(prov_p, scheme)
        p_blocks += [Block("h2", "（一）全省层面。"), Block("p", bad), Block("p", good)]
        lag_codes = list(dict.fromkeys(
            list(warned["code"]) + (list(ranked[ranked["rank"] > n_assessed - rule.last]["code"])
                                    if rule.has_list(n_assessed) else [])))
        if lag_codes:
            p_blocks.append(Block("h2", "（二）排名靠后和预警单位。"))
        unit_p = {}
        for code in lag_codes:
            up = unit_priorities(detail, code, scheme)
            unit_p[code] = up
            nm = named(code, dict(zip(ix["code"], ix["name"]))[code])
            g_, b_ = summary(up, scheme)
            p_blocks.append(Block("p", f"{nm}：{b_}{g_}"))
    else:
        p_blocks.append(Block("p", f"{period.label}无参评{noun}，不作分析。"))
        unit_p = {}
    s5 = Section("五、存在问题", p_blocks)

    # --- 六、工作要求 -------------------------------------------------------------------------------------
    nxt = Period(period.year + 1) if not quarterly else (
        Period(period.year + 1, "quarter", 1) if period.number == 4 else Period(period.year, "quarter", period.number + 1))
    ctx = {"期间": period.label, "下期": nxt.label, "省": pname, "层级": noun,
           "预警单位": names_list(list(dict.fromkeys(warned["name"]))),
           "主要问题": names_list(prov_p[prov_p["kind"] == "priority"]["name"].tolist())}
    req = render_requirements(template, ctx, requirements_name)
    s6 = Section("六、工作要求", [Block("h2" if re.match(r"^（[一二三四五六七八九十]+）", t) else "p", t) for t in req])

    # --- 附件 ----------------------------------------------------------------------------------------------
    inds = compute_indicators(con, period, level, province, scheme, ["coverage"]).set_index("code")
    data = ut.assign(enterprises=ut["code"].map(inds["numerator"]))
    data = pd.concat([data, _annex_total_rows(con, period, level, province, scheme, ut, ut_then, ya)],
                     ignore_index=True)
    a_cols = {"name": "单位", "inspections": "检查次数", "enterprises": "检查企业", "hazards": "发现隐患",
              "major_hazards": "重大事故隐患", "rectification": "隐患整改率", "cases": "立案", "fines": "罚款（万元）",
              "fines_yoy": "罚款同比"}
    d1 = data.assign(name=[named(c, n) for c, n in zip(data["code"], data["name"])])[list(a_cols)].rename(columns=a_cols)
    d1.insert(1, "代码", data["code"].to_numpy())
    annex1 = _table("units", f"各{noun}{period.label}主要执法数据", d1,
                    {"检查次数": count, "检查企业": count, "发现隐患": count, "重大事故隐患": count, "隐患整改率": pct,
                     "立案": count, "罚款（万元）": money_exact,
                     "罚款同比": (lambda g: change_cell(g, "pct", True)) if ya else (lambda g: "无数据")},
                    note=ANNEX_TOTALS_NOTE)
    d2 = ix.sort_values(["rank", "code"], na_position="last")
    d2 = pd.DataFrame({"名次": d2["rank"], "单位": [named(c, n) for c, n in zip(d2["code"], d2["name"])],
                       "代码": d2["code"], spec.name: d2["index"],
                       **{f"{g.code} {g.name}": d2[g.code] for g in spec.groups}})
    annex2 = _table("index", f"各{noun}{period.label}{spec.name}", d2,
                    {"名次": lambda v: "无数据" if _na(v) else str(int(v)), spec.name: one,
                     **{f"{g.code} {g.name}": one for g in spec.groups}})
    if quarterly:
        d3 = sheet.sort_values(["rank", "code"], na_position="last")
        d3 = pd.DataFrame({"名次": d3["rank"], "单位": [named(c, n) for c, n in zip(d3["code"], d3["name"])],
                           "代码": d3["code"], "得分": d3["score"], "加分": d3["bonus"], "减分": d3["deduction"],
                           "预警": d3["warned"].map(lambda w: "无数据" if _na(w) else ("是" if w else "否"))})
        annex3 = _table("score", f"各{noun}{period.label}执法量化考评得分", d3,
                        {"名次": lambda v: "无数据" if _na(v) else str(int(v)), "得分": one, "加分": one, "减分": one})
    else:
        d3 = comm.sort_values(["rank", "code"], na_position="last")
        d3 = pd.DataFrame({"名次": d3["rank"], "单位": [named(c, n) for c, n in zip(d3["code"], d3["name"])],
                           "代码": d3["code"], **{f"第{k}季度": d3[f"Q{k}"] for k in range(1, 5)},
                           "平均得分": d3["mean_score"], "表扬": d3["commended"].map(lambda c: "是" if c else "")})
        annex3 = _table("score", f"各{noun}{period.year}年执法量化考评得分", d3,
                        {"名次": lambda v: "无数据" if _na(v) else str(int(v)), "平均得分": one,
                         **{f"第{k}季度": one for k in range(1, 5)}})

    title = f"关于{period.label}全省安全生产执法工作情况的通报"
    frames = {"headline": head, "province_indicators": pi.reset_index(), "by_type": by_type, "by_industry": by_ind,
              "index": ix, "index_detail": detail, "movers": moves, "unit_totals": ut, "warned": warned,
              "commended": commended.reset_index(drop=True), "province_priorities": prov_p,
              **({"score": sheet} if quarterly else {"commendations": comm}),
              **{f"priorities_{c}": f for c, f in unit_p.items()}}
    return Bulletin(period, level, province, pname, noun, title, f"各{noun}应急管理局：",
                    [s1, s2, s3, s4, s5, s6], [annex1, annex2, annex3], frames)


def annex_xlsx(b: Bulletin, target=None) -> bytes | None:
    """The annex tables as one Excel workbook (a sheet each, typed cells, formulas neutralised)."""
    import io

    from etl.safe import safe_cell

    buf = io.BytesIO() if target is None else target
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for k, t in enumerate(b.annexes, 1):
            df = t.data.astype(object).where(t.data.notna(), None).map(safe_cell)
            df.to_excel(xw, sheet_name=f"附件{k}", index=False, startrow=1)
            xw.sheets[f"附件{k}"].cell(row=1, column=1, value=t.title)
    return buf.getvalue() if target is None else None


def brief_lines(b: Bulletin) -> list[str]:
    """The one-page brief's sentences (beside the headline table): first and last by the index,
    who rose and fell most, the warning list, the province's priority issues — short forms of
    the bulletin's own sentences, from the same frames."""
    ix, moves, warned = b.frames["index"], b.frames["movers"], b.frames["warned"]
    ranked = ix[ix["index"].notna()].sort_values(["rank", "code"])
    out = []
    if len(ranked) > 1 and ranked["index"].nunique() > 1:
        first, last = ranked.iloc[0], ranked.iloc[-1]
        out.append(f"指数排名：{len(ranked)}个{b.noun}中最高{first['name']}（{one(first['index'])}），"
                   f"最低{last['name']}（{one(last['index'])}）。")
    elif len(ranked):
        out.append(f"指数排名：{len(ranked)}个{b.noun}指数均为{one(ranked['index'].iloc[0])}。")
    else:
        out.append(f"指数排名：本期全省{b.noun}均无执法记录。")
    up, down = movers(moves, 1)
    bits = [f"{label}{r['name']}（第{int(r['previous_rank'])}名→第{int(r['rank'])}名）"
            for label, f in (("名次上升最多", up), ("下降最多", down)) for _, r in f.iterrows()]
    if bits:
        out.append(f"与{'上季度' if b.period.kind == 'quarter' else '上年'}相比：" + "，".join(bits) + "。")
    warn_texts = [bl.text for s in b.sections if s.heading.startswith("四") for bl in s.blocks
                  if bl.kind == "p" and "预警" in bl.text]
    if len(warned):
        last_q = warned["quarter"].iloc[-1]
        names = warned[warned["quarter"] == last_q]["name"].tolist()
        out.append(f"预警名单（{last_q}）：{names_list(names)}。")
    elif warn_texts:
        out.append(warn_texts[-1])
    pp = b.frames["province_priorities"]
    issues = pp[pp["kind"] == "priority"]["name"].tolist()
    if issues:
        out.append(f"需重点改进：{names_list(issues)}。")
    return out
