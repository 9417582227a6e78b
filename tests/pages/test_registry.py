"""One declaration per page (ui/pages_registry.py): navigation, permissions and URLs derive from it."""
from __future__ import annotations

from pathlib import Path

from tests.pages.conftest import ROOT, ok, texts
from ui import auth, gate, pages_registry


def test_every_page_file_is_declared_once_and_every_declaration_has_a_file():
    files = sorted(p.name for p in (ROOT / "pages").glob("*.py") if p.name != "__init__.py")
    declared = [Path(d.file).name for d in pages_registry.PAGES]
    assert sorted(declared) == files and len(set(declared)) == len(declared)
    for key in ("name", "url_path", "title"):
        values = [getattr(d, key) for d in pages_registry.PAGES]
        assert len(set(values)) == len(values), key
    assert all(d.url_path.isascii() and d.url_path for d in pages_registry.PAGES)
    # the permissions and the sign-in screen's URL paths are the declaration's
    assert auth.PAGE_PERMISSION == {d.name: d.permission for d in pages_registry.PAGES}
    assert set(gate.URL_PATHS) == {d.url_path for d in pages_registry.PAGES}
    # every page file opens with its declaration's check (and nothing repeats its permission)
    for d in pages_registry.PAGES:
        text = (ROOT / d.file).read_text(encoding="utf-8")
        assert "gate.page(__file__)" in text and "gate.require(" not in text, d.file


def _nav(at) -> set[str]:
    """File names of the visible pages the navigation registered in the last run."""
    return {Path(str(i["script_path"])).name for i in at._registered_pages.values() if i.get("script_path")}


def test_the_root_opens_the_first_page_under_its_own_address(app):
    at = ok(app())
    assert at.title[0].value.endswith("总览")
    assert _nav(at) == {Path(d.file).name for d in pages_registry.visible(True)}


def test_region_in_the_address_round_trips(app, demo_db):
    """?region= opens that unit on 区域分析, stays in the address, and follows the choice; a
    county's code given while cities are shown switches the level to counties."""
    from etl import warehouse

    con = warehouse.connect_read(demo_db)
    names = dict(con.execute("SELECT code, name FROM regions WHERE code IN ('330723', '330700', '330100')").fetchall())
    con.close()
    at = app()
    at.query_params["region"] = "330723"       # 武义县, a county of 金华市
    ok(at)
    at.switch_page("pages/region.py")
    ok(at)
    assert at.title[0].value == f"区域分析 · {names['330723']}"
    assert at.radio(key="level").value == "county"
    assert at.selectbox(key="region_code").value == "330723"
    assert at.query_params["region"] == "330723"
    # another unit chosen: the address follows, and the old address does not pull it back
    other = next(c for c in at.selectbox(key="region_code").options if "330723" not in c)
    code = other[other.index("（") + 1:-1]
    at.selectbox(key="region_code").set_value(code)
    ok(at)
    assert at.query_params["region"] == code and at.title[0].value.startswith("区域分析")
    ok(at)
    assert at.selectbox(key="region_code").value == code
    at.switch_page("pages/ranking.py")           # away and back: the same unit, still in the address
    ok(at)
    at.switch_page("pages/region.py")
    ok(at)
    assert at.selectbox(key="region_code").value == code and at.query_params["region"] == code

    at = app()                                   # a city's code at city level: no level change
    at.query_params["region"] = "330700"
    ok(at)
    at.switch_page("pages/region.py")
    ok(at)
    assert at.title[0].value == f"区域分析 · {names['330700']}" and at.radio(key="level").value == "city"


def test_sidebar_values_and_buttons_survive_the_legacy_pages_mode(app):
    """Every AppTest run starts in Streamlit's legacy pages-folder mode, which runs a page file
    alone (a fresh server's first run does the same); the frame then runs inside the page
    (ui.gate.page). The sidebar keeps what was chosen on another page, and a button pressed on a
    page still acts."""
    at = ok(app())
    at.radio(key="level").set_value("county")
    ok(at)
    at.radio(key="period_kind").set_value("year")
    ok(at)
    at.selectbox(key="period").set_value("2024")
    ok(at)
    for page in ("pages/ranking.py", "pages/region.py", "pages/ranking.py"):
        at.switch_page(page)
        ok(at)
        assert (at.radio(key="level").value, at.radio(key="period_kind").value, at.selectbox(key="period").value) \
            == ("county", "year", "2024"), page
        assert "2024" in at.title[0].value or "2024" in texts(at), page
    at.radio(key="level").set_value("city")          # changed on a page, kept on the next
    ok(at)
    at.switch_page("pages/region.py")
    ok(at)
    assert at.radio(key="level").value == "city" and at.selectbox(key="period").value == "2024"
    at.radio(key="period_kind").set_value("quarter")
    at.switch_page("pages/overview.py")
    ok(at)
    button = next(b for b in at.button if b.key and b.key.startswith("warn_go_"))
    code = button.key.removeprefix("warn_go_")       # a press on a page (not the root) still counts
    button.click()
    ok(at)
    assert at.title[0].value.startswith("区域分析") and at.selectbox(key="region_code").value == code
