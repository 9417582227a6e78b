"""分析工具 (for analysts): how solid a rank is, which data look wrong, who is heading for trouble.

Five tools over the selected province, level and period (methodology §5–6; definitions in
metrics/weights.py, uncertainty.py, quality.py, early_warning.py, whatif.py): objective weights
beside the scheme's, Monte Carlo rank intervals and warning robustness, data-quality flags,
the early warning with its backtest, and a what-if panel that never touches the scheme in use.
Only the chosen tool is computed; results are cached per warehouse version and scheme.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from metrics.periods import Period
from ui import analysis_data as ad
from ui import data, display, gate, state
from ui.style import LEVEL_NOUN, PRIMARY, WARN_FILL, isna

gate.page(__file__)
sel = state.selection()
sc = sel.scheme
spec = sc.require_index()
score_spec = sc.require_score()
noun = LEVEL_NOUN[sel.level]
quarters = tuple(sel.status.get("quarters", []))
names = {c: i.name for c, i in sc.indicators.items()}
FONT = dict(family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif", size=13)

st.title("分析工具")
st.caption(f"{sel.province_name} · {sel.label} · {noun} · 方案：{sc.name} · "
           "结果仅供分析，不改变方案、得分、排名或预警名单")

TOOLS = {"weights": "权重比较", "uncertainty": "排名稳定性", "quality": "数据质量", "outlook": "风险预警",
         "whatif": "假设分析"}
tool = st.radio("工具", list(TOOLS), format_func=TOOLS.get, horizontal=True, key="tools_view",
                label_visibility="collapsed")


def pct(x, d: int = 1) -> str:
    return "—" if isna(x) else f"{x * 100:.{d}f}%"


def layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=40, b=8), font=FONT, plot_bgcolor="white",
                      paper_bgcolor="white", **kw)
    return fig


# --- 权重比较 -------------------------------------------------------------------------------------------
if tool == "weights":
    st.subheader("专家权重与客观权重")
    cmp = ad.weights(sel.key, sel.period, sel.level, sel.province, sel.skey)
    methods = {"expert": "专家权重", "entropy": "熵权法", "pca": "主成分", "critic": "CRITIC 法"}
    st.caption("客观赋权的三种方法：熵权法按各指标数值的分散程度定权；主成分按指标在主成分上的载荷定权；"
               "CRITIC 法（指标间相关性的准则重要性）按指标的区分度（标准差）与同其他指标的冲突程度（相关性越低越大）定权。")
    kind = st.radio("显示", ["nominal", "effective"], horizontal=True, key="tools_weights_kind",
                    format_func={"nominal": "名义权重", "effective": "有效权重（对指数差异的实际贡献）"}.get)
    w = cmp.weights
    fig = go.Figure()
    colours = {"expert": PRIMARY, "entropy": "#f0a202", "pca": "#2e7d32", "critic": "#8e44ad"}
    for m, label in methods.items():
        col = m if kind == "nominal" else f"eff_{m}"
        fig.add_bar(x=w["name"], y=w[col] * 100, name=label, marker_color=colours[m],
                    hovertemplate="%{x}：%{y:.1f}%<extra>" + label + "</extra>")
    layout(fig, 380, barmode="group", yaxis_title="权重（%）",
           title=dict(text="名义权重" if kind == "nominal" else "有效权重：各指标对指数差异的贡献份额", font=dict(size=15)),
           legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))
    st.plotly_chart(fig, key="tools_weights_chart", width="stretch")
    table = pd.DataFrame({"一级指标": w["group"], "二级指标": w["name"]})
    for m, label in methods.items():
        table[label] = (w[m] * 100).round(1)
        table[f"{label}·有效"] = (w[f"eff_{m}"] * 100).round(1)
    st.dataframe(display.table(table, {c: "%.1f%%" for c in table.columns[2:]}, display.NOT_APPLICABLE),
                 hide_index=True, width="stretch", key="tools_weights_table")
    st.caption(f"第一主成分解释了 {pct(cmp.pca_explained)} 的差异。客观权重用各指标标准化得分（0–100）拟合，"
               "缺失值以同级中位数代替（仅用于拟合）；有效权重 = cov(wⱼ·sⱼ, 指数) / var(指数)，合计 100%。")

    st.subheader("各权重下的排名")
    r = cmp.ranks.sort_values(["expert_rank", "code"], na_position="last")
    view = pd.DataFrame({"单位": r["name"], "专家权重指数": r["expert_index"], "专家权重名次": r["expert_rank"],
                         "熵权法名次": r["entropy_rank"], "主成分名次": r["pca_rank"], "CRITIC 法名次": r["critic_rank"],
                         "最大名次变动": r["max_shift"]})
    st.dataframe(display.table(view, {"专家权重指数": "%.1f"}, display.row_reasons(r, hidden=data.scope())),
                 hide_index=True, width="stretch", key="tools_weights_ranks", height=min(38 + 35 * len(view), 700))
    if not data.scope().full:
        st.caption(display.legend(display.HIDDEN))
    moved = r[r["max_shift"].fillna(0) >= 3]
    if len(moved):
        st.info(f"换用客观权重后名次变动 3 位及以上的{noun}：" + "、".join(
            f"{n}（±{int(s)}）" for n, s in zip(moved["name"], moved["max_shift"])), icon=":material/swap_vert:")

# --- 排名稳定性 -----------------------------------------------------------------------------------------
elif tool == "uncertainty":
    st.subheader("指数名次的不确定性（蒙特卡洛）")
    c1, c2, c3 = st.columns([1, 1, 2])
    draws = c1.selectbox("模拟次数", [500, 1000, 2000], index=1, key="tools_mc_draws", placeholder="请选择")
    spread = c2.select_slider("权重扰动幅度", options=[0.0, 0.1, 0.2, 0.3, 0.4, 0.5], value=0.5,
                              format_func=lambda x: f"±{x * 100:.0f}%", key="tools_mc_spread")
    from metrics.uncertainty import NORMALISATIONS

    norms = c3.multiselect("标准化方法（每次模拟随机取一种）", list(NORMALISATIONS), default=list(NORMALISATIONS),
                           format_func=NORMALISATIONS.get, key="tools_mc_norms", placeholder="请选择") or ["scheme"]
    mc = ad.uncertainty(sel.key, sel.period, sel.level, sel.province, sel.skey, int(draws), float(spread),
                        tuple(norms))
    u = mc.units.dropna(subset=["rank"]).sort_values(["rank", "code"])
    fig = go.Figure()
    fig.add_trace(go.Bar(x=(u["rank_p95"] - u["rank_p5"]).astype(float).clip(lower=0.15), y=u["name"],
                         base=u["rank_p5"].astype(float), orientation="h", marker_color="#c8d6e5", name="5%–95%区间",
                         customdata=u["rank_p95"].astype(float),
                         hovertemplate="%{y}：第%{base}–%{customdata}名<extra></extra>"))
    fig.add_trace(go.Scatter(x=u["rank_median"], y=u["name"], mode="markers", name="中位名次",
                             marker=dict(symbol="line-ns-open", size=14, color="#555")))
    fig.add_trace(go.Scatter(x=u["rank"], y=u["name"], mode="markers", name="公布名次",
                             marker=dict(size=9, color=PRIMARY)))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(title="名次（1 = 最好）", range=[0.5, len(u) + 0.5])
    layout(fig, max(300, 18 * len(u) + 110), title=dict(text="公布名次与模拟名次区间", font=dict(size=15)),
           legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1), bargap=0.35)
    st.plotly_chart(fig, key="tools_mc_chart", width="stretch")
    tol = mc.settings["tolerance"]
    view = pd.DataFrame({
        "名次": u["rank"], "单位": u["name"], "指数": u["index"], "中位名次": u["rank_median"],
        "5%–95%区间": [f"{int(a)}–{int(b)}" if pd.notna(a) and pd.notna(b) else "—"
                      for a, b in zip(u["rank_p5"], u["rank_p95"])],
        f"进入前{mc.settings['last']}名概率": (u["p_top"] * 100).round(1),
        f"落入后{mc.settings['last']}名概率": (u["p_last"] * 100).round(1),
        "结论": u["stable"].map(lambda s: "—" if pd.isna(s) else "稳定" if s else "取决于权重与标准化方法")})
    st.dataframe(display.table(view, {"指数": "%.1f", "中位名次": "%.1f", f"进入前{mc.settings['last']}名概率": "%.1f%%",
                                      f"落入后{mc.settings['last']}名概率": "%.1f%%"},
                               display.row_reasons(u, assessed=u["index"].notna(), hidden=data.scope())),
                 hide_index=True, width="stretch", key="tools_mc_table", height=min(38 + 35 * len(view), 600))
    st.caption(f"{mc.settings['draws']} 次模拟：每个一、二级权重乘以 [1−{spread:g}, 1+{spread:g}] 内的随机数后在指标树内"
               f"重新归一；每次随机选用一种标准化方法（{'、'.join(NORMALISATIONS[n] for n in mc.settings['normalisations'])}）。"
               f"区间宽度不超过 {tol} 位视为“稳定”。随机种子固定，结果可复现。")

    st.subheader(f"预警名单是否对权重稳健（{Period.parse(sel.quarter).label}）")
    rob = ad.robustness(sel.key, sel.quarter, sel.level, sel.province, sel.skey, int(draws), float(spread))
    shown = rob[rob["warned"].fillna(False).astype(bool) | (rob["warned_share"].fillna(0) >= 0.05)]
    shown = shown.sort_values(["warned_share", "code"], ascending=[False, True])
    if shown.empty:
        st.success("本季度没有单位在任何权重组合下进入预警名单。", icon=":material/check_circle:")
    else:
        rv = pd.DataFrame({"单位": shown["name"], "得分": shown["score"], "名次": shown["rank"],
                           "预警": shown["warned"].map(lambda w: "是" if w is True else ""),
                           "得分区间": [f"{a:.1f}–{b:.1f}" if pd.notna(a) and pd.notna(b) else "—"
                                    for a, b in zip(shown["score_p5"], shown["score_p95"])],
                           "进入名单的模拟比例": (shown["warned_share"] * 100).round(1), "结论": shown["verdict"]})
        st.dataframe(display.table(rv, {"得分": "{:.1f}", "进入名单的模拟比例": "%.1f%%"},
                                   display.row_reasons(shown, hidden=data.scope()),
                                   style=lambda d: d.style.apply(lambda r: [f"background-color: {WARN_FILL}"
                                                                            if r["预警"] == "是" else ""] * len(r), axis=1)),
                     hide_index=True, width="stretch", key="tools_robust_table")
    st.caption(f"考评得分的模拟只扰动各项分值（±{spread * 100:.0f}%，合计仍为 {score_spec.total:g} 分），"
               f"预警规则不变（{sc.warning.condition()}）；"
               "95% 以上的模拟仍在名单中为“稳健”。")

# --- 数据质量 -------------------------------------------------------------------------------------------
elif tool == "quality":
    from metrics.quality import RULES

    rep = ad.quality(sel.key, sel.period, sel.level, sel.province, sel.skey, quarters)
    flags = rep.flags
    c = st.columns(4)
    c[0].metric("被标记单位", f"{flags['code'].nunique()}", help="至少有一条复核标记的单位")
    c[1].metric("复核标记", f"{len(flags)}")
    c[2].metric("补录记录", f"{int(rep.panel['late_records'].sum()):,}",
                help=f"所属季度结束{rep.settings.late_days}天后才录入或修改的记录（初次导入的历史数据不计）")
    c[3].metric("无法归属的隐患", f"{rep.orphan_hazards}", help="引用的检查记录不在数据仓库中")
    st.info("标记只提示需要复核的数据，**不会改变任何得分、排名或预警**。每条标记都给出可核对的数字。",
            icon=":material/rule:")
    st.subheader("复核标记")
    rules = [r for r in RULES if r in set(flags["rule"])]
    chosen = st.multiselect("规则", rules, default=rules, format_func=RULES.get, key="tools_quality_rules", placeholder="请选择")
    f = flags[flags["rule"].isin(chosen)]
    if f.empty:
        st.success("所选规则下没有需要复核的单位。", icon=":material/check_circle:")
    else:
        order = {r: i for i, r in enumerate(RULES)}
        f = f.assign(_o=f["rule"].map(order)).sort_values(["_o", "code"], kind="stable")
        st.dataframe(pd.DataFrame({"单位": f["name"], "代码": f["code"], "规则": f["rule_name"], "原因": f["reason"]}),
                     hide_index=True, width="stretch", key="tools_quality_flags",
                     height=min(38 + 35 * len(f), 600),
                     column_config={"单位": st.column_config.TextColumn(width="small"),
                                    "代码": st.column_config.TextColumn(width="small"),
                                    "规则": st.column_config.TextColumn(width="medium"),
                                    "原因": st.column_config.TextColumn(width="large")})
        with st.expander("逐条阅读（按单位）"):
            for code, g in f.groupby("code", sort=False):
                st.markdown(f"**{g['name'].iloc[0]}（{code}）**\n" + "\n".join(
                    f"- {r.rule_name}：{r.reason}" for r in g.itertuples()))
    st.subheader("数据质量面板")
    p = rep.panel.sort_values(["flags", "code"], ascending=[False, True])
    pv = pd.DataFrame({
        "单位": p["name"], "标记数": p["flags"], "检查覆盖率": (p["coverage"] * 100).round(1),
        "重点单位覆盖率": (p["key_coverage"] * 100).round(1), "隐患数": p["hazards"],
        "隐患无对应检查": p["found_after_inspection"], "整改早于发现": p["rectified_before_found"],
        "当日整改占比": (p["same_day_share"] * 100).round(1), "立案超90天未决定": p["undecided_90"],
        "补录比例": (p["late_share"] * 100).round(1), "孤立森林异常分": p["anomaly"].round(3)})
    st.dataframe(display.table(pv, {c: "%.1f%%" for c in ("检查覆盖率", "重点单位覆盖率", "当日整改占比", "补录比例")},
                               display.NOT_APPLICABLE),
                 hide_index=True, width="stretch", key="tools_quality_panel", height=min(38 + 35 * len(pv), 600))
    with st.expander("规则说明"):
        s = rep.settings
        st.markdown("\n".join([
            "- **覆盖率超过100%**：检查的不同企业数多于名录企业数。",
            f"- **隐患无对应检查**：隐患发现日期比所引用的检查晚 {s.found_gap_days} 天以上。",
            "- **整改早于发现**：整改完成日期早于发现日期。",
            f"- **立案超90天未决定**：近一年立案、已满 {s.undecided_days} 天、期末仍无决定日期的案件，"
            f"≥{s.undecided_min} 件且占 {s.undecided_share:.0%} 以上时标记。",
            f"- **补录**：记录所在季度结束 {s.late_days} 天后才导入或修改（首次导入的历史数据除外），占比 ≥{s.late_share:.0%} 时标记。",
            f"- **整改率100%且均为当日整改**：需整改隐患 ≥{s.same_day_min_hazards} 项、整改率 ≥{s.same_day_rectification:.0%}、"
            f"当日整改 ≥{s.same_day_share:.0%}。",
            f"- **罚款集中在门槛以下**：近12个月单位罚款在门槛（{'、'.join(f'{t:g}万元' for t in s.fine_thresholds)}）下方 "
            f"{s.fine_window:g} 万元内的案件明显多于上方（二项检验 p < {s.fine_p:g}，对照其他单位）。",
            f"- **指标较自身历史突变**：与本单位前 {s.history} 个季度的中位数相比，稳健 z ≥ {s.jump_z:g}"
            f"且变化 ≥{s.jump_ratio_change * 100:.0f} 个百分点（比率）或翻倍/归零（金额、评分）。",
            f"- **指标画像异常**：孤立森林（{s.trees} 棵树、污染率 {s.contamination:.0%}）对本期同级单位的指标及其较自身历史的变化"
            "建模，列出最偏离同级中位数的三项。"]))

# --- 风险预警 -------------------------------------------------------------------------------------------
elif tool == "outlook":
    if len(quarters) < 6:
        st.info("至少需要 6 个季度的数据才能训练并回测预警模型。")
        st.stop()
    as_of = sel.quarter if sel.quarter in quarters else quarters[-1]
    ew = ad.outlook(sel.key, as_of, sel.level, sel.province, sel.skey, quarters)
    target = Period.parse(ew.target).label
    st.subheader(f"{target}进入预警名单的可能性")
    st.caption(f"依据截至{Period.parse(ew.as_of).label}的得分、趋势、各项失分与逾期重大隐患；模型只用 "
               f"{Period.parse(ew.trained_on[0]).label}—{Period.parse(ew.trained_on[-1]).label} 已知的名单训练。"
               if ew.trained_on else "")
    risk = ew.risk.dropna(subset=["probability"])
    top_n = st.slider("显示前 N 个单位", 5, max(5, min(30, len(risk))), min(10, max(5, len(risk))),
                      key="tools_outlook_n") if len(risk) > 5 else len(risk)
    head = risk.head(top_n)
    fig = go.Figure(go.Bar(x=head["probability"] * 100, y=head["name"], orientation="h", marker_color="#c62828",
                           text=[f"{p * 100:.0f}%" for p in head["probability"]], textposition="outside",
                           hovertemplate="%{y}：%{x:.1f}%<extra></extra>"))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(range=[0, 108], title="概率（%）")
    layout(fig, max(260, 26 * len(head) + 90), title=dict(text=f"{target}进入预警名单的概率", font=dict(size=15)))
    st.plotly_chart(fig, key="tools_outlook_chart", width="stretch")
    known = risk["actual"].notna().any()
    view = pd.DataFrame({"单位": head["name"], "当季得分": head["score"],
                         "当季预警": head["warned"].map(lambda w: "是" if bool(w) else ""),
                         "下季进入名单概率": (head["probability"] * 100).round(1), "主要因素": head["drivers"]})
    if known:
        view["实际"] = head["actual"].map(lambda a: "" if pd.isna(a) else ("进入名单" if a == 1 else "未进入"))
    st.dataframe(display.table(view, {"当季得分": "%.1f", "下季进入名单概率": "%.1f%%"},
                               display.row_reasons(head, assessed=None, hidden=data.scope())),
                 hide_index=True, width="stretch", key="tools_outlook_table",
                 column_config={"主要因素": st.column_config.TextColumn(width="large")})

    st.subheader("回测（滚动起点：每个季度只用更早的季度训练）")
    m = ew.backtest.metrics
    if not m:
        st.info("可用于回测的季度不足。")
    else:
        c = st.columns(5)
        c[0].metric("区分能力 AUC", f"{m['auc']:.2f}",
                    help="AUC（曲线下面积）：把会进入名单的单位排在前面的能力，1 为完全区分，0.5 相当于随机")
        c[1].metric(f"前{m['top_k']}名精确率", pct(m["precision_top"]),
                    help=f"每季概率最高的 {m['top_k']} 个单位中，真正进入下季名单的比例")
        c[2].metric(f"前{m['top_k']}名召回率", pct(m["recall_top"]), help="下季名单中被提前排进前列的比例")
        c[3].metric("精确率/召回率（p≥0.5）", f"{pct(m['precision_50'], 0)} / {pct(m['recall_50'], 0)}")
        c[4].metric("概率误差 Brier", f"{m['brier']:.3f}",
                    help="Brier 分数：预测概率与实际结果（进入名单记 1，否则 0）之差的平方的平均，越小越好")
        st.caption(f"回测 {m['folds']} 个季度、{m['predictions']} 个预测，其中 {m['positives']} 个进入名单"
                   f"（基础比例 {pct(m['base_rate'])}）。对照：只看当季得分高低的区分能力 AUC {m['baseline_score_auc']:.2f}；"
                   f"“本季在名单则下季也在”的精确率 {pct(m['baseline_persistence_precision'])}、"
                   f"召回率 {pct(m['baseline_persistence_recall'])}。")
        folds = ew.backtest.folds
        fv = pd.DataFrame({"预测季度": folds["predicted"].map(lambda q: Period.parse(q).label),
                           "所用特征": folds["features_from"].map(lambda q: Period.parse(q).label),
                           "训练季度": [f"{Period.parse(t[0]).label}—{Period.parse(t[-1]).label}（{len(t)}个）"
                                        for t in folds["train_quarters"]],
                           "训练样本": folds["n_train"], "预测单位": folds["n_test"], "实际进入名单": folds["positives"]})
        left, right = st.columns([3, 2])
        left.dataframe(display.table(fv), hide_index=True, width="stretch", key="tools_outlook_folds")
        rel = ew.backtest.reliability
        right.dataframe(display.table(pd.DataFrame({"预测概率区间": rel["bin"], "平均预测": (rel["predicted"] * 100).round(1),
                                                    "实际比例": (rel["observed"] * 100).round(1), "样本": rel["n"]}),
                                      {"平均预测": "%.1f%%", "实际比例": "%.1f%%"}, "无样本"),
                        hide_index=True, width="stretch", key="tools_outlook_reliability")
    with st.expander("模型系数（每个标准差对对数几率的影响）"):
        st.dataframe(display.table(ew.coefficients.rename(columns={"feature": "特征", "name": "名称", "coefficient": "系数"})),
                     hide_index=True, width="stretch", key="tools_outlook_coef")

# --- 假设分析 -------------------------------------------------------------------------------------------
else:
    st.subheader("调整权重或目标值，看排名如何变化")
    st.caption("只在本页内存中重新计算；方案文件和正在使用的方案不会被修改。")
    which = st.radio("对象", ["index", "score"], horizontal=True, key="tools_whatif_target",
                     format_func={"index": spec.name, "score": f"{score_spec.name}（{Period.parse(sel.quarter).label}）"}.get)
    if which == "index":
        with st.form("tools_whatif_index_form"):
            weights, targets = {}, {}
            cols = st.columns(3)
            for i, n in enumerate(spec.leaves):
                box = cols[i % 3].container(border=True)
                box.markdown(f"**{n.parent} · {names.get(n.code, n.code)}**")
                weights[n.code] = box.number_input("权重", min_value=0.0, max_value=100.0, value=float(n.weight),
                                                   step=1.0, key=f"tools_w_{n.code}")
                if n.normalise == "target":
                    targets[n.code] = box.number_input("目标值", min_value=0.0001, value=float(n.target), step=0.05,
                                                       format="%.4g", key=f"tools_t_{n.code}")
                else:
                    box.caption("同级极差标准化")
            st.form_submit_button("重新计算", type="primary")
        res = ad.whatif_index(sel.key, sel.period, sel.level, sel.province, sel.skey, weights, targets)
        before, after = "index_before", "index_after"
    else:
        with st.form("tools_whatif_score_form"):
            points, targets = {}, {}
            cols = st.columns(3)
            for i, it in enumerate(score_spec.items):
                box = cols[i % 3].container(border=True)
                box.markdown(f"**{names.get(it.indicator, it.indicator)}**")
                points[it.indicator] = box.number_input("分值", min_value=0.0, max_value=100.0, value=float(it.points),
                                                        step=1.0, key=f"tools_p_{it.indicator}")
                targets[it.indicator] = box.number_input("目标值", min_value=0.0001, value=float(it.target), step=0.05,
                                                         format="%.4g", key=f"tools_st_{it.indicator}")
            st.form_submit_button("重新计算", type="primary")
        res = ad.whatif_score(sel.key, sel.quarter, sel.level, sel.province, sel.skey, points, targets)
        before, after = "score_before", "score_after"
        total = sum(points.values())
        if total > 0 and abs(total - score_spec.total) > 1e-9:
            st.caption(f"各项分值合计 {total:g}，已按比例折算为 {score_spec.total:g} 分，预警线 {sc.warning.threshold:g} 分不变。")
        changed = res[res["change"] != ""]
        if len(changed):
            st.warning("预警名单变化：" + "；".join(f"{r.name}{r.change}" for r in changed.itertuples()),
                       icon=":material/notification_important:")
        else:
            st.success("预警名单不变。", icon=":material/check_circle:")
    edited = [k for k in st.session_state if str(k).startswith(("tools_w_", "tools_t_", "tools_p_", "tools_st_"))]
    if edited and st.button("恢复方案设置", key="tools_whatif_reset", icon=":material/restart_alt:"):
        for k in edited:
            del st.session_state[k]
        st.rerun()
    ranked = res.dropna(subset=["rank_after"])
    c = st.columns(3)
    c[0].metric("名次变化的单位", f"{int((ranked['moved'].fillna(0) != 0).sum())}")
    up, down = ranked["moved"].max(), ranked["moved"].min()   # + rose, - fell
    c[1].metric("最大上升", f"{int(up)} 位" if len(ranked) and up > 0 else "无单位上升" if len(ranked) else "—")
    c[2].metric("最大下降", f"{int(-down)} 位" if len(ranked) and down < 0 else "无单位下降" if len(ranked) else "—")
    moved = ranked[ranked["moved"].fillna(0) != 0]
    if moved.empty:
        st.info("名次与方案设置下相同。修改上面的权重、目标值或分值后点击“重新计算”。", icon=":material/info:")
    else:
        fig = go.Figure(go.Bar(x=moved["moved"].astype(float), y=moved["name"], orientation="h",
                               marker_color=["#2e7d32" if m > 0 else "#c62828" for m in moved["moved"]],
                               customdata=moved["rank_after"].astype(float),
                               hovertemplate="%{y}：%{x:+d} 位（新名次 %{customdata}）<extra></extra>"))
        fig.update_yaxes(autorange="reversed", type="category")
        fig.update_xaxes(title="名次变化（+ 上升）", zeroline=True, zerolinecolor="#999")
        layout(fig, max(240, 20 * len(moved) + 90),
               title=dict(text="名次有变化的单位（按新名次排列）", font=dict(size=15)))
        st.plotly_chart(fig, key="tools_whatif_chart", width="stretch")
    view = pd.DataFrame({"新名次": res["rank_after"], "单位": res["name"], "调整后": res[after],
                         "原名次": res["rank_before"], "调整前": res[before], "名次变化": res["moved"]})
    if which == "score":
        view["预警名单"] = res["change"].where(res["change"] != "",
                                          res["warned_after"].map(lambda w: "在名单" if w is True else ""))
    st.dataframe(display.table(view, {"调整后": "%.1f", "调整前": "%.1f"},
                               display.row_reasons(res, assessed=res[before].notna() | res[after].notna(),
                                                   hidden=data.scope())),
                 hide_index=True, width="stretch", key="tools_whatif_table", height=min(38 + 35 * len(view), 600))
