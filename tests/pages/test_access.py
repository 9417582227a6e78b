"""Access by role (ui.auth, ui.gate, ui.data): AppTest from the entrypoint with a users file of a
province user, a city user for 330700 金华市, a data admin and a notice staff member (bcrypt at cost
4 for speed), on a copy of the session's demo warehouse.

What is proved: nobody signed in sees only the sign-in form; a wrong password is refused, audited
and rate-limited; the city user sees its own city and counties in full on every page and, for
every other unit, nothing but rank positions — whichever way it asks: the selectors, session
state, URL parameters, the data-layer helpers, the notice panel, the analysis tools and the
Excel/CSV bytes handed to download buttons; pages are hidden and refused by role; open mode (no
users file) is as before.
"""
from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from etl import warehouse
from ops import store
from tests.pages.conftest import APP, ok, open_section, texts
from ui import auth

CITY, CITY_NAME = "330700", "金华市"
PASSWORDS = {"prov": "prov-pass-1", "jinhua": "city-pass-1", "admin": "admin-pass-1", "notice": "notice-pass-1"}
ALL_PAGES = ["pages/overview.py", "pages/ranking.py", "pages/region.py", "pages/analysis.py", "pages/assessment.py",
             "pages/data_import.py", "pages/method.py"]


# --- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def access_db(demo_db, tmp_path_factory):
    """A private copy of the demo warehouse (sign-ins write the audit journal beside it)."""
    db = tmp_path_factory.mktemp("access") / "warehouse.duckdb"
    shutil.copyfile(demo_db, db)
    return db


@pytest.fixture(scope="module")
def users_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("users") / "users.toml"
    h = {u: auth.hash_password(p, rounds=4) for u, p in PASSWORDS.items()}
    auth.save_users(path, {
        "prov": auth.User("prov", "省厅张科长", ("province",), h["prov"]),
        "jinhua": auth.User("jinhua", "金华市应急管理局", ("city",), h["jinhua"], region=CITY),
        "admin": auth.User("admin", "数据管理员", ("data_admin",), h["admin"]),
        "notice": auth.User("notice", "发函员", ("notice_staff",), h["notice"]),
    })
    return path


@pytest.fixture(scope="module")
def geo(access_db):
    """Region codes and names of Zhejiang; the city's own units."""
    con = warehouse.connect_read(access_db)
    try:
        regions = con.execute("SELECT code, name, level, city_code FROM regions WHERE province_code = '330000'").df()
    finally:
        con.close()
    own = set(regions[(regions.code == CITY) | (regions.city_code == CITY)].code)
    cities = regions[regions.level == "市"]
    return dict(own=own, names=dict(zip(regions.code, regions.name)),
                other_cities=dict(zip(cities.code, cities.name)),
                other_counties=set(regions[(regions.level == "县") & ~regions.code.isin(own)].code))


@pytest.fixture(autouse=True)
def signed_in_mode(users_file, access_db, monkeypatch):
    from ui import gate

    monkeypatch.setenv("ENFORCEMENT_USERS", str(users_file))
    monkeypatch.setenv("ENFORCEMENT_DB", str(access_db))
    monkeypatch.delenv("ENFORCEMENT_USER", raising=False)
    gate.LIMITER.reset()
    yield
    gate.LIMITER.reset()


def new_app():
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(APP, default_timeout=120)


def submit_login(at, username: str, password: str):
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button(key="login_go").click()
    return ok(at)


def login(username: str):
    at = ok(new_app())
    submit_login(at, username, PASSWORDS[username])
    assert all(t.key != "login_username" for t in at.text_input), f"{username} could not sign in: {texts(at)}"
    return at


def _registered(at) -> set[str]:
    """The pages the navigation registered in the last run: file stems (callable pages by url path;
    not the root's hidden page that opens the first of them)."""
    from pathlib import Path

    return {Path(str(info["script_path"])).stem if info.get("script_path") else
            str(info.get("url_pathname") or info.get("page_name")) for info in at._registered_pages.values()
            if info.get("script_path") or info.get("url_pathname")}


def journal(db) -> list[dict]:
    """The audit trail's events in the operational store, oldest first."""
    import json

    with store.connect(db) as ops:
        return [{"actor": a, "action": b, "detail": json.loads(d or "{}")}
                for a, b, d in ops.execute("SELECT actor, action, detail FROM audit_log ORDER BY id").fetchall()]


# --- spying on the data layer: every value a page got back ------------------------------------------------
SPIED = {
    "ui.data": ["status", "regions", "kpi_tiles", "kpi_series", "children", "enterprises", "records", "indicators",
                "index", "index_detail", "peer_medians", "score", "warnings", "commendations", "year_on_year",
                "explain", "load_history", "set_aside", "audit_trail"],
    "ui.analysis_data": ["weights", "uncertainty", "robustness", "quality", "outlook", "whatif_index", "whatif_score"],
    "ui.notice_panel": ["notice_data", "log_table", "follow_up"],
}
CODE_ARG = {"kpi_tiles": 2, "kpi_series": 2, "children": 2, "enterprises": 2, "records": 2, "explain": 2}


@pytest.fixture
def spy(monkeypatch):
    import importlib

    calls: list[tuple[str, tuple, object]] = []
    for mod_name, names in SPIED.items():
        mod = importlib.import_module(mod_name)
        for name in names:
            fn = getattr(mod, name)

            def wrapper(*args, _fn=fn, _name=name, **kwargs):
                try:
                    out = _fn(*args, **kwargs)
                except Exception as e:
                    calls.append((_name, args, e))
                    raise
                calls.append((_name, args, out))
                return out

            monkeypatch.setattr(mod, name, wrapper)
    return calls


def frames_of(value) -> list[pd.DataFrame]:
    if isinstance(value, pd.DataFrame):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [f for v in vars(value).values() for f in frames_of(v)]
    return []


def assert_no_leak(calls, own: set[str]) -> int:
    """Every value the data layer gave the pages: rows of units outside `own` carry nothing but
    the public rank columns; per-unit lookups (records, tiles, …) were only of own units."""
    checked = 0
    for name, args, out in calls:
        if isinstance(out, Exception):
            assert isinstance(out, auth.OutOfScope | auth.Forbidden), (name, args, out)
            continue
        if name in CODE_ARG:
            assert str(args[CODE_ARG[name]]) in own, f"{name} served {args[CODE_ARG[name]]}"
        if name == "notice_data":
            assert all(d.unit_code in own for d in out), [d.unit_code for d in out]
        if name == "uncertainty" and out.ranks is not None:
            assert out.ranks.shape[0] == int(out.units["code"].isin(own).sum())
        for df in frames_of(out):
            for col in ("code", "unit_code"):
                if col not in df.columns:
                    continue
                others = df[~df[col].astype(str).isin(own)]
                hidden = [c for c in df.columns if c not in auth.PUBLIC and c != col]
                if name in ("log_table", "follow_up", "quality", "index_detail", "indicators", "year_on_year",
                            "whatif_index", "whatif_score", "children"):
                    assert others.empty, f"{name}: rows of {sorted(set(others[col]))[:5]}"
                leaked = others[hidden].notna().any() if hidden and len(others) else pd.Series(dtype=bool)
                assert not leaked.any(), f"{name}{args[1:4]}: other units' {list(leaked[leaked].index)}"
                checked += 1
    return checked


# --- downloads: the bytes given to download buttons -----------------------------------------------------
@pytest.fixture
def downloads(monkeypatch):
    from streamlit.runtime.media_file_manager import MediaFileManager
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    got: list[tuple[str | None, str, bytes]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def capture(self, path_or_data, mimetype, kind, filename=None):
        if isinstance(path_or_data, bytes):
            got.append((filename, mimetype, path_or_data))
        return original(self, path_or_data, mimetype, kind, filename)

    def capture_deferred(self, data_callable, mimetype, coordinates, file_name=None, **kw):
        data = data_callable()  # what a click would download (the pages make big files only then)
        got.append((file_name, mimetype, data.encode("utf-8") if isinstance(data, str) else data))
        return original_deferred(self, data_callable, mimetype, coordinates, file_name, **kw)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", capture)
    original_deferred = MediaFileManager.add_deferred
    monkeypatch.setattr(MediaFileManager, "add_deferred", capture_deferred)
    return got


# === not signed in ===========================================================================================
def test_nobody_signed_in_sees_only_the_login_form(monkeypatch):
    import ui.data

    def no_data(*a, **k):
        raise AssertionError("the warehouse was read before anyone signed in")

    monkeypatch.setattr(ui.data, "key", no_data)
    at = ok(new_app())
    assert [t.value for t in at.title] == ["执法效能 · 登录"]
    assert {w.key for w in at.text_input} == {"login_username", "login_password"}
    assert [b.key for b in at.button] == ["login_go"]
    assert not at.dataframe and not at.metric and not at.get("vega_lite_chart") and not at.get("download_button")
    assert not at.sidebar.selectbox and not at.sidebar.radio and not at.sidebar.caption
    assert not any(i.get("script_path") for i in at._registered_pages.values()), "only the sign-in screen"
    at.query_params["region"] = CITY          # a deep link changes nothing
    ok(at)
    assert [t.value for t in at.title] == ["执法效能 · 登录"] and not at.dataframe
    at.session_state["region_code"] = CITY    # nor does session state
    ok(at)
    assert [t.value for t in at.title] == ["执法效能 · 登录"] and not at.dataframe


def test_a_wrong_password_is_refused_and_audited_then_the_right_one_signs_in(access_db):
    before = len(journal(access_db))
    at = ok(new_app())
    submit_login(at, "jinhua", "not-the-password")
    assert [e.value for e in at.error] == ["用户名或密码错误。"]
    assert not at.dataframe and [t.value for t in at.title] == ["执法效能 · 登录"]
    submit_login(at, "nosuchuser", "not-the-password")
    assert [e.value for e in at.error] == ["用户名或密码错误。"]   # never says which was wrong
    events = journal(access_db)[before:]
    assert [(e["actor"], e["action"]) for e in events] == [("jinhua", "login.failed"), ("（未知用户名）", "login.failed")]
    assert "nosuchuser" not in str(events)     # what was typed for an unknown name is not kept
    submit_login(at, "jinhua", PASSWORDS["jinhua"])
    assert at.title[0].value.endswith("执法效能总览")
    assert journal(access_db)[-1]["action"] == "login" and journal(access_db)[-1]["actor"] == "jinhua"


def test_five_failures_lock_the_name_for_a_while(access_db):
    at = ok(new_app())
    for _ in range(4):
        submit_login(at, "prov", "wrong-password")
        assert [e.value for e in at.error] == ["用户名或密码错误。"]
    submit_login(at, "prov", "wrong-password")
    assert "失败次数过多" in at.error[0].value
    submit_login(at, "prov", PASSWORDS["prov"])   # even the right password, while locked
    assert "失败次数过多" in at.error[0].value and at.title[0].value == "执法效能 · 登录"
    assert journal(access_db)[-1]["action"] == "login.locked"
    submit_login(at, "ghost", "x" * 9)            # unknown names are locked the same way (no hint)
    assert [e.value for e in at.error] == ["用户名或密码错误。"]


# === the city user ===========================================================================================
def test_city_user_sees_its_city_in_full_and_others_only_as_ranks_on_every_page(spy, downloads, geo, access_db):
    own, names = geo["own"], geo["names"]
    at = login("jinhua")
    assert "jinhua" in " ".join([m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption])
    assert "region" in _registered(at) and "data_import" not in _registered(at)

    # 总览: the tiles are the city's; 分析 › only beside own units
    assert "指标卡片为金华市的数据" in at.caption[0].value
    assert all(b.key.removeprefix("warn_go_") in own for b in at.button if b.key and b.key.startswith("warn_go_"))

    # 排名: own row with its sub-indices, the other cities only rank and index
    at.switch_page("pages/ranking.py")
    ok(at)
    rank = at.dataframe[0].value
    mine = rank[rank["代码"] == CITY].iloc[0]
    assert pd.notna(mine["执法覆盖"]) and pd.notna(mine["指数"])
    others = rank[rank["代码"] != CITY]
    assert len(others) == 10 and others["名次"].notna().all() and others["指数"].notna().all()
    # hidden cells read "— 未公开" (issue 12; they were empty cells the grid drew as None)
    from metrics.scheme import load_scheme

    sub_indices = [g.name for g in load_scheme().require_index().groups]
    assert set(sub_indices) <= set(rank.columns)
    assert others[sub_indices].eq("— 未公开").all().all()

    # 区域分析: only own units to choose from; its indicators, records, counties
    at.switch_page("pages/region.py")
    ok(at)
    assert at.title[0].value == f"区域分析 · {CITY_NAME}"
    assert at.selectbox(key="region_code").options == [f"{CITY_NAME}（{CITY}）"]
    indicators = [d.value for d in at.dataframe if "分子" in d.value.columns][0]
    assert len(indicators) > 10 and indicators["分子"].astype(str).str.strip().ne("").all()
    open_section(at, "逐级下钻")
    counties = at.selectbox(key="drill_county").options[1:]
    assert set(counties) == {names[c] for c in own - {CITY}}
    for kind in ("inspections", "hazards", "cases"):  # the record lists, one at a time when asked for
        at.segmented_control(key="drill_kind").set_value(kind)
        ok(at)
        recs = next(a for n, a, out in reversed(spy) if n == "records" and a[3] == kind)
        assert recs[2] in own
    # one enterprise's hazards also list the backlog its 逾期未整改重大隐患 counts: still the city's records only
    ents = next(out for n, a, out in reversed(spy) if n == "enterprises")
    ent = ents.loc[ents["overdue_major"] > 0, "enterprise_id"].iloc[0]
    at.segmented_control(key="drill_kind").set_value("hazards")
    at.selectbox(key="drill_enterprise").set_value(ent)
    ok(at)
    args, listed = next((a, out) for n, a, out in reversed(spy) if n == "records" and a[3:5] == ("hazards", ent))
    from metrics.sources import mart_table

    con = warehouse.connect_read(access_db)
    try:
        city_hazards = {h for (h,) in con.execute(f"SELECT hazard_id FROM {mart_table('hazards')} "
                                                   "WHERE city_unit = ?", [CITY]).fetchall()}
    finally:
        con.close()
    assert args[2] in own and len(listed) > 0 and set(listed["hazard_id"]) <= city_hazards
    at.selectbox(key="drill_county").set_value(sorted(own - {CITY})[0])
    ok(at)
    open_section(at, "追溯记录")
    if len(at.radio(key="explain_part").options) > 1:
        at.radio(key="explain_part").set_value("denominator")
        ok(at)
    explained = [out for n, a, out in spy if n == "explain"][-1]
    if "agency_code" in explained:
        assert set(explained["agency_code"]) <= own

    # 分析工具: every tool
    at.switch_page("pages/analysis.py")
    ok(at)
    for tool in ("weights", "uncertainty", "quality", "outlook", "whatif"):
        at.radio(key="tools_view").set_value(tool)
        ok(at)
        if tool == "quality":
            flags = [d.value for d in at.dataframe if "原因" in d.value.columns]
            assert all(set(f["代码"]) <= own for f in flags)
        if tool == "whatif":
            assert set(at.dataframe[-1].value["单位"]) <= {names[c] for c in own}

    # 季度考评: others' item points hidden; 分析原因 › only for own units; own notices only, read only
    at.switch_page("pages/assessment.py")
    ok(at)
    sheet = [d.value for d in at.dataframe if "总分" in d.value.columns][0]
    items = [c for c in sheet.columns if c.endswith("）") and "（" in c]
    assert sheet[sheet["代码"] == CITY][items].notna().all().all()
    assert sheet[sheet["代码"] != CITY][items + ["加分", "减分"]].eq("— 未公开").all().all()
    assert all(b.key.removeprefix("assess_go_") in own for b in at.button if b.key and b.key.startswith("assess_go_"))
    assert not [b for b in at.button if b.key in ("notice_issue",)]
    assert "notice_annex" not in {d.key for d in at.get("download_button")}

    # the county level: own counties in full, every other county as a rank
    at.radio(key="level").set_value("county")
    ok(at)
    at.switch_page("pages/region.py")
    ok(at)
    assert {o.rsplit("（", 1)[1].rstrip("）") for o in at.selectbox(key="region_code").options} == own - {CITY}
    at.switch_page("pages/ranking.py")
    ok(at)
    rank = at.dataframe[0].value
    assert rank[~rank["代码"].isin(own)]["执法覆盖"].eq("— 未公开").all()
    assert rank[rank["代码"].isin(own)]["执法覆盖"].notna().any()

    checked = assert_no_leak(spy, own)
    assert checked > 30

    # every Excel / CSV handed to a download button: no other unit's details
    assert_downloads_clean(downloads, own, names)


def assert_downloads_clean(downloads, own: set[str], names: dict[str, str]) -> None:
    other_names = {n for c, n in names.items() if c not in own and c != "330000"}
    seen = set()
    for filename, mime, payload in downloads:
        if filename and filename.endswith(".xlsx"):
            wb = openpyxl.load_workbook(io.BytesIO(payload), read_only=True)
            for ws in wb.worksheets:
                rows = list(ws.iter_rows(values_only=True))
                if not rows or "代码" not in rows[0]:
                    continue
                head = list(rows[0])
                public = {"名次", "变化", "单位", "指数", "分档", "趋势", "代码", "总分", "预警", "说明", "所属市"}
                for r in rows[1:]:
                    if str(r[head.index("代码")]) in own:
                        continue
                    hidden = {h: v for h, v in zip(head, r) if h not in public and not str(h).startswith("20")}
                    assert all(v in (None, "", "— 未公开") for v in hidden.values()), f"{filename}: {r}"
                seen.add(filename)
        elif filename and filename.endswith(".csv"):
            text = payload.decode("utf-8-sig")
            assert not any(n in text for n in other_names if n.endswith("市")), filename
            seen.add(filename)
    assert any(f.endswith("排名.xlsx") for f in seen) and any(f.endswith("得分表.xlsx") for f in seen)
    assert any(f.endswith(".csv") for f in seen)


def test_city_user_cannot_reach_another_city_by_state_url_or_helper(geo, access_db, monkeypatch):
    own, names = geo["own"], geo["names"]
    other_city, other_county = "330100", sorted(geo["other_counties"])[0]

    def refused(at, code):
        assert at.title[0].value == "区域分析", texts(at)
        assert any("无权查看" in e.value and code in e.value for e in at.error)
        assert not at.dataframe and not at.metric and not at.get("vega_lite_chart")

    # session state: the region selector's key, the page-to-page focus
    at = login("jinhua")
    at.session_state["region_code"] = other_city
    at.switch_page("pages/region.py")
    refused(ok(at), other_city)
    ok(at)                                   # the next run is back on the city's own data
    assert at.title[0].value == f"区域分析 · {CITY_NAME}"
    at.session_state["focus_region"] = other_county
    refused(ok(at), other_county)
    # URL parameters: another city, another city's county, nonsense
    for code in (other_city, "331000", other_county):
        at.query_params["region"] = code
        refused(ok(at), code)
    at.query_params["region"] = "'; DROP TABLE regions; --"
    ok(at)
    assert at.title[0].value == f"区域分析 · {CITY_NAME}" and "没有区划代码" in texts(at)
    # a drill-down selector given another city's county falls back to the city itself
    at = login("jinhua")
    at.session_state["drill_county"] = "330106"
    at.session_state["region_section"] = "逐级下钻"
    at.switch_page("pages/region.py")
    ok(at)
    assert at.selectbox(key="drill_county").value == ""
    events = [(e["actor"], e["action"], e["detail"].get("code")) for e in journal(access_db)]
    assert ("jinhua", "access.denied", other_city) in events and ("jinhua", "access.denied", other_county) in events

    # the data layer itself, asked directly as the city user
    from ui import analysis_data as ad, data, gate, notice_panel

    user = auth.load_users(auth.users_path()[0])["jinhua"]
    monkeypatch.setattr(gate, "current", lambda: gate.Access("password", user))
    k, skey = data.key(), data.scheme_key()
    q = data.status(k)["latest_quarter"]
    for code in (other_city, other_county, "330000"):
        for call in (lambda: data.records(k, q, code, "inspections"), lambda: data.records(k, q, code, "cases", None),
                     lambda: data.enterprises(k, q, code), lambda: data.children(k, q, code),
                     lambda: data.kpi_tiles(k, q, code), lambda: data.kpi_series(k, (q,), code),
                     lambda: data.explain(k, q, code, "rectification", "numerator", skey)):
            with pytest.raises(auth.OutOfScope):
                call()
    assert len(data.records(k, q, CITY, "inspections")) > 0
    ix = data.index(k, q, "city", "330000", skey)
    assert ix[ix.code != CITY][["A", "B", "na_count"]].isna().all().all() and ix["rank"].notna().all()
    assert set(data.indicators(k, q, "city", "330000", skey)["code"]) == {CITY}
    assert set(data.index_detail(k, q, "county", "330000", skey)["code"]) <= own
    sheet = data.score(k, q, "city", "330000", skey)
    assert sheet[sheet.code != CITY].filter(like="_points").isna().all().all()
    assert sheet["score"].notna().sum() >= 10           # the published scores stay
    assert set(notice_panel.log_table(k)["unit_code"]) <= own
    assert {d.unit_code for d in notice_panel.notice_data(k, q, "city", "330000", skey, ())} <= own
    assert set(ad.quality(k, q, "city", "330000", skey, tuple(data.status(k)["quarters"])).flags["code"]) <= own
    with pytest.raises(auth.Forbidden):
        data.load_history(k)
    with pytest.raises(auth.Forbidden):
        data.audit_trail()
    with pytest.raises(auth.Forbidden):
        data.import_uploads([])


# === roles ===================================================================================================
def test_pages_follow_the_roles_in_the_navigation_and_in_the_page(monkeypatch):
    expected = {
        "prov": {"overview", "ranking", "region", "analysis", "assessment", "bulletin", "data_import", "method"},
        "notice": {"overview", "ranking", "region", "analysis", "assessment", "bulletin", "method"},
        "admin": {"data_import", "method"},
    }
    for username, pages in expected.items():
        at = login(username)
        assert _registered(at) == pages, username
    at = login("admin")
    assert at.title[0].value == "数据导入"            # its first page opens
    assert not at.metric and "审计" in [t.label for t in at.tabs]

    # defence in depth: a page the navigation would offer by mistake still refuses
    monkeypatch.setitem(auth.PAGE_PERMISSION, "import", None)
    at = login("jinhua")
    at.switch_page("pages/data_import.py")
    ok(at)
    assert any("无权访问数据导入" in e.value for e in at.error)
    assert not at.get("file_uploader") and not at.dataframe


def test_a_users_navigation_is_what_the_page_declarations_allow_its_roles():
    """Derived, not listed: the visible pages of ui/pages_registry.py whose permission the user has."""
    from ui import pages_registry

    users = auth.load_users(auth.users_path()[0])
    for username in ("prov", "jinhua", "admin", "notice"):
        user = users[username]
        expected = {Path(d.file).stem for d in pages_registry.visible(True) if user.can(d.permission)}
        assert _registered(login(username)) == expected, username
        assert ("bulletin" in expected) == user.can("notices")   # the bulletin names every unit: staff only


def test_notices_issued_by_notice_staff_read_only_by_the_city(access_db, tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(access_db, db)
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    from official import config, log as notice_log
    from ops import audit

    config.save(db, {"note": "联系人：张明，电话：0571-87052345"}, actor="test")  # the shipped one is a placeholder
    at = login("notice")
    at.switch_page("pages/assessment.py")
    ok(at)
    at.button(key="notice_issue").click()
    ok(at)
    at.button(key="notice_issue_confirm").click()
    ok(at)
    log = notice_log.notices(db)
    audited = audit.audit_trail(None, db=db, action="login")
    assert len(log) >= 2 and set(log["issued_by"]) == {"notice"} and CITY in set(log["unit_code"])
    assert "notice" in set(audited["who"])   # the sign-in is in the operational store's trail

    at = login("jinhua")
    at.switch_page("pages/assessment.py")
    ok(at)
    table = [d.value for d in at.dataframe if "文号" in d.value.columns and "状态" in d.value.columns]
    assert table and set(table[0]["单位"]) == {CITY_NAME}
    assert at.selectbox(key="notice_preview_unit").options == [
        f"{CITY_NAME}（{log.set_index('unit_code').loc[CITY, 'number']}）"]
    keys = {d.key for d in at.get("download_button")} | {b.key for b in at.button}
    assert "notice_issue" not in keys and "notice_zip" not in keys and "notice_annex" not in keys
    assert not [f for f in at.get("form") if getattr(f, "form_id", "") == "notice_log_form"]
    assert "登记回复 / 办结" not in texts(at)


def test_data_admin_imports_in_its_own_name_and_reads_the_audit_trail(access_db, tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    shutil.copyfile(access_db, db)
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    monkeypatch.setenv("ENFORCEMENT_USER", "someone-else")   # the server's env never names the user
    con = warehouse.connect_read(db)
    ent, agency, day = con.execute("SELECT enterprise_id, agency_code, max(inspection_date) FROM inspections "
                                   "GROUP BY ALL ORDER BY 3 DESC LIMIT 1").fetchone()
    con.close()
    csv = ("检查编号,统一社会信用代码,执法机构区划代码,检查日期,检查方式,移动执法,专家参与\n"
           f"ACCESS-1,{ent},{agency},{day},双随机,是,否\n").encode("utf-8")
    at = login("admin")
    at.get("file_uploader")[0].upload("补录.csv", csv, "text/csv")
    at.button(key="upload_go").click()
    ok(at)
    con = warehouse.connect_read(db)
    try:
        assert con.execute("SELECT loaded_by FROM load_history WHERE file_name = '补录.csv'").fetchone()[0] == "admin"
    finally:
        con.close()
    trail = [d.value for d in at.dataframe if "操作人" in d.value.columns and "详情" in d.value.columns][0]
    assert {"导入文件", "登录"} <= set(trail["操作"])
    assert "补录.csv" in " ".join(trail["详情"])


# === sessions, modes ==========================================================================================
def test_logout_and_a_changed_password_end_the_session(users_file, access_db, tmp_path, monkeypatch):
    at = login("jinhua")
    at.button(key="logout").click()
    ok(at)
    assert at.title[0].value == "执法效能 · 登录" and "region_code" not in at.session_state
    assert journal(access_db)[-1]["action"] == "logout"

    copy = tmp_path / "users.toml"
    shutil.copyfile(users_file, copy)
    monkeypatch.setenv("ENFORCEMENT_USERS", str(copy))
    at = login("jinhua")
    users = auth.load_users(copy)
    users["jinhua"] = dataclasses.replace(users["jinhua"], password_hash=auth.hash_password("new-pass-123", 4))
    auth.save_users(copy, users)
    ok(at)
    assert at.title[0].value == "执法效能 · 登录" and "已变更" in texts(at)


def test_closed_when_the_users_file_is_missing_or_unusable(tmp_path, monkeypatch):
    monkeypatch.setenv("ENFORCEMENT_USERS", str(tmp_path / "missing.toml"))
    at = ok(new_app())
    assert "系统暂不可用" in at.error[0].value and not at.dataframe and not at.text_input
    plain = tmp_path / "plain.toml"
    plain.write_text('[users.a]\nroles = ["province"]\npassword = "secret123"\n', encoding="utf-8")
    monkeypatch.setenv("ENFORCEMENT_USERS", str(plain))
    at = ok(new_app())
    # a visitor is not told which user wrote a plaintext password (the server log is: tests/security)
    assert "系统暂不可用" in at.error[0].value and "明文密码" not in texts(at) and not at.dataframe


def test_oidc_when_auth_is_configured(monkeypatch):
    at = new_app()
    at.secrets["auth"] = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                          "client_id": "id", "client_secret": "s",
                          "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}
    ok(at)
    assert [b.key for b in at.button] == ["oidc_login"] and not at.text_input and not at.dataframe


def test_open_mode_without_a_users_file(monkeypatch, tmp_path):
    monkeypatch.delenv("ENFORCEMENT_USERS")
    at = ok(new_app())
    assert at.title[0].value.endswith("执法效能总览")
    assert any("未配置用户，本机开放使用" in i.value for i in at.sidebar.info)
    assert _registered(at) >= {"data_import", "region"}
    assert "logout" not in {b.key for b in at.button}
