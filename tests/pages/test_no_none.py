"""No `None`, `nan`, `NaT` or `<NA>` where a user looks (issue 12): every page, as a province user
and as the city user of 金华, shows every missing value as — with its reason.

The grid draws a missing cell as "None" whatever a Styler says (checked in Chromium), so the
exact check is on the data each st.dataframe receives: not one missing cell. The page's text
(titles, captions, alerts, markdown, metrics) must not contain the words either.
tests/pages/test_browser_walk.py checks the same in a real browser, page text and the grid's
own CSV download.
"""
from __future__ import annotations

import re

import pandas as pd
import pytest

from tests.pages.test_access import ALL_PAGES, access_db, login, users_file, signed_in_mode  # noqa: F401
from tests.pages.conftest import ok

BAD = re.compile(r"\bNone\b|\bnan\b|\bNaN\b|\bNaT\b|<NA>")
TOOLS = ["weights", "uncertainty", "quality", "outlook", "whatif"]


def page_text(at) -> str:
    parts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "success", "info", "warning", "error",
                 "metric"):
        for e in getattr(at, kind):
            parts.append(str(e.value))
            if kind == "metric":
                parts += [str(e.label), str(getattr(e, "delta", "") or "")]
    return "\n".join(parts)


def problems(at, where: str) -> list[str]:
    found = []
    for i, d in enumerate(at.dataframe):
        df = d.value
        if isinstance(df, pd.DataFrame) and df.size:
            na = df.isna()
            if na.to_numpy().any():
                cols = [c for c in df.columns if na[c].any()]
                found.append(f"{where}: table {i} ({list(df.columns)[:6]}…) has missing cells in {cols}")
            text = [str(x) for x in df.to_numpy(dtype=object).ravel()]
            bad = sorted({t for t in text if BAD.search(t)})
            if bad:
                found.append(f"{where}: table {i} shows {bad[:5]}")
    m = BAD.search(page_text(at))
    if m:
        txt = page_text(at)
        found.append(f"{where}: page text has {m.group(0)!r}: …{txt[max(0, m.start() - 60):m.end() + 60]}…")
    return found


@pytest.mark.parametrize("user", ["prov", "jinhua"])
def test_every_page_shows_missing_values_with_their_reason(user):
    at = login(user)
    found, tools, tables = [], 0, 0
    for page in [*ALL_PAGES, "pages/bulletin.py"]:
        if page in ("pages/data_import.py", "pages/bulletin.py") and user == "jinhua":
            continue  # not offered to a city user
        at.switch_page(page)
        ok(at)
        found += problems(at, f"{user} {page}")
        tables += len(at.dataframe)
        if page == "pages/analysis.py":
            for tool in TOOLS:
                at.radio(key="tools_view").set_value(tool)
                ok(at)
                found += problems(at, f"{user} {page} {tool}")
                tools += 1
                tables += len(at.dataframe)
    assert not found, "\n".join(found)
    assert tools == len(TOOLS) and tables >= 15, (tools, tables)  # the walk really saw the tools and tables
