"""执法效能: the Streamlit frame (page config, navigation). Pages live in pages/."""
from __future__ import annotations

import streamlit as st

from etl import warehouse

st.set_page_config(page_title="执法效能", page_icon="🛡️", layout="wide")


def home() -> None:
    st.title("执法效能 · 安全生产执法效能评估")
    path = warehouse.db_path()
    if not path.exists():
        st.warning("数据仓库为空：请导入数据，或运行 `python -m etl demo` 生成演示数据。")
        return
    con = warehouse.connect_read(path)
    try:
        if warehouse.get_meta(con, "demo") == "true":
            st.info("演示数据：本页显示的是合成的演示数据，不是真实执法记录。", icon="🧪")
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in warehouse.RECORD_TABLES}
    finally:
        con.close()
    cols = st.columns(len(counts))
    for col, (t, n) in zip(cols, counts.items()):
        col.metric(t, f"{n:,}")


st.navigation([st.Page(home, title="首页", url_path="home", default=True)]).run()
