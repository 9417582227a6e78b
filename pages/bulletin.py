"""通报 (for province staff): the period's 执法情况通报 previewed section by section — every
sentence and table as the document holds them — and downloaded as a GB/T 9704 .docx, with its
annex tables as .xlsx and the one-page brief for a leaders' meeting.

The content is metrics.bulletin's (through ui.data); this page only shows it. The bulletin names
every unit's figures, so it needs the notices permission (省厅、发函人员); a city user's account
reads its own units on the other pages."""
from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from metrics.periods import Period
from ui import data, display, gate, state
from ui.style import LEVEL_NOUN

gate.page(__file__)   # ui/pages_registry.py: the notices permission (省厅、发函人员)
sel = state.selection()
noun = LEVEL_NOUN[sel.level]

periods = [str(p) for p in sel.status.get("quarters", [])] + [str(y) for y in sel.status.get("years", [])]
periods = sorted(set(periods), key=lambda p: (Period.parse(p).year, Period.parse(p).kind == "year",
                                              Period.parse(p).number), reverse=True)
if st.session_state.get("bulletin_period") not in periods:
    st.session_state["bulletin_period"] = sel.period if sel.period in periods else (periods[0] if periods else None)

st.title("执法情况通报")
if not periods:
    st.info("数据仓库中还没有执法记录，无法生成通报。", icon=":material/info:")
    st.stop()
c1, c2 = st.columns([2, 3])
period = c1.selectbox("通报期间（季度或年度）", periods, key="bulletin_period",
                      format_func=lambda p: Period.parse(p).label)
issued_on = c2.date_input("成文日期", value=dt.date.today(), key="bulletin_date", format="YYYY-MM-DD")
st.caption(f"{sel.province_name} · {noun} · 方案：{sel.scheme.name}。通报中的每个数字都由数据仓库生成，"
           "与“排名”“季度考评”页和命令行 `python -m metrics bulletin` 的结果一致。")

b = data.bulletin(sel.key, period, sel.level, sel.province, sel.skey)
files = data.bulletin_files(sel.key, period, sel.level, sel.province, sel.skey, issued_on.isoformat())

d1, d2, d3 = st.columns(3)
stem = b.file_stem
d1.download_button("下载通报（Word）", files["docx"], file_name=f"{stem}.docx", key="bulletin_docx",
                   mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                   icon=":material/description:", type="primary", on_click="ignore")
d2.download_button("下载附件表格（Excel）", files["xlsx"], file_name=f"{stem}-附件.xlsx", key="bulletin_xlsx",
                   mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", icon=":material/table:",
                   on_click="ignore")
d3.download_button("下载一页简报（Word）", files["brief"], file_name=f"{b.province_name}{b.period.label}执法工作简况.docx",
                   key="bulletin_brief", icon=":material/summarize:",
                   mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document", on_click="ignore")
st.caption("Word 文件按 GB/T 9704-2012 排版（A4，仿宋三号，每页 22 行）；"
           "第六部分“工作要求”的措辞在 metrics/bulletin_requirements.txt 中修改，发文机关等在通知设置中修改。")


def md(text: str) -> str:
    """Text shown as is: markdown's special characters escaped (a unit name is data)."""
    return "".join("\\" + ch if ch in "\\`*_{}[]<>()#+!|~$" else ch for ch in str(text))


def show_table(t, key: str) -> None:
    st.markdown(f"**{md(t.title)}**")
    st.dataframe(display.table(pd.DataFrame(t.rows, columns=t.columns)), hide_index=True, width="stretch", key=key,
                 height=min(38 + 35 * max(len(t.rows), 1), 420))


st.divider()
st.markdown(f"### {md(b.title)}")
st.markdown(md(b.addressee))
st.markdown(f"现将{b.period.label}全省安全生产执法工作情况通报如下。")
for i, s in enumerate(b.sections):
    st.markdown(f"#### {s.heading}")
    for j, bl in enumerate(s.blocks):
        if bl.kind == "table":
            show_table(bl.table, f"bulletin_t_{i}_{j}")
        elif bl.kind == "h2":
            st.markdown(f"**{md(bl.text)}**")
        else:
            st.markdown(md(bl.text))
st.markdown("#### 附件")
for k, t in enumerate(b.annexes, 1):
    with st.expander(f"附件{k}　{t.title}", expanded=False):
        show_table(t, f"bulletin_annex_{k}")
