"""总览 (for leaders): who leads and who lags this period, at a glance.

KPI tiles with 同比 (against the same period a year earlier) beside 环比 (against the previous
period), the index ranking, the units that moved most, the map coloured by the bars' bands, and
this quarter's warning list."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from metrics.moves import movers
from metrics.periods import Period
from ui import charts, data, gate, state
from ui.style import LEVEL_NOUN, band_of, change, colour_map, integer, is_flat, num, pct, value

gate.page(__file__)
sel = state.selection()
sc = sel.scheme
band = band_of(sc)
colours = colour_map(sc)
noun = LEVEL_NOUN[sel.level]
scope = data.scope()
# the KPI tiles: the province's, or a city user's own city's
area = sel.province if scope.full else scope.home
regions = data.regions(sel.key, sel.province)
area_name = sel.province_name if scope.full else dict(zip(regions["code"], regions["name"])).get(area, area)
where = "全省" if scope.full else area_name

st.title(f"{sel.province_name}安全生产执法效能总览")
st.caption(f"{sel.label} · 评价对象：{noun} · 方案：{sc.name}" + ("" if scope.full else f" · 指标卡片为{area_name}的数据"))
if gate.current().can("notices"):  # the one-page brief for a leaders' meeting (official.bulletin)
    with st.popover("一页简报", icon=":material/summarize:"):
        st.caption(f"{sel.label}执法工作简况：主要数据（同比、环比）、排名与预警，一页 A4。")
        if st.button("生成简报", key="overview_brief_make"):
            st.session_state["overview_brief"] = (sel.period, sel.level)
        if st.session_state.get("overview_brief") == (sel.period, sel.level):
            today = dt.date.today().isoformat()
            files = data.bulletin_files(sel.key, sel.period, sel.level, sel.province, sel.skey, today)
            st.download_button("下载简报（Word）", files["brief"], file_name=f"{sel.province_name}{sel.label}执法工作简况.docx",
                               key="overview_brief_docx", icon=":material/description:", on_click="ignore")
            pdf = data.brief_pdf(sel.key, sel.period, sel.level, sel.province, sel.skey, today)
            if pdf:
                st.download_button("下载 PDF（版式预览）", pdf, file_name=f"{sel.province_name}{sel.label}执法工作简况.pdf",
                                   key="overview_brief_pdf", icon=":material/picture_as_pdf:",
                                   help="由 LibreOffice 转换，公文字体以替代字体显示，仅供预览版式。", on_click="ignore")

# --- KPI tiles: 同比 on the arrow (Q4 against Q3 is mostly the year-end push), 环比 beside it -----
tiles = data.kpi_tiles(sel.key, sel.period, area, skey=sel.skey)                       # 环比: the previous period
yoy = data.kpi_tiles(sel.key, sel.period, area, "year_ago", sel.skey).set_index("kpi")
series = data.kpi_series(sel.key, tuple(sel.recent(8)), area, sel.skey)
prev_label = Period.parse(tiles.previous_period.iloc[0]).label
ago_label = Period.parse(yoy.previous_period.iloc[0]).label
cols = st.columns(len(tiles))
FORMAT = {"inspections": integer, "hazards": integer, "cases": integer, "rectification": pct,
          "fines": lambda v: num(v, 1)}
HELP = {
    "inspections": f"本期{where}各级执法机构的执法检查次数（按检查日期）。",
    "hazards": "本期检查发现的隐患项数（按发现日期）。",
    "rectification": "本期发现的需整改隐患中，截至期末已整改的比例。",
    "cases": "本期立案的行政处罚案件数（按立案日期）。",
    "fines": "本期立案案件的罚款金额合计（单位罚款 + 个人罚款），万元。",
}


def _no_then(then) -> bool:
    return then is None or pd.isna(then) or then == 0


for col, t in zip(cols, tiles.itertuples()):
    y = yoy.loc[t.kpi]
    scale = 100 if t.kpi == "rectification" else 1
    chart = [round(float(v) * scale, 2) for v in series[t.kpi] if not pd.isna(v)]  # periods without a rate: skipped
    chart = chart if len(chart) > 1 else None
    flat = is_flat(y.change, t.change_kind)
    col.metric(t.name + ("（万元）" if t.unit == "万元" else ""), FORMAT[t.kpi](t.value),
               delta=change(y.change, t.change_kind),
               delta_color="off" if t.kpi == "hazards" or flat else "normal",
               delta_arrow="off" if flat else "auto", border=True,
               help=f"{HELP[t.kpi]} 箭头为同比（与{ago_label}相比）。", chart_data=chart, chart_type="area")
    yoy_words = "上年同期无数据" if _no_then(y.previous) else (change(y.change, t.change_kind) or "—")
    words = f"同比 {yoy_words}"
    if sel.kind == "quarter":
        words += f" · 环比 {'上期无数据' if _no_then(t.previous) else (change(t.change, t.change_kind) or '—')}"
    col.caption(words)
st.caption(f"箭头为同比（与{ago_label}相比）" + (f"，环比为与{prev_label}相比" if sel.kind == "quarter" else "")
           + f"；小图为最近 {len(series)} 个{'季度' if sel.kind == 'quarter' else '年度'}的走势。")

# --- index: leaders and laggards, ranking, map -----------------------------------------------------
ix = data.index(sel.key, sel.period, sel.level, sel.province, sel.skey)
ix = ix.assign(band=ix["index"].map(band))
scored = ix[ix["index"].notna()].sort_values(["rank", "code"])

if ix.empty:  # e.g. a municipality (北京、上海…) has no prefecture-level cities: its districts are county-level
    st.info(f"{sel.province_name}没有{noun}一级的评价对象，请在左侧“评价对象”中选择其他层级。")
elif scored.empty:
    st.info(f"{sel.label}没有可计算指数的{noun}（均无检查、隐患或立案记录）。")
else:
    top = scored.head(3)
    bottom = scored.tail(3).iloc[::-1]
    c1, c2 = st.columns(2)
    c1.success("**领先**：" + "、".join(f"{r.name}（{r.index:.1f}）" for r in top.itertuples()), icon=":material/military_tech:")
    c2.error("**靠后**：" + "、".join(f"{r.name}（{r.index:.1f}）" for r in bottom.itertuples()), icon=":material/trending_down:")
    prev = sel.previous()
    if prev:
        up, down = movers(data.rank_moves(sel.key, sel.period, prev, sel.level, sel.province, sel.skey))
        prev_p = Period.parse(prev).label

        def moved(df) -> str:
            return "、".join(f"{r.name}（第{int(r.previous_rank)}→{int(r.rank)}名）" for r in df.itertuples()) or "无"

        m1, m2 = st.columns(2)
        m1.markdown(f"**名次上升最多**（与{prev_p}相比）：:green[{moved(up)}]")
        m2.markdown(f"**名次下降最多**（与{prev_p}相比）：:red[{moved(down)}]")

    left, right = st.columns([1, 1], gap="medium")
    with left:
        shown = ix
        title = f"{sc.index.name if sc.index else '指数'}排名"
        if len(scored) > 24:
            shown = pd.concat([scored.head(12), scored.tail(12)])
            title += "（前 12 名与后 12 名）"
        bar = charts.ranking_bar(shown, "index", "band", colours, title)
        with st.container(key="overview_ranking"):
            st.vega_lite_chart(spec=bar, width="stretch", height=bar["height"])
        if len(scored) > 24:
            st.caption(f"共 {len(scored)} 个{noun}参与排名，完整排名见“排名”页。")
    with right:
        shapes = data.map_shapes(sel.level, sel.province)
        if shapes["units"]:
            fig = charts.band_map(ix, shapes, "band", colours, f"{noun}执法效能指数分档（示意图）",
                                  height=max(520, min(760, 26 * len(ix.head(24)) + 80)))
            with st.container(key="overview_map"):
                st.vega_lite_chart(spec=fig, width="stretch", height=fig["height"])
        else:
            st.info("未找到本省的行政区划边界，无法绘制地图。")
    unassessed = ix[ix["index"].isna()]
    if not unassessed.empty:
        st.caption("无数据（本期无检查、隐患或立案记录，不计指数）：" + "、".join(unassessed["name"]))

# --- this quarter's warning list ---------------------------------------------------------------------
quarter_label = Period.parse(sel.quarter).label
st.subheader(f"{quarter_label}预警名单（提醒敦促函）")
if sel.kind != "quarter":
    st.caption(f"季度考评按季度进行：所选为年度，此处显示该年最后一个有数据的季度（{quarter_label}）。")
sheet = data.score(sel.key, sel.quarter, sel.level, sel.province, sel.skey)
warned = sheet[sheet["warned"].fillna(False).astype(bool)].sort_values(["score", "code"])
assessed = int(sheet["assessed"].sum())
rule = sc.warning
if assessed < rule.min_peers:
    st.info(rule.no_list_reason(assessed, noun) + "。")
elif warned.empty:
    st.success(rule.none_warned(noun) + "，无需发函。", icon=":material/check_circle:")
else:
    st.caption(f"规则：{rule.describe()}。"
               f"点击“分析”查看原因，直至具体记录。")
    city_of = dict(zip(regions["code"], regions["city_code"].map(dict(zip(regions["code"], regions["name"])))))
    for r in warned.itertuples():
        c1, c2, c3, c4 = st.columns([2, 1, 1, 5])
        c1.markdown(f"**{r.name}**" + (f"（{city_of[r.code]}）" if sel.level == "county" and city_of.get(r.code) else ""))
        c2.markdown(f"得分 **{r.score:.1f}**")
        c3.markdown(f"第 {int(r.rank)} 名")
        with c4:
            cc1, cc2 = st.columns([4, 1])
            cc1.markdown(f":red[{gate.plain(r.reason)}]")
            if scope.sees(r.code) and cc2.button("分析 ›", key=f"warn_go_{r.code}"):
                st.session_state[state.FOCUS] = r.code
                st.switch_page("pages/region.py")

# --- 能力建设与案例报送 (methodology §7): how many units meet each published target -------------------
cap = data.capacity(sel.key, sel.period, sel.level, sel.province, sel.skey)
if not cap.empty and cap["value"].notna().any():
    st.subheader("能力建设与案例报送")
    rows = []
    for r in data.capacity_targets(sel.key, sel.period, sel.level, sel.province, sel.skey).itertuples():
        ind = sc.indicators[r.indicator]
        rows.append({"指标": ind.name, "目标": value(r.target, ind.unit, ind.decimals),
                     "有数据单位": r.units_with_data, "达到目标": r.meeting, f"{sc.bands.labels[2]}": r.improvement,
                     "中位数": value(r.median, ind.unit, ind.decimals) if r.units_with_data else "不适用"})
    # seven rows: a plain table. The grid's scripts (1.3 MB) were the overview's only use of them; a new
    # browser session spent ~0.4 CPU-s more (measured, bench/README.md)
    st.table(pd.DataFrame(rows), hide_index=True)
    missed = data.missed_windows(sel.key, sel.period, sel.level, sel.province, sel.skey)
    if len(missed):
        who = missed.groupby("code").size().sort_values(ascending=False)
        names_ = dict(zip(cap["code"], cap["name"]))
        st.caption(f"{sel.label}有报送周期未按期直报典型案例的{noun}（{len(who)} 个）："
                   + "、".join(f"{names_.get(c, c)}（{n}个周期）" for c, n in who.items())
                   + "。各单位明细见“区域分析”。")
    # the province bureau's own case reporting (half-year windows) is assessed too
    prov = data.capacity(sel.key, sel.period, "province", sel.province, sel.skey)
    cad = prov[prov["indicator"] == "report_cadence"]
    if len(cad) and cad["denominator"].iloc[0] > 0:
        own = data.missed_windows(sel.key, sel.period, "province", sel.province, sel.skey)
        st.caption(f"省厅本级案例报送（每半年一个周期）：{sel.label}已结束 {int(cad['denominator'].iloc[0])} 个周期，"
                   f"按期直报 {int(cad['numerator'].iloc[0])} 个"
                   + (f"；未按期：{'、'.join(own['window_name'])}。" if len(own) else "。"))
