"""The yardstick of bench_browser: Streamlit's own floor, a page with the overview's title and one
KPI tile and nothing else (no frame, no data). What a new browser session waits for here, no page
of the app can beat on the same machine."""
import streamlit as st

st.title("浙江省安全生产执法效能总览")
st.metric("执法检查次数", "1,234", "+3.2%", border=True)
