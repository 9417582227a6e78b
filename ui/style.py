"""Presentation helpers: number formats, band colours, Chinese labels. No data access here."""
from __future__ import annotations

import math

import pandas as pd

LEVEL_LABEL = {"city": "市", "county": "县（市、区）"}
LEVEL_NOUN = {"city": "设区市", "county": "县（市、区）"}
KIND_LABEL = {"quarter": "季度", "year": "年度"}

# bands: 达标 green, 关注 amber, 需改进 red (strong colour for charts, light for table cells)
BAND_COLORS = {"达标": "#2e7d32", "关注": "#f0a202", "需改进": "#c62828", "无数据": "#9e9e9e"}
BAND_FILL = {"达标": "#e3f1e4", "关注": "#fff3cd", "需改进": "#fbe0e0", "无数据": "#f2f2f2"}
WARN_FILL = "#fbe0e0"
PRIMARY = "#1f4e79"

INDEX_COLUMNS = ["A", "B", "C", "D", "E", "F"]


def isna(x) -> bool:
    if x is None:
        return True
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def truthy(x) -> bool:
    """A flag from a frame (bool, numpy bool, or pandas NA for a unit not assessed) as a bool."""
    return False if isna(x) else bool(x)


def band(score, meets: float = 85.0, attention: float = 70.0, labels=("达标", "关注", "需改进")) -> str:
    """The band of a 0–100 score: >= meets, >= attention, else improvement; 无数据 when NA."""
    if isna(score):
        return "无数据"
    return labels[0] if score >= meets else labels[1] if score >= attention else labels[2]


def band_of(scheme):
    """A band function using the scheme's thresholds and labels."""
    b = getattr(scheme, "bands", None)
    if b is None:
        return band
    return lambda s: band(s, b.meets, b.attention, b.labels)


def colour_map(scheme=None) -> dict[str, str]:
    """Band label → colour, honouring a scheme's own labels."""
    labels = getattr(getattr(scheme, "bands", None), "labels", ("达标", "关注", "需改进"))
    return {labels[0]: BAND_COLORS["达标"], labels[1]: BAND_COLORS["关注"], labels[2]: BAND_COLORS["需改进"],
            "无数据": BAND_COLORS["无数据"]}


def fill_map(scheme=None) -> dict[str, str]:
    labels = getattr(getattr(scheme, "bands", None), "labels", ("达标", "关注", "需改进"))
    return {labels[0]: BAND_FILL["达标"], labels[1]: BAND_FILL["关注"], labels[2]: BAND_FILL["需改进"],
            "无数据": BAND_FILL["无数据"]}


# --- numbers ------------------------------------------------------------------------------------
def num(x, decimals: int = 1) -> str:
    if isna(x):
        return "—"
    return f"{x:,.{decimals}f}"


def integer(x) -> str:
    return "—" if isna(x) else f"{int(round(x)):,}"


def pct(x, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.986 → 98.6%."""
    return "—" if isna(x) else f"{x * 100:.{decimals}f}%"


def wan(x, decimals: int = 2) -> str:
    """An amount already in 万元."""
    return "—" if isna(x) else f"{x:,.{decimals}f} 万元"


def value(x, unit: str, decimals: int | None = None) -> str:
    """An indicator value in its unit: '%' values are fractions."""
    if isna(x):
        return "不适用"
    if unit == "%":
        return pct(x, 1 if decimals is None or decimals >= 3 else max(decimals - 2, 0))
    if unit == "万元":
        return wan(x, 2 if decimals is None else decimals)
    d = 0 if unit in ("件", "项", "次", "个") else (1 if decimals is None else decimals)
    return f"{x:,.{d}f} {unit}".strip()


def amount(x, unit: str) -> str:
    """A numerator or denominator (a count, or a sum in its unit)."""
    if isna(x):
        return ""
    if unit == "万元":
        return f"{x:,.2f}"
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}"


def change(x, kind: str) -> str | None:
    """A KPI change for st.metric's delta: relative (+3.2%) or percentage points (+1.4 个百分点)."""
    if isna(x) or (isinstance(x, float) and math.isinf(x)):
        return None
    if is_flat(x, kind):
        return "持平"
    if kind == "pp":
        return f"{x:+.1f} 个百分点"
    return f"{x * 100:+.1f}%"


def is_flat(x, kind: str) -> bool:
    """A change that rounds to zero as shown (0.0% or 0.0 个百分点): no arrow, no colour."""
    if isna(x):
        return False
    return round(abs(x) * (1 if kind == "pp" else 100), 1) == 0


def rank_change(now, before) -> str:
    """▲2 (moved up two places), ▼1, — (same), 新 (no rank before)."""
    if isna(now):
        return ""
    if isna(before):
        return "新"
    d = int(before) - int(now)
    return "—" if d == 0 else (f"▲{d}" if d > 0 else f"▼{-d}")


def style_cells(df: pd.DataFrame, colour_by: dict[str, pd.Series], fills: dict[str, str]):
    """A Styler colouring each column in `colour_by` by the band label Series given for it."""
    styles = pd.DataFrame("", index=df.index, columns=df.columns)
    for col, labels in colour_by.items():
        if col in styles.columns:
            styles[col] = labels.map(lambda b: f"background-color: {fills.get(b, '')}" if b in fills else "")
    return df.style.apply(lambda _: styles, axis=None)


# Chinese labels for record and drill-down columns
COLUMN_LABELS = {
    "code": "代码", "name": "名称", "inspection_id": "检查编号", "enterprise_id": "统一社会信用代码",
    "enterprise": "单位名称", "agency_code": "执法机构代码", "agency": "执法机构", "inspection_date": "检查日期",
    "inspection_type": "检查方式", "via_mobile": "移动执法", "with_expert": "专家参与", "hazards": "隐患数",
    "hazard_id": "隐患编号", "found_date": "发现日期", "is_major": "重大隐患", "key_matter": "重点事项",
    "needs_rectification": "需整改", "deadline": "整改期限", "rectified_date": "整改完成日期", "status": "整改状态",
    "source": "列入原因",
    "case_id": "案件编号", "filed_date": "立案日期", "decision_date": "决定日期",
    "fine_company": "单位罚款(元)", "fine_person": "个人罚款(元)",
    "fine_company_wan": "单位罚款(万元)", "fine_person_wan": "个人罚款(万元)", "dual_penalty": "一案双罚",
    "for_major_hazard": "重大隐患立案", "transferred": "移送司法", "case_reported": "典型案例报送",
    "review_score": "案卷评查得分", "key_unit": "重点单位", "industry": "行业领域", "enterprise_county": "企业所在区县代码", "enterprise_county_name": "企业所在区县",
    "hazards_found": "发现隐患数", "major_hazards_found": "重大隐患数", "amount": "计入金额/数量",
    "county": "所属区县", "county_code": "区县代码", "inspections": "检查次数", "major_hazards": "重大隐患",
    "open_hazards": "期末未整改隐患", "overdue_major": "逾期未整改重大隐患", "cases": "立案数", "fines": "罚款(万元)",
    "planned_inspections": "计划检查次数", "year": "年度", "needing": "需整改隐患", "rectified": "期末已整改",
    "rectification": "整改率", "index": "指数", "rank": "名次", "score": "考评得分",
    # the staff roster, training, establishment and the case-reporting windows (methodology §7)
    "officer_id": "执法证号", "post": "岗位类别", "degree": "相关学历", "qualification": "职业资格",
    "experience": "实践经验", "qualified": "专业执法人员", "entry_training_days": "入职培训天数",
    "start_date": "在岗起始日期", "end_date": "离岗日期", "refresher_days": "复训天数", "posts": "核定编制数",
    "training_id": "培训记录", "window_id": "周期编号", "agency_level": "机构层级", "window_name": "报送周期",
    "window_start": "周期起始", "window_end": "周期截止", "reported_cases": "报送案件数", "met": "按期报送",
    "case_ids": "报送案件编号",
}


def labelled(df: pd.DataFrame, reasons=None, blanks: bool = True) -> pd.DataFrame:
    """Rename known columns to their Chinese labels; booleans become 是/否; a blank field reads —
    (ui.display.plain; ``reasons`` per row or one for all, e.g. 无数据)."""
    from ui.display import plain

    out = df.copy()
    for c in out.columns:
        if out[c].dtype == bool or str(out[c].dtype) == "boolean":
            out[c] = out[c].map({True: "是", False: "否"})
        elif pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d")
    if blanks:
        out = plain(out, reasons, text=True)
    return out.rename(columns={c: COLUMN_LABELS.get(c, c) for c in out.columns})
