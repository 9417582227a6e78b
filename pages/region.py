"""区域分析 (for analysts): one region's index and score over time, its sub-indices against the
peer median, its indicators with numerator, denominator, band and year-on-year, where it lost
points — and the drill-down city → counties → enterprises → the records behind any number.

The unit comes from the selector, from another page (分析 ›) or from the URL (``?region=330700``).
A city user may pick only its city and counties; any other unit asked for by session state or
URL is refused with 无权查看 (and the data layer would refuse it too)."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from etl.safe import csv_bytes
from metrics.breakdown import score_breakdown
from metrics.drill import BACKLOG_SOURCE
from metrics.periods import Period
from metrics.priorities import summary as priorities_summary
from ui import charts, data, display, gate, state
from ui.style import (COLUMN_LABELS, LEVEL_NOUN, amount, band_of, change, fill_map, integer, is_flat, isna, labelled,
                      num, pct, style_cells, truthy, value)

# rows a record list shows on the page (a city's quarter holds thousands: every visit and unit switch
# sent them all, ~350 KB; the first 100 rows ~30 KB); the download button next to each list holds every row
SHOWN = 100

acc = gate.page(__file__)
sel = state.selection()
sc = sel.scheme
band = band_of(sc)
fills = fill_map(sc)
spec = sc.require_index()
noun = LEVEL_NOUN[sel.level]

scope = data.scope()
everything = data.regions(sel.key, sel.province)
all_names = dict(zip(everything["code"], everything["name"]))
units = data.regions(sel.key, sel.province, sel.level)
ix = data.index(sel.key, sel.period, sel.level, sel.province, sel.skey)
names = dict(zip(units["code"], units["name"]))
options = [c for c in units["code"].tolist() if scope.sees(c)]   # a city user: its own units only

# which unit: sent here from another page, or in the URL (?region=…, kept in sync below so the
# address can be bookmarked or sent), or kept from before
focus = st.session_state.pop(state.FOCUS, None)
asked = st.query_params.get("region")
if asked is not None and asked == st.session_state.get(state.REGION_URL):
    asked = None   # the address only echoes the unit already chosen here
# "state": the selectbox's value, or (its widget state is dropped while another page shows) the unit
# this page last showed
kept = st.session_state.get("region_code") or st.session_state.get(state.REGION_URL)
for want, source in ((focus, "page"), (asked, "url"), (kept, "state")):
    if want is None:
        continue
    want = str(want).strip()
    if want in all_names and not scope.sees(want):
        st.session_state.pop("region_code", None)
        gate.denied(acc, "区域分析", want)
        st.title("区域分析")
        st.error(f"无权查看{all_names[want]}（{want}）的数据。您的账号只能查看本市及所辖县（市、区）的详细数据；"
                 "其他单位只显示名次（见“排名”页）。", icon=":material/block:")
        st.stop()
    if want in options:
        st.session_state["region_code"] = want
        break
    other = "county" if sel.level == "city" else "city"
    if source in ("url", "page") and want in set(data.regions(sel.key, sel.province, other)["code"]):
        # a unit of the other level (a county's code while counties are not shown): switch the level
        state.request_level(other)
        st.session_state[state.FOCUS] = want
        st.rerun()
    if source == "url":
        st.info(f"{all_names[want]}不是{noun}。" if want in all_names else f"没有区划代码为 {want[:12]} 的单位。")
if not options:
    st.title("区域分析")
    st.info(f"您的账号没有可查看的{noun}。", icon=":material/info:")
    st.stop()
if st.session_state.get("region_code") not in options:
    # default: the last in the ranking (a low score to follow)
    ranked = ix[ix["code"].isin(options)].dropna(subset=["index"]).sort_values(["rank", "code"])
    st.session_state["region_code"] = ranked["code"].iloc[-1] if len(ranked) else options[0]

head, pick = st.columns([3, 2])
with pick:
    code = st.selectbox(f"选择{noun}", options, key="region_code",
                        format_func=lambda c: f"{names.get(c, c)}（{c}）", placeholder="请选择")
st.query_params["region"] = code
st.session_state[state.REGION_URL] = code
name = names.get(code, code)
head.title(f"区域分析 · {name}")
head.caption(f"{sel.province_name} · {sel.label} · {noun} · 方案：{sc.name}")

# --- strengths and priority issues (SRF style; the bulletin's 五、存在问题 says the same) ---------------
with st.container(border=True, key="region_priorities"):
    st.markdown(f"**{name}：优势与需重点改进**（按指数各指标的分档，至多各三项，与通报“存在问题”一致）")
    if isna(ix.set_index("code").at[code, "index"]):
        st.markdown(f"{sel.label}无指数（无数据或各项指标均不适用），不列优势与问题。")
    else:
        pri = data.unit_priorities(sel.key, sel.period, sel.level, sel.province, sel.skey, code)
        strengths_text, issues_text = priorities_summary(pri, sc)
        st.markdown(f":green[{strengths_text}]  \n:red[{issues_text}]")

# --- headline: index, score, KPIs ---------------------------------------------------------------------
row = ix.set_index("code").loc[code]
sheet = data.score(sel.key, sel.quarter, sel.level, sel.province, sel.skey)
srow = sheet.set_index("code").loc[code]
n_index = int(ix["index"].notna().sum())
n_score = int(sheet["assessed"].sum())
tiles = data.kpi_tiles(sel.key, sel.period, code, skey=sel.skey)
quarter_label = Period.parse(sel.quarter).label

c = st.columns([1, 1, 3])
c[0].metric("执法效能指数", "无数据" if isna(row["index"]) else f"{row['index']:.1f}",
            None if isna(row["rank"]) else f"第 {int(row['rank'])}/{n_index} 名", delta_color="off",
            delta_arrow="off", border=True, help=f"{sel.label}{spec.name}；分档：{band(row['index'])}")
c[1].metric("季度考评得分", "无数据" if isna(srow["score"]) else f"{srow['score']:.1f}",
            None if isna(srow["rank"]) else f"第 {int(srow['rank'])}/{n_score} 名", delta_color="off",
            delta_arrow="off", border=True, help=f"{quarter_label}考评得分（含加减分）")
with c[2]:
    if truthy(srow.get("warned")):
        st.error(f"**已列入{quarter_label}预警名单**：{srow['reason']}", icon=":material/warning:")
    elif not truthy(srow.get("assessed", True)):
        st.info(f"{quarter_label}无数据：{srow.get('reason') or '本季度无检查、隐患或立案记录'}")
    else:
        st.success(f"{quarter_label}未列入预警名单（预警：{sc.warning.describe()}）。", icon=":material/check_circle:")
    st.caption(f"指数分档：{band(row['index'])}；下方小卡片为{sel.label}的执法数据，箭头为与上一期相比的变化。")
fmt = {"inspections": integer, "hazards": integer, "rectification": pct, "cases": integer,
       "fines": lambda v: num(v, 1)}
for col, t in zip(st.columns(5), tiles.itertuples()):
    flat = is_flat(t.change, t.change_kind)
    col.metric(t.name + ("（万元）" if t.unit == "万元" else ""), fmt[t.kpi](t.value), change(t.change, t.change_kind),
               border=True, delta_color="off" if t.kpi == "hazards" or flat else "normal",
               delta_arrow="off" if flat else "auto")

# --- over time -------------------------------------------------------------------------------------
def short_label(p: str) -> str:
    """2025Q3 → 25年Q3, 2025 → 2025年 (axis labels)."""
    per = Period.parse(p)
    return f"{per.year % 100:02d}年Q{per.number}" if per.kind == "quarter" else per.label


t1, t2 = st.columns(2)
with t1:
    periods = sel.recent(12)
    hist = data.history("index", sel.key, periods, sel.level, sel.province, sel.skey)
    h = hist[hist["code"] == code][["period", "index"]]
    med = hist.groupby("period")["index"].median().reindex(periods).rename("median").reset_index()
    h = med.merge(h, on="period", how="left")
    h["period"] = h["period"].map(short_label)
    with st.container(key="region_index_trend"):
        st.vega_lite_chart(spec=charts.trend(h, "period", {"index": "本单位", "median": "同级中位数"}, f"{spec.name}走势"),
                           width="stretch", height=320)
with t2:
    quarters = [q for q in sel.status["quarters"] if q <= sel.quarter][-12:]
    sh = data.history("score", sel.key, quarters, sel.level, sel.province, sel.skey)
    s = sh[sh["code"] == code][["period", "score"]]
    smed = sh.groupby("period")["score"].median().reindex(quarters).rename("median").reset_index()
    s = smed.merge(s, on="period", how="left")
    s["period"] = s["period"].map(short_label)
    fig = charts.trend(s, "period", {"score": "本单位", "median": "同级中位数"}, "季度考评得分走势", y_range=(0, 106),
                       rule=(sc.warning.threshold, sc.warning.threshold_label()))
    with st.container(key="region_score_trend"):
        st.vega_lite_chart(spec=fig, width="stretch", height=320)

# --- sub-indices against the peer median, and where the points went -----------------------------------
left, right = st.columns([1, 1])
medians = data.peer_medians(sel.key, sel.period, sel.level, sel.province, sel.skey)
with left:
    comp = pd.DataFrame({
        "label": [f"{g.code} {g.name}" for g in spec.groups],
        "unit": [row[g.code] for g in spec.groups],
        "median": [medians.get(g.code) for g in spec.groups],
    })
    with st.container(key="region_vs_median"):
        st.vega_lite_chart(spec=charts.versus_median(comp, "一级指标与同级中位数"), width="stretch", height=320)
with right:
    st.markdown("**主要失分**")
    ib = data.index_breakdown(sel.key, sel.period, sel.level, sel.province, sel.skey, code)
    lines = []
    for r in ib[ib["lost"].fillna(0) > 0.5].head(4).itertuples():
        lines.append(f"- 指数：**{r.name}** {value(r.value, sc.indicators[r.indicator].unit)}，"
                     f"标准化得分 {r.score:.1f}（{r.band}），拉低指数 {r.lost:.1f} 分")
    if truthy(srow.get("assessed", False)):
        sb = score_breakdown(srow, sc)
        for r in sb[(sb["kind"] == "item") & (sb["lost"].fillna(0) > 0.5)].head(3).itertuples():
            lines.append(f"- 考评：**{r.name}** {value(r.value, r.unit)}，得 {r.earned:.1f} / {r.points:g} 分")
        for r in sb[(sb["kind"] == "deduction") & (sb["earned"].fillna(0) > 0)].itertuples():
            lines.append(f"- 考评扣分：**{r.name}** {integer(r.value)} {r.unit}，扣 {r.earned:g} 分（{r.note}）")
    st.markdown("\n".join(lines) if lines else "没有明显失分项。")
    st.caption("下方“指标明细”列出每个指标的分子、分母，“追溯记录”列出其背后的具体记录。")

# --- the lower sections, one at a time: the tab the user opened runs, the others do not (Streamlit's
# stateful tabs). A unit switch used to draw all four — seven capacity tiles and five grids; the
# browser's layout of them was most of the switch's time.
SECTIONS = ["指标明细", "能力建设与案例报送", "追溯记录", "逐级下钻"]
section = dict(zip(SECTIONS, st.tabs(SECTIONS, key="region_section", on_change="rerun")))

# --- indicators: value, numerator, denominator, band, year-on-year ---------------------------------------
inds = data.indicators(sel.key, sel.period, sel.level, sel.province, sel.skey)
mine = inds[inds["code"] == code].set_index("indicator")


def part_amount(ind, x) -> str:
    """A numerator or denominator as shown: a count or a sum; for a year-on-year growth, the base
    indicator's value (now, or a year earlier) in the base's unit — 重大隐患立案率 50.0%, not 0.50."""
    if ind.growth_of:
        base = sc.indicators[ind.growth_of]
        return value(x, base.unit, base.decimals)
    return amount(x, ind.unit)


def indicator_table() -> None:
    """Every indicator of the unit: value, numerator, denominator, band, year-on-year (the first tab)."""
    yoy = data.year_on_year(sel.key, sel.period, sel.level, sel.province, sel.skey)
    yoy_mine = yoy[yoy["code"] == code].set_index("indicator")["growth"] if len(yoy) else pd.Series(dtype=float)
    det = ib.set_index("indicator")
    groups = {n.code: n.parent for n in spec.leaves}
    rows = []
    for code_i, ind in sc.indicators.items():
        if code_i not in mine.index:
            continue
        r = mine.loc[code_i]
        rows.append({
            "指标": ind.name,
            "一级指标": f"{groups[code_i]} {next(g.name for g in spec.groups if g.code == groups[code_i])}"
            if code_i in groups else "",
            "指标值": value(r["value"], ind.unit, ind.decimals),
            "分子": part_amount(ind, r["numerator"]),
            "分母": part_amount(ind, r["denominator"]) if ind.is_ratio else "",
            "标准化得分": (f"{det.loc[code_i, 'score']:.1f}" if code_i in det.index and not isna(det.loc[code_i, "score"])
                      else "不适用" if code_i in det.index else "—"),
            "分档": det.loc[code_i, "band"] if code_i in det.index and not isna(det.loc[code_i, "band"]) else "",
            "同比": change(yoy_mine.get(code_i), "pct") if code_i in yoy_mine.index else "",
            "说明": ind.description,
            "_code": code_i,
        })
    table = pd.DataFrame(rows)
    shown = table.drop(columns="_code")
    styled = style_cells(shown, {"分档": table["分档"], "标准化得分": table["分档"]}, fills)
    st.dataframe(styled, hide_index=True, width="stretch", key="region_indicators", height=38 + 35 * len(shown),
                 column_config={"说明": st.column_config.TextColumn(width="large"),
                                "同比": st.column_config.TextColumn(help="与上年同期相比的增长率")})
    if not truthy(srow.get("assessed", False)):
        return
    with st.expander(f"{quarter_label}考评得分构成", expanded=truthy(srow.get("warned"))):
        sb = score_breakdown(srow, sc)
        kind = {"item": "考评项目", "bonus": "加分", "deduction": "减分"}
        view = pd.DataFrame({
            "类别": sb["kind"].map(kind), "项目": sb["name"],
            "指标值": [value(v, u) for v, u in zip(sb["value"], sb["unit"])],
            "分值/上限": sb["points"], "得分/加减分": sb["earned"], "失分": sb["lost"], "备注": sb["note"],
        })
        st.dataframe(display.table(view, {"分值/上限": "{:g}", "得分/加减分": "{:.1f}", "失分": "{:.1f}"}),
                     hide_index=True, width="stretch", key="region_score_items")
        st.caption(f"总分 = 考评项目得分 {srow['items']:.1f}（各项公布得分之和）+ 加分 {srow['bonus']:g} − 减分 "
                   f"{srow['deduction']:g} = {srow['score']:.1f}")


# --- 能力建设: staff and case reporting against the published targets (methodology §7) ----------------
@st.fragment
def capacity_panel() -> None:
    cap = data.capacity(sel.key, sel.period, sel.level, sel.province, sel.skey)
    if cap.empty:
        st.info("本方案未定义能力建设指标。")
        return
    mine_c = cap[cap["code"] == code]
    if mine_c["value"].notna().sum() <= 1 and mine_c.loc[mine_c["indicator"] == "officers", "value"].fillna(0).eq(0).all():
        st.info(f"{name}尚未导入执法人员名录（执法人员名录、执法人员培训、执法队伍编制三张表），能力建设指标不适用。"
                "可在“数据导入”页下载模板。", icon=":material/info:")
    per_row = 4  # seven tiles in one row cut their names short
    tiles = [c for start in range(0, len(mine_c), per_row) for c in st.columns(per_row)][:len(mine_c)]
    for col, r in zip(tiles, mine_c.itertuples()):
        ind = sc.indicators[r.indicator]
        target = "" if isna(r.target) else f"目标 {value(r.target, ind.unit, ind.decimals)}"
        col.metric(ind.name, value(r.value, ind.unit, ind.decimals), target or None, delta_color="off",
                   delta_arrow="off", border=True,
                   help=f"{ind.description}" + (f"；完成度 {r.attainment:.0f}%，分档：{r.band}" if not isna(r.attainment)
                                                 else ""))
    missed = data.missed_windows(sel.key, sel.period, sel.level, sel.province, sel.skey)
    own = missed[missed["code"] == code]["window_name"].tolist()
    cadence = mine_c[mine_c["indicator"] == "report_cadence"]
    if len(cadence) and not isna(cadence["denominator"].iloc[0]) and cadence["denominator"].iloc[0] > 0:
        if own:
            st.warning(f"**{name}本级未按期直报典型案例的报送周期**：{'、'.join(own)}"
                       f"（本期已结束 {int(cadence['denominator'].iloc[0])} 个周期，按期 {int(cadence['numerator'].iloc[0])} 个；"
                       "只计本级机构立案并报送的案件，不含下级）。", icon=":material/event_busy:")
        else:
            st.success(f"{name}本级在本期已结束的 {int(cadence['denominator'].iloc[0])} 个报送周期均按期直报了典型案例。",
                       icon=":material/event_available:")
    else:
        st.caption("本期内没有已结束的报送周期（省厅每半年、市局每季度、县局每两个月一个周期），案例报送按期率不适用。")
    # every unit of the level against the targets, with bands
    peers = cap.pivot(index="code", columns="indicator", values="value")
    bands_ = cap.pivot(index="code", columns="indicator", values="band")
    order = [c for c in cap["indicator"].drop_duplicates() if c in sc.indicators]
    view = pd.DataFrame({"单位": [names.get(c, c) for c in peers.index]}, index=peers.index)
    colour = {}
    for c in order:
        ind = sc.indicators[c]
        label = ind.name + (f"（目标 {value(sc.targets[c], ind.unit, ind.decimals)}）" if c in sc.targets else "")
        view[label] = [value(v, ind.unit, ind.decimals) for v in peers[c]]
        colour[label] = bands_[c].reindex(view.index).reset_index(drop=True)
    late = missed.groupby("code")["window_name"].agg("、".join) if len(missed) else pd.Series(dtype=object)
    view["未按期报送周期"] = [late.get(c) or "—" for c in view.index]
    view = view.reset_index(drop=True)
    st.markdown(f"**各{noun}对照公开目标**（分档按 100 × min(指标值 ÷ 目标, 1)：{sc.bands.labels[0]} ≥ {sc.bands.meets:g}，"
                f"{sc.bands.labels[1]} ≥ {sc.bands.attention:g}）")
    st.dataframe(style_cells(view, colour, fills), hide_index=True, width="stretch", key="region_capacity",
                 height=min(38 + 35 * len(view), 420))
    st.caption("目标来自公开资料（各指标的说明中注明出处，见“方法说明”）。人员按期末在岗计，设区市的人数含其下属县级机构；"
               "案例报送只计本级机构立案并直报的案件（应急厅函〔2021〕92号：省厅每半年、市局每季度、县局每两个月至少1件）。")




# --- the records behind a number ---------------------------------------------------------------------
@st.fragment
def behind_the_number() -> None:
    ind_codes = [c for c in sc.indicators if c in mine.index]   # the order of 指标明细
    c1, c2 = st.columns([2, 1])
    ind_code = c1.selectbox("指标", ind_codes, key="explain_indicator",
                            format_func=lambda x: sc.indicators[x].name, placeholder="请选择")
    ind = sc.indicators[ind_code]
    parts = ["numerator", "denominator"] if ind.is_ratio else ["numerator"]
    part = c2.radio("部分", parts, key="explain_part", horizontal=True,
                    format_func=lambda p: {"numerator": "分子", "denominator": "分母"}[p])
    recs = data.explain(sel.key, sel.period, code, ind_code, part, sel.skey)
    r = mine.loc[ind_code]
    number = r["numerator"] if part == "numerator" else r["denominator"]
    p_ = ind.numerator if part == "numerator" else ind.denominator
    base = sc.indicators[ind.growth_of] if ind.growth_of else None
    if base:  # year-on-year: the base indicator's records now (分子) or a year earlier (分母)
        p_ = base.numerator
    how = (f"（按不同{COLUMN_LABELS.get(p_.column, p_.column)}计数，共涉及 {len(recs):,} 条记录）" if p_.agg == "distinct"
           else f"（“计入金额/数量”列之和）：{len(recs):,} 条记录" if p_.agg == "sum" else f"：{len(recs):,} 条记录")
    said = part_amount(ind, number)
    if base:  # the number is the base's value; a ratio's list is its numerator's records, not the value
        when = "本期" if part == "numerator" else "上年同期"
        said = f"{when}{base.name} {said}"
        if base.is_ratio:
            then = mine
            if part == "denominator":
                ago = data.indicators(sel.key, str(Period.parse(sel.period).year_ago()), sel.level, sel.province,
                                      sel.skey)
                then = ago[ago["code"] == code].set_index("indicator")
            b = then.loc[base.code]
            said += (f" = 分子 {amount(b['numerator'], base.unit)} ÷ 分母 {amount(b['denominator'], '')}；"
                     f"下表为{when}{base.name}分子的记录")
            if p_.agg == "sum":
                how = f"（分子为其“计入金额/数量”列之和）：{len(recs):,} 条记录"
    st.caption(f"{name} · {sel.label} · {ind.name}的{'分子' if part == 'numerator' else '分母'} = "
               f"{said}{how}。{ind.description}"
               + (f"下表列出前 {SHOWN} 条，全部 {len(recs):,} 条请下载。" if len(recs) > SHOWN else ""))
    st.dataframe(labelled(recs.head(SHOWN)), hide_index=True, width="stretch", key="explain_records",
                 height=min(38 + 35 * max(min(len(recs), SHOWN), 1), 320))
    st.download_button("下载这些记录（CSV）", lambda: csv_bytes(labelled(recs)),  # made when clicked
                       file_name=f"{name}-{sel.period}-{ind.name}-{'分子' if part == 'numerator' else '分母'}.csv",
                       mime="text/csv", key="explain_download", on_click="ignore")




# --- drill down: city → counties → enterprises → records ---------------------------------------------------
@st.fragment
def drill_down() -> None:
    target, target_name = code, name
    kids = data.children(sel.key, sel.period, code, sel.skey)
    if not kids.empty:
        county_ix = data.index(sel.key, sel.period, "county", sel.province, sel.skey).set_index("code")
        kids = kids.assign(index=kids["code"].map(county_ix["index"]), rank=kids["code"].map(county_ix["rank"]))
        st.markdown(f"**{name}所辖县（市、区）**（指数为全省县级排名）")
        view = kids[["name", "index", "rank", "inspections", "hazards", "rectification", "major_hazards", "cases",
                     "fines", "code"]]
        st.dataframe(
            display.table(labelled(view, blanks=False), {"指数": "{:.1f}", "整改率": lambda v: pct(v), "罚款(万元)": "{:,.2f}"},
                          display.row_reasons(view, assessed=view["index"].notna()),
                          style=lambda d: style_cells(d, {"指数": view["index"].map(band)}, fills)),
            hide_index=True, width="stretch", key="drill_counties",
            column_config={"名次": st.column_config.NumberColumn()})
        kid_names = dict(zip(kids["code"], kids["name"]))
        pick = st.selectbox("下钻到", [""] + kids["code"].tolist(), key="drill_county",
                            format_func=lambda c: f"{name}全市（含市本级）" if not c else kid_names[c], placeholder="请选择")
        if pick in kid_names:
            target, target_name = pick, kid_names[pick]
    ents = data.enterprises(sel.key, sel.period, target, sel.skey)
    st.markdown(f"**{target_name}：{sel.label}有记录的企业**（{len(ents):,} 家，按逾期重大隐患、未整改隐患排序"
                + (f"，列出前 {SHOWN} 家" if len(ents) > SHOWN else "") + "）")
    if ents.empty:
        st.info("本期没有记录。")
        return
    # labelled (Chinese headers, 是/否, '— reason' cells) for the rows shown now; the full list only
    # when its download is clicked (a city's quarter lists thousands of enterprises)
    listed = ents.drop(columns=["county_code"])
    st.dataframe(labelled(listed.head(SHOWN)), hide_index=True, width="stretch",
                 key="drill_enterprises", height=min(38 + 35 * min(len(ents), SHOWN), 320),
                 column_config={"罚款(万元)": st.column_config.NumberColumn(format="%.2f")})
    if len(ents) > SHOWN:
        st.download_button(f"下载全部 {len(ents):,} 家企业（CSV）",
                           lambda: csv_bytes(labelled(listed)),
                           file_name=f"{target_name}-{sel.period}-企业.csv", mime="text/csv", key="drill_enterprises_csv",
                           on_click="ignore")
    top = ents.head(500)
    ent_names = dict(zip(top["enterprise_id"], top["name"]))
    c1, c2 = st.columns([3, 2])
    ent = c1.selectbox("查看企业的记录", [""] + top["enterprise_id"].tolist(), key="drill_enterprise",
                       format_func=lambda e: "全部企业" if not e else f"{ent_names[e]}（{e}）", placeholder="请选择")
    # one list at a time, when asked: the three lists of a city's quarter weigh ~150 KB, which every
    # visit and every unit switch used to send (the page's largest part)
    kinds = {"inspections": "执法检查", "hazards": "隐患", "cases": "处罚案件"}
    kind = c2.segmented_control("列出记录", list(kinds), format_func=kinds.get, key="drill_kind")
    if not kind:
        c2.caption("选择要列出的记录。")
        return
    recs = data.records(sel.key, sel.period, target, kind, ent or None, sel.skey)
    st.caption(f"{kinds[kind]}：{len(recs):,} 条" + (f"，列出前 {SHOWN} 条" if len(recs) > SHOWN else ""))
    backlog = int((recs["source"] == BACKLOG_SOURCE).sum()) if "source" in recs.columns else 0
    if backlog:  # one enterprise's hazards: the backlog its 逾期未整改重大隐患 counts, found before the period
        st.caption(f"其中 {backlog:,} 条隐患发现于{sel.label}之前、期末仍逾期未整改（列入原因为“{BACKLOG_SOURCE}”）："
                   "列出它们是因为上方企业表的“逾期未整改重大隐患”一列计入了它们；本期发现的隐患数不含这些。")
    st.dataframe(labelled(recs.head(SHOWN)), hide_index=True, width="stretch", key=f"drill_records_{kind}",
                 height=min(38 + 35 * max(min(len(recs), SHOWN), 1), 320))
    if len(recs) > SHOWN:
        st.download_button(f"下载全部 {len(recs):,} 条（CSV）", lambda: csv_bytes(labelled(recs)), mime="text/csv",
                           file_name=f"{target_name}-{sel.period}-{kinds[kind]}.csv", key=f"drill_records_{kind}_csv",
                           on_click="ignore")


for label, draw in zip(SECTIONS, (indicator_table, capacity_panel, behind_the_number, drill_down)):
    if section[label].open:
        with section[label]:
            draw()
