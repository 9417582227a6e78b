"""开始使用: shown instead of the dashboards while the warehouse is empty or missing."""
from __future__ import annotations

import streamlit as st

from etl import warehouse
from ui import data, gate

acc = gate.page(__file__)
st.title("执法效能 · 安全生产执法效能评估")
path = warehouse.db_path()
status = data.status(data.key())
if not status["exists"]:
    st.info(f"还没有数据仓库（{path}）。可以先生成一份演示数据试用，或导入本省执法系统导出的数据。", icon=":material/inbox:")
else:
    st.info("数据仓库中还没有执法检查或处罚记录。可以生成演示数据试用，或导入数据。", icon=":material/inbox:")

left, right = st.columns(2, gap="large")
with left:
    st.subheader(":material/science: 生成演示数据")
    st.write("合成的、可复现的演示数据：真实行政区划，3 年的检查、隐患、处罚和计划，各市表现各异。"
             "页面会标明“演示数据”。")
    if not acc.can("import"):
        st.info("生成演示数据和导入数据需要数据管理员或省厅的账号，请联系数据管理员。", icon=":material/lock:")
    else:
        with st.form("demo_form", border=True):
            province = st.selectbox("省份", ["330000", "510000"], key="demo_province",
                                    format_func={"330000": "浙江省（330000）", "510000": "四川省（510000）"}.get, placeholder="请选择")
            scale = st.select_slider("规模", options=[0.2, 0.5, 1.0], value=1.0, key="demo_scale",
                                     format_func=lambda s: {0.2: "小（约 1/5）", 0.5: "中", 1.0: "接近真实省份"}[s])
            go = st.form_submit_button("生成演示数据", type="primary", key="demo_go")
        if go:
            with st.spinner("正在生成并导入演示数据（约 10 秒）…"):
                summary = data.build_demo(province, scale)
            data.clear()
            st.success("演示数据已生成。")
            st.code(summary, language=None)
            st.rerun()
with right:
    st.subheader(":material/upload_file: 导入数据")
    st.write("上传执法系统导出的 CSV 或 Excel 文件（执法对象名录、执法检查、隐患、处罚案件、年度计划），"
             "系统逐行校验，合格的导入，不合格的单列并说明原因。")
    if acc.can("import") and st.button("前往数据导入", key="goto_import"):
        st.switch_page("pages/data_import.py")
    st.caption("命令行：`python -m etl load 文件...`，或 `python -m etl demo` 生成演示数据。")
