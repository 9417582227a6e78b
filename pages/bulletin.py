"""通报: the quarterly and annual enforcement bulletin (执法情况通报) — being built (issue 13)."""
from __future__ import annotations

import streamlit as st

from ui import gate

gate.page(__file__)
st.title("通报")
st.info("执法情况通报页面建设中。", icon=":material/construction:")
