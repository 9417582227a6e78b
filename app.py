"""执法效能: the Streamlit frame — page config, shared sidebar selectors, demo banner, navigation.

Pages live in pages/ (ASCII file names and url_paths, Chinese titles) and only render: they read
the shared selection (ui.state.selection) and call metrics/* through the cached ui.data module.

Each url_path is its file's name, and every page calls ui.state.require_frame() first: Streamlit's
legacy pages-folder mode (a fresh server's first request, every AppTest run) then still runs this
frame as the main script around the page (see ui.state).

Access (ui.gate, ui.auth): with a users file the frame first asks for a sign-in and shows only the
pages the user's roles allow; the pages check again, and the data layer (ui.data) filters every
figure by the user's scope. Without one, the app runs open for local use and says so.
"""
from __future__ import annotations

import streamlit as st

from ui import auth, data, gate, state
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

acc = gate.gate()   # with a users file: the sign-in screen until someone signs in (ends the run)
k = data.pin_key()  # one warehouse version for the whole run, whatever loads meanwhile
status = data.status(k)


def allowed(groups: dict[str, list[str]]) -> dict:
    """The navigation: only the pages the user's roles allow (each page checks again)."""
    out = {g: [PAGES[n] if n in PAGES else START for n in names if acc.can_page(n)] for g, names in groups.items()}
    return {g: pages for g, pages in out.items() if pages}


def run(nav) -> None:
    state.mark_frame()  # pages check this (ui.state.require_frame); set only when the page runs next
    try:
        nav.run()
    except (auth.OutOfScope, auth.Forbidden) as e:  # the data layer refused: another unit's details, a missing role
        gate.denied(acc, "data", str(e))
        st.error(str(e), icon=":material/block:")


home_name = None  # a city user's city, for the sidebar
if acc.user is not None and acc.user.region and k[1] is not None:
    units = data.regions(k, acc.user.region[:2] + "0000")
    home_name = dict(zip(units["code"], units["name"])).get(acc.user.region)

if not status["has_data"]:
    # an empty or missing warehouse: build the demo, or import files
    gate.sidebar(acc, home_name)
    nav = st.navigation(allowed({"开始": ["start"], "数据": ["import", "method"]}))
    run(nav)
    st.stop()

ss = st.session_state

with st.sidebar:
    st.markdown("### :material/shield: 执法效能")
    provinces = dict(status["provinces"])
    if acc.user is not None and acc.user.region:  # a city user: its own province
        provinces = {c: n for c, n in provinces.items() if c == acc.user.region[:2] + "0000"} or provinces
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
gate.sidebar(acc, home_name)

nav = st.navigation(allowed({
    "领导视图": ["overview"],
    "分析": ["ranking", "region", "analysis"],
    "考评": ["assessment"],
    "数据与方法": ["import", "method"],
}))

if status["meta"].get("demo") == "true":
    prov = status["meta"].get("demo_province", "")
    years = status["meta"].get("demo_years", "")
    st.warning(f"**演示数据** · 当前数据仓库是合成的演示数据（{dict(status['provinces']).get(prov, prov)}，"
               f"{years}年），用于试用与培训，不是真实执法记录，结果不得用于考评。", icon=":material/science:")

run(nav)
