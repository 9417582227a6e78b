"""季度考评 (for staff): the quarter's score sheet with each item's points, bonus and deductions;
warned units highlighted with the reason; the year's commendations; the notices."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from metrics.periods import Period
from ui import analysis_data, data, display, export, gate, state
from ui.style import BAND_FILL, LEVEL_NOUN, WARN_FILL

gate.page(__file__)
sel = state.selection()
scope = data.scope()
sc = sel.scheme
spec = sc.require_score()
noun = LEVEL_NOUN[sel.level]

quarter = sel.quarter
if sel.kind != "quarter":
    qs = [q for q in sel.status["quarters"] if q.startswith(sel.period)]
    if st.session_state.get("assessment_quarter") not in qs:
        st.session_state["assessment_quarter"] = qs[-1] if qs else quarter
    quarter = st.selectbox("季度（考评按季度进行）", qs, key="assessment_quarter",
                           format_func=lambda q: Period.parse(q).label, placeholder="请选择") if qs else quarter
qp = Period.parse(quarter)

st.title(f"{spec.name} · {qp.label}")
st.caption(f"{sel.province_name} · {noun} · 方案：{sc.name} · 基本分 {spec.total:g}，"
           f"加分、减分另计，总分 0–{spec.max:g}")

sheet = data.score(sel.key, quarter, sel.level, sel.province, sel.skey)
assessed = sheet[sheet["assessed"].fillna(False).astype(bool)]
warned = sheet[sheet["warned"].fillna(False).astype(bool)].sort_values(["group", "score", "code"])
rule = sc.warning

c = st.columns(5)
c[0].metric("参评单位", f"{len(assessed)}", help="本季度有检查、隐患或立案记录的单位")
c[1].metric("平均分", f"{assessed['score'].mean():.1f}" if len(assessed) else "—")
c[2].metric("最高分", f"{assessed['score'].max():.1f}" if len(assessed) else "—")
c[3].metric("最低分", f"{assessed['score'].min():.1f}" if len(assessed) else "—")
c[4].metric("预警单位", f"{len(warned)}", help=rule.describe())

# --- warning list ---------------------------------------------------------------------------------------
st.subheader("预警名单（提醒敦促函）")
if len(assessed) < rule.min_peers:
    st.info(rule.no_list_reason(len(assessed), noun) + "。")
elif warned.empty:
    st.success(rule.none_warned(noun) + "。",
               icon=":material/check_circle:")
else:
    robust = analysis_data.robustness(sel.key, quarter, sel.level, sel.province, sel.skey).set_index("code")
    units = data.regions(sel.key, sel.province)
    city_of = dict(zip(units["code"], units["city_code"].map(dict(zip(units["code"], units["name"])))))
    for r in warned.itertuples():
        col1, col2 = st.columns([6, 1])
        share, ok = robust.at[r.code, "warned_share"], robust.at[r.code, "robust"]
        robust_text = "" if pd.isna(share) else (f"　｜　对权重稳健：{'是' if bool(ok) else '否'}（各项分值 ±50% 的 "
                                                 f"1000 种组合中 {share:.0%} 仍在名单）")
        where = f"（{city_of[r.code]}）" if sel.level == "county" and city_of.get(r.code) else ""  # 所属市
        col1.error(f"**{r.name}**{where}　{r.reason}{robust_text}", icon=":material/warning:")
        if scope.sees(r.code) and col2.button("分析原因 ›", key=f"assess_go_{r.code}"):
            st.session_state[state.FOCUS] = r.code
            st.switch_page("pages/region.py")

# --- the score sheet ---------------------------------------------------------------------------------------
st.subheader("考评得分表")
if not scope.full:
    st.caption("您的账号可查看本市及所辖县（市、区）的各项得分；其他单位只显示总分、名次与是否预警。")
items = [(it.indicator, sc.indicators[it.indicator].name, it.points) for it in spec.items]
bonus = [(a.indicator, sc.indicators[a.indicator].name) for a in spec.bonus]
deductions = [(a.indicator, sc.indicators[a.indicator].name) for a in spec.deductions]
ordered = sheet.sort_values(["group", "rank", "code"], na_position="last").reset_index(drop=True)
region_names = dict(zip(data.regions(sel.key, sel.province)["code"], data.regions(sel.key, sel.province)["name"]))

view = pd.DataFrame({"名次": ordered["rank"], "单位": ordered["name"], "总分": ordered["score"]})
if spec.peers == "city" and sel.level == "county":
    view.insert(0, "所属市", ordered["group"].map(region_names))
for code, name, pts in items:
    view[f"{name}（{pts:g}）"] = ordered[f"{code}_points"]
view["加分"] = ordered["bonus"]
view["减分"] = ordered["deduction"]
warned_flag = ordered["warned"].fillna(False).astype(bool)
view["预警"] = warned_flag.map({True: "是", False: ""})
view["说明"] = [r if isinstance(r, str) and r else (f or "") for r, f in zip(ordered["reason"], ordered["flags"])]
view["代码"] = ordered["code"]


not_assessed = ~ordered["assessed"].astype(bool)


def highlight(row: pd.Series) -> list[str]:
    if row["预警"] == "是":
        return [f"background-color: {WARN_FILL}; font-weight: 600"] * len(row)
    if not_assessed.loc[row.name]:
        return ["color: #888"] * len(row)
    return [""] * len(row)


num_cols = ["总分", *[f"{n}（{p:g}）" for _, n, p in items], "加分", "减分"]
reasons = display.row_reasons(ordered, hidden=scope)
styled = display.table(view, {c: "{:.1f}" for c in num_cols}, reasons, style=lambda d: d.style.apply(highlight, axis=1))
st.dataframe(styled, hide_index=True, width="stretch", key="assessment_sheet", height=min(38 + 35 * len(view), 800),
             column_config={"名次": st.column_config.NumberColumn(width="small"),
                            "说明": st.column_config.TextColumn(width="large")})
st.caption("各项得分为公布值（保留一位小数，四舍五入），总分 = 各项得分之和 + 加分 − 减分。"
           + display.legend(display.NO_DATA, *([] if scope.full else [display.HIDDEN])))
with st.expander("计分规则"):
    st.markdown("\n".join(
        [f"- **{name}**：{pts:g} 分 × min(指标值 ÷ 目标值, 1)" for _, name, pts in items]
        + [f"- 加分 **{n}**：每件 +{a.points:g}，最多 +{a.max:g}" for (c_, n), a in zip(bonus, spec.bonus)]
        + [f"- 减分 **{n}**：每项 −{a.points:g}，最多 −{a.max:g}" for (c_, n), a in zip(deductions, spec.deductions)]
        + [f"- 预警：{rule.describe_full()}",
           "- 详见“方法说明”页。"]))

fills = {i: WARN_FILL for i, w in enumerate(warned_flag) if w}


def xlsx() -> bytes:  # made when the button is clicked, not on every run
    return export.to_excel({"考评得分表": display.plain(view, reasons)}, fills={"考评得分表": fills},
                           notes=[("省份", sel.province_name), ("季度", qp.label), ("评价对象", noun),
                                  ("方案", sc.name), ("预警规则", rule.describe_full())])


st.download_button("导出考评得分表（Excel）", xlsx, file_name=f"{sel.province_name}{qp.label}{noun}{spec.name}得分表.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="assessment_export",
                   on_click="ignore")

# --- commendations of the year -------------------------------------------------------------------------------
st.subheader(f"{qp.year}年度通报表扬")
year_quarters = [q for q in sel.status["quarters"] if q.startswith(str(qp.year))]
comm = data.commendations(sel.key, qp.year, sel.level, sel.province, sel.skey)
top = sc.commendation.top
if len(year_quarters) < 4:
    st.caption(f"{qp.year}年目前只有 {len(year_quarters)} 个季度的数据，名单按已有季度计算，年终前仅供参考。")
commended = comm[comm["commended"].fillna(False).astype(bool)].sort_values(["group", "rank", "code"])
if commended.empty:
    st.info("本年度尚无可表扬的单位。")
else:
    st.success("**拟通报表扬**（年度季度平均分前 {} 名）：".format(top)
               + "、".join(f"{r.name}（{r.mean_score:.1f} 分）" for r in commended.itertuples()),
               icon=":material/military_tech:")
cview = comm.sort_values(["group", "rank", "code"], na_position="last").reset_index(drop=True)
cv = pd.DataFrame({"名次": cview["rank"], "单位": cview["name"], "年度平均分": cview["mean_score"],
                   "参评季度数": cview["quarters"], "一季度": cview["Q1"], "二季度": cview["Q2"],
                   "三季度": cview["Q3"], "四季度": cview["Q4"],
                   "表扬": cview["commended"].map(lambda x: "是" if x else "")})
st.dataframe(
    display.table(cv, {c: "{:.1f}" for c in ["年度平均分", "一季度", "二季度", "三季度", "四季度"]}, display.NO_DATA,
                  style=lambda d: d.style.apply(
                      lambda r: [f"background-color: {BAND_FILL['达标']}" if r["表扬"] == "是" else ""] * len(r), axis=1)),
    hide_index=True, width="stretch", key="assessment_commendations", height=min(38 + 35 * len(cv), 500),
    column_config={"名次": st.column_config.NumberColumn(width="small")})
st.caption("季度列的“— 无数据”：该季度本单位无检查、隐患或立案记录，不参评，不计入年度平均。")

# =====================================================================================================
# 提醒敦促函: official/ (GB/T 9704 .docx, numbered through official.log in the operational store).
# Wired in: ui/notice_panel.py (preview, issue, downloads, notice log, follow-up).
# =====================================================================================================
st.subheader("提醒敦促函")
with st.container(border=True, key="notices_hook"):
    from ui.notice_panel import notice_section

    notice_section(sel, quarter, sheet)
