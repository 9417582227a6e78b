"""方法说明: the methodology of the scheme in use, rendered from the scheme file."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from ui import data, gate, state

gate.page(__file__)
sel = state.selection()
st.title("方法说明")
# every scheme that serves the province can be read here (the one in use first)
files = [str(p) for p in data.scheme_files(sel.province)]
current = sel.skey[0]
files = [current] + [f for f in files if f != current]
if st.session_state.get("method_scheme_follows") != current:  # the sidebar's choice changed: show it
    st.session_state["method_scheme_follows"] = current
    st.session_state["method_scheme"] = current
shown = st.selectbox("查看方案", files, key="method_scheme", format_func=lambda p: p.rsplit("/", 1)[-1].removesuffix(".toml")) \
    if len(files) > 1 else current
skey = data.scheme_key(shown)
try:
    sc = data.scheme(skey)
except Exception as e:  # a broken scheme file: say where
    st.error(f"评价方案文件有误，无法载入：\n\n{e}")
    st.stop()

st.markdown(f"**当前方案：{sc.name}**  \n方案文件：`{sc.path.name}`")
if sc.description:
    st.write(sc.description)
if sc.provinces:
    st.caption("本方案为以下省份的默认方案：" + "、".join(sc.provinces))
st.info("评价方法**参照**已公开的省级做法编制（见方案名称），官方指标文件未公开，"
        "权重、目标值和计分规则均为方案文件中的默认值，可由省厅按本省规定修改（新建方案文件，无需改程序）。", icon=":material/info:")

UNIT_NOTE = {"%": "比率（百分比）", "万元": "金额（万元）", "分": "分", "件": "件数", "项": "项数", "次": "次数",
             "人": "人数", "": "比值"}
WINDOW = {"period": "本期", "year_to_date": "本年1月1日至期末", "as_of": "截至期末（存量）", "all": "不限时间"}
TABLE = {"inspections": "执法检查", "hazards": "隐患", "penalties": "处罚案件", "enterprises": "执法对象名录",
         "plans": "年度计划", "officers": "执法人员名录", "training": "执法人员培训", "establishment": "执法队伍编制",
         "report_windows": "案例报送周期"}


def part_text(part) -> str:
    if part is None:
        return ""
    t = part.text or {}
    what = {"count": "计数", "distinct": f"不同 {part.column} 计数", "sum": f"求和 {t.get('sum', '')}"}[part.agg]
    where = f"，条件：{t['where']}" if t.get("where") else ""
    return f"{TABLE.get(part.table, part.table)}·{what}（{WINDOW.get(part.window, part.window)}）{where}"


tab_idx, tab_score, tab_ind, tab_rules, tab_src = st.tabs(
    ["执法效能指数", "季度考评", "基础指标", "预警、表扬与分档", "方案文件"])

with tab_idx:
    idx = sc.index
    if idx is None:
        st.info("本方案未定义指数。")
    else:
        st.subheader(idx.name)
        st.markdown(
            "- 每个二级指标先换算为 0–100 分：**目标值法** 得分 = 100 × min(指标值 ÷ 目标值, 1)（按年累计的指标，"
            "目标值按已过月份折算）；**极差法** 得分 = 100 × (指标值 − 同级最小值) ÷ (最大值 − 最小值)，"
            "同级全部相同时均得 100 分；可先按分位数缩尾（winsorise）。\n"
            "- 一级指数 = 所属二级指标得分按权重加权平均；分母为 0 的指标“不适用”，其权重由同组其他指标分担；"
            "一级指标全部不适用时该项不适用，其权重由其他一级指标分担。\n"
            f"- 执法效能指数 = 一级指数按权重加权平均（满分 {idx.total:g}），保留一位小数（四舍五入），"
            "按指数排名，并列同名次。同级单位（全部设区市，或全部县级单位）互为参照。\n"
            "- 本期没有任何检查、隐患或立案记录的单位列为“无数据”，不计指数、不排名。")
        rows = []
        for g in idx.groups:
            for leaf in [n for n in idx.nodes if n.parent == g.code]:
                ind = sc.indicators.get(leaf.code)
                if leaf.normalise == "target":
                    norm = f"目标值 {leaf.target:g}" + ("（按月折算）" if leaf.prorate else "")
                else:
                    norm = "极差法（同级比较）"
                    if leaf.winsorise:
                        norm += f"，先按 {leaf.winsorise[0]:.0%}/{leaf.winsorise[1]:.0%} 分位缩尾"
                rows.append({"一级指标": f"{g.code} {g.name}", "一级权重": g.weight,
                             "二级指标": ind.name if ind else leaf.code, "代码": leaf.code,
                             "二级权重": leaf.weight, "标准化": norm})
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="method_index")

with tab_score:
    s = sc.score
    if s is None:
        st.info("本方案未定义季度考评。")
    else:
        st.subheader(s.name)
        st.markdown(
            f"- 基本分 {s.total:g} 分，各项得分 = 分值 × min(指标值 ÷ 目标值, 1)，每项保留一位小数（四舍五入）公布；"
            f"总分 = 各项公布得分之和 + 加分 − 减分，限定在 0–{s.max:g} 分，得分表和函件上的各项得分相加即为总分；"
            "按总分排名，预警与表扬也用此总分。\n"
            "- 某项本季度无应考核事项（分母为 0）时按方案规定得满分或不得分，并标明原因。\n"
            "- 本季度没有任何记录的单位列为“无数据”，不计分、不排名、不列入预警。\n"
            f"- 参照范围：{'全省同级单位' if s.peers == 'province' else '各设区市内的县级单位分别比较'}。")
        items = []
        for it in s.items:
            ind = sc.indicators.get(it.indicator)
            tgt = f"{it.target:g}" + ("（按季度折算：× q/4）" if it.prorate else "")
            items.append({"考评项目": ind.name if ind else it.indicator, "代码": it.indicator, "分值": it.points,
                          "目标值": tgt, "不适用时": ("得满分" if it.na == "full" else "0 分") + f"（{it.na_label}）"})
        st.dataframe(pd.DataFrame(items), hide_index=True, width="stretch", key="method_score")
        adj = [{"类别": "加分", "项目": sc.indicators[a.indicator].name if a.indicator in sc.indicators else a.indicator,
                "每件/项": f"+{a.points:g}", "上限": f"+{a.max:g}"} for a in s.bonus]
        adj += [{"类别": "减分", "项目": sc.indicators[a.indicator].name if a.indicator in sc.indicators else a.indicator,
                 "每件/项": f"−{a.points:g}", "上限": f"−{a.max:g}"} for a in s.deductions]
        if adj:
            st.dataframe(pd.DataFrame(adj), hide_index=True, width="stretch", key="method_adjust")

with tab_ind:
    rows = []
    for code, ind in sc.indicators.items():
        if ind.growth_of:  # year-on-year growth of another indicator
            base = sc.indicators[ind.growth_of].name if ind.growth_of in sc.indicators else ind.growth_of
            num, den = f"本期{base}", f"上年同期{base}（增长率 = (本期 − 上年同期) ÷ 上年同期）"
        else:
            num, den = part_text(ind.numerator), part_text(ind.denominator) or "（计数/求和指标）"
        rows.append({"代码": code, "指标": ind.name, "单位": UNIT_NOTE.get(ind.unit, ind.unit),
                     "方向": "越高越好" if ind.direction == "+" else "越低越好", "说明": ind.description,
                     "目标": f"{sc.targets[code]:g}" if code in sc.targets else "",
                     "分子": num, "分母": den})
    st.markdown("每个指标都由**分子**和**分母**定义：对一张表在某个时间窗口内、满足条件的记录计数或求和。"
                "分母为 0 时指标“不适用”，既不算 0 也不算 100%。地区的数字按“机构所在地”归属："
                "设区市含本级及所辖县级单位的记录，县级单位只含本级；隐患随其检查归属。")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", key="method_indicators", height=560)

with tab_rules:
    w, c, b = sc.warning, sc.commendation, sc.bands
    st.markdown(
        f"**提醒敦促函（预警）**：{w.describe_full()}\n\n"
        f"**通报表扬**：年度内各季度考评得分的平均分（只计参评季度，保留一位小数）前 {c.top} 名（并列者一并计入），"
        "在年度考核中加分。\n\n"
        f"**分档**（参照美国 EPA 州级执法评估框架的做法）：指标标准化得分 ≥ {b.meets:g} 为“{b.labels[0]}”，"
        f"{b.attention:g}–{b.meets:g} 为“{b.labels[1]}”，低于 {b.attention:g} 为“{b.labels[2]}”。\n\n"
        + ("**能力建设与案例报送目标**（按 100 × min(指标值 ÷ 目标, 1) 分档）："
           + "；".join(f"{sc.indicators[c].name} {t:g}" for c, t in sc.targets.items() if c in sc.indicators)
           + "。\n\n" if sc.targets else "")
        + "**同比**：与上年同期相比的增长率 (本期 − 上年同期) ÷ 上年同期，上年同期为 0 时不计算。同比指标："
        + "、".join(sc.indicators[x].name for x in sc.yoy if x in sc.indicators) + "。")

with tab_src:
    st.caption(f"{sc.path}")
    st.code(data.scheme_text(skey), language="toml")
