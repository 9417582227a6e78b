"""通报 page (AppTest from the entrypoint): the preview shows the bulletin's own sentences and
tables, the downloads are a .docx, an .xlsx and the brief; 区域分析 opens on the unit's strengths
and priority issues (metrics.priorities); a city user can neither see nor open the 通报 page."""
from __future__ import annotations

import io

import docx
import duckdb
import openpyxl
import pytest

from metrics.bulletin import build_bulletin
from metrics.index import index_detail
from metrics.priorities import summary, unit_priorities
from metrics.scheme import load_scheme
from tests.pages.conftest import APP, ok, texts
from ui import auth


def _downloads(monkeypatch) -> dict[str, bytes]:
    """The bytes handed to download buttons, by file name."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    got: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def capture(self, path_or_data, mimetype, kind, filename=None):
        if filename and isinstance(path_or_data, bytes):
            got[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)
    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
    return got


def test_bulletin_page_previews_and_downloads(app, demo_db, monkeypatch):
    got = _downloads(monkeypatch)
    at = ok(app())
    at.switch_page("pages/bulletin.py")
    ok(at)
    assert at.title[0].value == "执法情况通报"
    period = at.selectbox(key="bulletin_period").value
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        b = build_bulletin(con, period, "city", "330000", load_scheme())
    finally:
        con.close()
    page = texts(at)
    for s in b.sections:
        assert f"#### {s.heading}" in page
    first = next(bl.text for bl in b.sections[0].blocks if bl.kind == "p")
    assert first in page.replace("\\", "")       # the bulletin's own sentence, unescaped
    assert len(at.get("download_button")) == 3
    docx_name = next(n for n in got if n.endswith("通报.docx"))
    d = docx.Document(io.BytesIO(got[docx_name]))
    assert first in [p.text for p in d.paragraphs]
    wb = openpyxl.load_workbook(io.BytesIO(next(v for n, v in got.items() if n.endswith("附件.xlsx"))))
    assert wb.sheetnames == ["附件1", "附件2", "附件3"]
    assert any(n.endswith("执法工作简况.docx") for n in got)
    # another period: the year
    assert f"{period[:4]}年" in at.selectbox(key="bulletin_period").options
    at.selectbox(key="bulletin_period").set_value(period[:4])
    ok(at)
    assert "#### 四、预警与表扬" in texts(at) and "予以通报表扬" in texts(at)


def test_region_opens_on_strengths_and_priority_issues(app, demo_db):
    at = ok(app())
    at.switch_page("pages/region.py")
    ok(at)
    code = at.selectbox(key="region_code").value
    period = at.selectbox(key="period").value
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        sc = load_scheme()
        good, bad = summary(unit_priorities(index_detail(con, period, "city", "330000", sc), code, sc), sc)
    finally:
        con.close()
    md = [m.value for m in at.markdown]
    assert any(good in m and bad in m for m in md), "the strengths and priority issues block is missing"
    assert md.index(next(m for m in md if good in m)) < md.index(next(m for m in md if "主要失分" in m))


@pytest.fixture
def city_user(tmp_path, demo_db, monkeypatch):
    path = tmp_path / "users.toml"
    auth.save_users(path, {"jinhua": auth.User("jinhua", "金华市应急管理局", ("city",),
                                                auth.hash_password("city-pass-1", rounds=4), region="330700")})
    monkeypatch.setenv("ENFORCEMENT_USERS", str(path))
    monkeypatch.setenv("ENFORCEMENT_DB", str(demo_db))
    from ui import gate
    gate.LIMITER.reset()
    yield
    gate.LIMITER.reset()


def test_a_city_user_neither_sees_nor_opens_the_bulletin(city_user, monkeypatch):
    from streamlit.testing.v1 import AppTest

    def sign_in():
        at = ok(AppTest.from_file(APP, default_timeout=120))
        at.text_input(key="login_username").input("jinhua")
        at.text_input(key="login_password").input("city-pass-1")
        at.button(key="login_go").click()
        return ok(at)

    at = sign_in()
    paths = {str(info.get("script_path") or "") for info in at._registered_pages.values()}
    assert any(p.endswith("overview.py") for p in paths)
    assert not any(p.endswith("bulletin.py") for p in paths)
    assert all(b.key != "overview_brief_make" for b in at.button)
    # defence in depth: offered by mistake, the page still refuses
    monkeypatch.setitem(auth.PAGE_PERMISSION, "bulletin", None)
    at = sign_in()
    at.switch_page("pages/bulletin.py")
    ok(at)
    assert "无权访问通报" in texts(at)
    assert not at.get("download_button")
