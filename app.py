"""执法效能: the Streamlit frame — page config, shared sidebar selectors, demo banner, navigation.

Pages live in pages/ (ASCII file names and url_paths, Chinese titles) and only render: they read
the shared selection (ui.state.selection) and call metrics/* through the cached ui.data module.

Each url_path is its file's name, and every page calls ui.state.require_frame() first: Streamlit's
legacy pages-folder mode (a fresh server's first request, every AppTest run) then still runs this
frame as the main script around the page (see ui.state).
"""
from __future__ import annotations

import streamlit as st

from ui import data, state
from ui.style import KIND_LABEL, LEVEL_NOUN

state.frame_guard()  # Streamlit's legacy pages-folder mode: see ui.state
st.set_page_config(page_title="执法效能", page_icon=":material/shield:", layout="wide", initial_sidebar_state="expanded")

st.markdown(
    """<style>
    [data-testid="stMetricValue"] { font-size: 1.7rem; }
    [data-testid="stSidebarNav"] { padding-top: .5rem; }
    .block-container { padding-top: 2.2rem; }
    </style>""",
    unsafe_allow_html=True,
)

PAGES = {
    "overview": st.Page("pages/overview.py", title="总览", icon=":material/dashboard:", url_path="overview",
                        default=True),
    "ranking": st.Page("pages/ranking.py", title="排名", icon=":material/leaderboard:", url_path="ranking"),
    "region": st.Page("pages/region.py", title="区域分析", icon=":material/travel_explore:", url_path="region"),
    "analysis": st.Page("pages/analysis.py", title="分析工具", icon=":material/query_stats:", url_path="analysis"),
    "assessment": st.Page("pages/assessment.py", title="季度考评", icon=":material/fact_check:",
                          url_path="assessment"),
    "import": st.Page("pages/data_import.py", title="数据导入", icon=":material/upload_file:",
                      url_path="data_import"),
    "method": st.Page("pages/method.py", title="方法说明", icon=":material/menu_book:", url_path="method"),
}
START = st.Page("pages/start.py", title="开始使用", icon=":material/rocket_launch:", url_path="start", default=True)

state.mark_frame()  # pages check this (ui.state.require_frame)
k = data.key()
status = data.status(k)

if not status["has_data"]:
    # an empty or missing warehouse: build the demo, or import files
    nav = st.navigation({"开始": [START], "数据": [PAGES["import"], PAGES["method"]]})
    nav.run()
    st.stop()

ss = st.session_state

with st.sidebar:
    st.markdown("### :material/shield: 执法效能")
    provinces = dict(status["provinces"])
    if len(provinces) > 1:
        st.selectbox("省份", list(provinces), key=state.PROVINCE, format_func=lambda c: f"{provinces[c]}（{c}）")
    elif provinces:
        ss[state.PROVINCE] = next(iter(provinces))
    st.radio("评价对象", ["city", "county"], key=state.LEVEL, horizontal=True, format_func=LEVEL_NOUN.get)
    st.radio("周期", ["quarter", "year"], key=state.KIND, horizontal=True, format_func=KIND_LABEL.get)
    options = list(reversed(status["quarters"] if ss.get(state.KIND, "quarter") == "quarter" else status["years"]))
    if ss.get(state.PERIOD) not in options and options:
        latest = status["latest_quarter"] if ss.get(state.KIND, "quarter") == "quarter" else options[0]
        ss[state.PERIOD] = latest if latest in options else options[0]
    from metrics.periods import Period

    st.selectbox("期间", options, key=state.PERIOD, format_func=lambda p: Period.parse(p).label)
    schemes = data.scheme_files()
    if len(schemes) > 1:
        st.selectbox("评价方案", [str(p) for p in schemes], key=state.SCHEME,
                     format_func=lambda p: p.rsplit("/", 1)[-1].removesuffix(".toml"))
    counts = status["counts"]
    span = f"{Period.parse(status['quarters'][0]).label}—{Period.parse(status['quarters'][-1]).label}" \
        if status["quarters"] else "—"
    st.caption(f"数据范围：{span}  \n检查 {counts.get('inspections', 0):,} · 隐患 {counts.get('hazards', 0):,} · "
               f"案件 {counts.get('penalties', 0):,}")

nav = st.navigation({
    "领导视图": [PAGES["overview"]],
    "分析": [PAGES["ranking"], PAGES["region"], PAGES["analysis"]],
    "考评": [PAGES["assessment"]],
    "数据与方法": [PAGES["import"], PAGES["method"]],
})

if status["meta"].get("demo") == "true":
    prov = status["meta"].get("demo_province", "")
    years = status["meta"].get("demo_years", "")
    st.warning(f"**演示数据** · 当前数据仓库是合成的演示数据（{dict(status['provinces']).get(prov, prov)}，"
               f"{years}年），用于试用与培训，不是真实执法记录，结果不得用于考评。", icon=":material/science:")

nav.run()
