"""排名: the full index ranking with first-level sub-indices, rank change, trend and bands;
export to Excel."""
from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from ui import data, display, export, gate, state
from ui.style import LEVEL_NOUN, band_of, fill_map, rank_change, style_cells

gate.page(__file__)
sel = state.selection()
sc = sel.scheme
band = band_of(sc)
fills = fill_map(sc)
noun = LEVEL_NOUN[sel.level]
spec = sc.require_index()
groups = [(g.code, g.name) for g in spec.groups]

st.title(f"{spec.name}排名")
st.caption(f"{sel.province_name} · {sel.label} · {noun} · 方案：{sc.name}")
if not data.scope().full:
    st.caption("您的账号可查看本市及所辖县（市、区）的一级指数；其他单位只显示名次与指数。")

ix = data.index(sel.key, sel.period, sel.level, sel.province, sel.skey)
prev = sel.previous()
prev_ix = data.index(sel.key, prev, sel.level, sel.province, sel.skey) if prev else None
periods = sel.recent(8)
hist = data.history("index", sel.key, periods, sel.level, sel.province, sel.skey)

c1, c2, _ = st.columns([2, 2, 3])
search = c1.text_input("查找单位", key="ranking_search", placeholder="输入名称，如：金华")
only = c2.multiselect("只看分档", list(fills)[:3], key="ranking_bands", placeholder="全部分档")

table = ix.copy()
table["band"] = table["index"].map(band)
table["change"] = [rank_change(r, b) for r, b in zip(
    table["rank"], table["code"].map(prev_ix.set_index("code")["rank"]) if prev_ix is not None else [None] * len(table))]
trend = hist.pivot(index="code", columns="period", values="index").reindex(columns=periods)
table["trend"] = table["code"].map(lambda c: [None if pd.isna(v) else float(v) for v in trend.loc[c]]
                                   if c in trend.index else [])
table = table.sort_values(["rank", "code"], na_position="last").reset_index(drop=True)
if search:
    table = table[table["name"].str.contains(search.strip(), regex=False)]
if only:
    table = table[table["band"].isin(only)]

# every column sized to fit a 1,440 px screen beside the sidebar (measured: ~980 px for the table):
# first-level sub-indices headed by their short names (the code letter in the header's help)
group_col = {code: name for code, name in groups}
view = pd.DataFrame({
    "名次": table["rank"],
    "变化": table["change"],
    "单位": table["name"],
    "指数": table["index"],
    "分档": table["band"],
    **{group_col[code]: table[code] for code, _ in groups},
    "趋势": table["trend"],
    "不适用": table["na_count"],
    "代码": table["code"],
})
colour_by = {"指数": table["band"], "分档": table["band"]}
colour_by.update({group_col[code]: table[code].map(band) for code, _ in groups})
reasons = display.row_reasons(table, hidden=data.scope())
styled = display.table(view, {c: "{:.1f}" for c in ["指数", *group_col.values()]}, reasons,
                       style=lambda d: style_cells(d, colour_by, fills))

st.dataframe(
    styled, hide_index=True, width="stretch", key="ranking_table", height=min(38 + 35 * len(view), 900),
    column_config={
        "名次": st.column_config.NumberColumn(width=46),
        "变化": st.column_config.TextColumn(width=50, help=f"与上一期（{prev or '无'}）相比名次的变化：▲上升 ▼下降"),
        "单位": st.column_config.TextColumn(width=100),
        "指数": st.column_config.Column(width=58),
        "分档": st.column_config.Column(width=62),
        **{group_col[code]: st.column_config.Column(width=74, help=f"一级指标 {code} {name}")
           for code, name in groups},
        "趋势": st.column_config.LineChartColumn(f"近{len(periods)}期", y_min=0, y_max=100, width=96,
                                                 help=f"近{len(periods)}期指数走势"),
        "不适用": st.column_config.NumberColumn(width=58, help="不适用（分母为 0）的二级指标个数，其权重由同组指标分担"),
        "代码": st.column_config.TextColumn(width=66, help="行政区划代码"),
    },
)
b = sc.bands
st.html(  # coloured spans: HTML (sanitised by DOMPurify), not Markdown's raw-HTML plugin, which no other page loads
    f"<span style='background:{fills[b.labels[0]]};padding:2px 8px;border-radius:3px'>{b.labels[0]} ≥ {b.meets:g}</span> "
    f"<span style='background:{fills[b.labels[1]]};padding:2px 8px;border-radius:3px'>{b.labels[1]} {b.attention:g}–{b.meets:g}</span> "
    f"<span style='background:{fills[b.labels[2]]};padding:2px 8px;border-radius:3px'>{b.labels[2]} &lt; {b.attention:g}</span> "
    f"&nbsp; 名次相同表示并列；"
    + html.escape(display.legend(display.NO_DATA, display.NOT_APPLICABLE, *([] if data.scope().full else [display.HIDDEN]))),
)

with st.expander("一级指标说明"):
    for code, name in groups:
        leaves = [sc.indicators[n.code].name for n in spec.nodes if n.parent == code and n.code in sc.indicators]
        st.markdown(f"- **{code} {name}**：{'、'.join(leaves)}")

excel_view = display.plain(view.drop(columns=["趋势"]).assign(**{
    f"{p}": table["code"].map(trend[p]) for p in periods}), reasons)
def xlsx() -> bytes:  # made when the button is clicked, not on every run
    return export.to_excel(
        {"排名": excel_view},
        notes=[("省份", sel.province_name), ("期间", sel.label), ("评价对象", noun), ("方案", sc.name),
               ("说明", f"指数与一级指标保留一位小数；名次按指数，并列同名次；右侧各列为近{len(periods)}期指数。")],
        fills={"排名": {}},
    )


st.download_button("导出 Excel", xlsx, file_name=f"{sel.province_name}{sel.label}{noun}执法效能指数排名.xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="ranking_export",
                   type="primary", on_click="ignore")
