"""执法效能: the Streamlit frame — page config, shared sidebar selectors, demo banner, navigation.

Pages live in pages/ (ASCII file names and url_paths, Chinese titles) and only render: they read
the shared selection (ui.state.selection) and call metrics/* through the cached ui.data module.
Each page is declared once in ui.pages_registry; the navigation below, the permissions and the
URL paths come from there, and every page starts with ``gate.page(__file__)``.

Access (ui.gate, ui.auth): with a users file the frame first asks for a sign-in and shows only the
pages the user's roles allow; the pages check again, and the data layer (ui.data) filters every
figure by the user's scope. Without one, the app runs open for local use and says so.
"""
from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from metrics.scheme import SchemeError
from ui import auth, cache, data, gate, state
from ui.style import KIND_LABEL, LEVEL_NOUN

FAVICON = Path(__file__).resolve().parent / "ui" / "favicon.svg"  # the shield of :material/shield:, in the theme's blue

cache.freeze_long_lived()  # what the imports above built lives as long as the process: out of the collector's way


def main() -> None:
    """The frame, run by `streamlit run app.py` (and by a page that Streamlit's legacy pages-folder
    mode ran alone: ui.gate.page)."""
    # the tab's icon from this repository (a data: URL): a ":material/…" page_icon makes every browser fetch
    # it from fonts.gstatic.com, a request to a third party that an intranet blocks and that tells it who uses the app
    st.set_page_config(page_title="执法效能", page_icon=str(FAVICON), layout="wide", initial_sidebar_state="expanded")

    st.html(  # style only: Streamlit puts it in the page without a Markdown parser
        """<style>
        [data-testid="stMetricValue"] { font-size: 1.7rem; }
        [data-testid="stSidebarNav"] { padding-top: .5rem; }
        .block-container { padding-top: 2.2rem; }
        /* the file uploader's own English (Streamlit 1.67 has no parameter for it): the button reads
           选择文件; the size limit and file types are said in Chinese by the page (st.caption) */
        [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p { display: none; }
        [data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after {
            content: "选择文件"; }
        [data-testid="stFileUploaderDropzoneInstructions"] { display: none; }
        /* while a file is dragged over it, the dropzone shows an overlay (its only div holding a span)
           reading "Drag and drop files here": hidden, the Chinese in its place */
        [data-testid="stFileUploaderDropzone"] > div > span { visibility: hidden; font-size: 0; }
        [data-testid="stFileUploaderDropzone"] > div > span::after {
            content: "将文件拖放到此处"; visibility: visible; font-size: .875rem; }
        </style>""",
    )

    acc = gate.gate()   # with a users file: the sign-in screen until someone signs in (ends the run)
    k = data.pin_key()  # one warehouse version for the whole run, whatever loads meanwhile
    status = data.status(k)

    def run(nav) -> None:
        try:
            gate.run(nav)
        except (auth.OutOfScope, auth.Forbidden) as e:  # the data layer refused: another unit's details, a missing role
            gate.denied(acc, "data", str(e))
            st.error(str(e), icon=":material/block:")
        except SchemeError as e:  # a scheme file with an error (a filter nested too deep …): which, not a traceback
            root = str(Path(__file__).resolve().parent) + os.sep
            st.error(f"评价方案文件有误，请管理员修正后再试：{str(e).replace(root, '')}", icon=":material/error:")

    home_name = None  # a city user's city, for the sidebar
    if acc.user is not None and acc.user.region and k[1] is not None:
        units = data.regions(k, acc.user.region[:2] + "0000")
        home_name = dict(zip(units["code"], units["name"])).get(acc.user.region)

    if not status["has_data"]:
        # an empty or missing warehouse: build the demo, or import files
        gate.sidebar(acc, home_name)
        run(gate.navigation(acc, has_data=False))
        st.stop()

    ss = st.session_state
    state.apply_requests()

    with st.sidebar:
        st.markdown("### :material/shield: 执法效能")
        provinces = dict(status["provinces"])
        if acc.user is not None and acc.user.region:  # a city user: its own province
            provinces = {c: n for c, n in provinces.items() if c == acc.user.region[:2] + "0000"} or provinces
        if len(provinces) > 1:
            st.selectbox("省份", list(provinces), key=state.PROVINCE, format_func=lambda c: f"{provinces[c]}（{c}）", placeholder="请选择")
        elif provinces:
            ss[state.PROVINCE] = next(iter(provinces))
        st.radio("评价对象", ["city", "county"], key=state.LEVEL, horizontal=True, format_func=LEVEL_NOUN.get)
        st.radio("周期", ["quarter", "year"], key=state.KIND, horizontal=True, format_func=KIND_LABEL.get)
        options = list(reversed(status["quarters"] if ss.get(state.KIND, "quarter") == "quarter" else status["years"]))
        if ss.get(state.PERIOD) not in options and options:
            latest = status["latest_quarter"] if ss.get(state.KIND, "quarter") == "quarter" else options[0]
            ss[state.PERIOD] = latest if latest in options else options[0]
        from metrics.periods import Period

        st.selectbox("期间", options, key=state.PERIOD, format_func=lambda p: Period.parse(p).label, placeholder="请选择")
        # the schemes that serve the province (its own first, the default) — never another province's
        schemes = [str(p) for p in data.scheme_files(ss.get(state.PROVINCE))]
        if ss.get(state.SCHEME) not in schemes:
            ss[state.SCHEME] = schemes[0] if schemes else None
        if len(schemes) > 1:
            st.selectbox("评价方案", schemes, key=state.SCHEME,
                         format_func=lambda p: p.rsplit("/", 1)[-1].removesuffix(".toml"), placeholder="请选择")
        counts = status["counts"]
        span = f"{Period.parse(status['quarters'][0]).label}—{Period.parse(status['quarters'][-1]).label}" \
            if status["quarters"] else "—"
        st.caption(f"数据范围：{span}  \n检查 {counts.get('inspections', 0):,} · 隐患 {counts.get('hazards', 0):,} · "
                   f"案件 {counts.get('penalties', 0):,}")
    gate.sidebar(acc, home_name)

    nav = gate.navigation(acc, has_data=True)

    if status["meta"].get("demo") == "true":
        prov = status["meta"].get("demo_province", "")
        years = status["meta"].get("demo_years", "")
        st.warning(f"**演示数据** · 当前数据仓库是合成的演示数据（{dict(status['provinces']).get(prov, prov)}，"
                   f"{years}年），用于试用与培训，不是真实执法记录，结果不得用于考评。", icon=":material/science:")

    run(nav)


if __name__ == "__main__":
    main()
