"""Issue 15 item 6: a city user opening 分析工具 → 权重比较 sees, for units outside its city, only
the published rank and index (expert weights), not their ranks under entropy, PCA or CRITIC
weights. AppTest from the entrypoint, signed in through the form as the city user of 330700."""
from __future__ import annotations

import pandas as pd
import pytest

from tests.pages.conftest import APP, ok, table
from ui import auth

CITY = "330700"


@pytest.fixture
def city_app(demo_db, tmp_path, monkeypatch):
    users = tmp_path / "users.toml"
    auth.save_users(users, {"jinhua": auth.User("jinhua", "金华市应急管理局", ("city",),
                                                auth.hash_password("city-pass-1", 4), CITY)})
    monkeypatch.setenv("ENFORCEMENT_USERS", str(users))
    monkeypatch.setenv("ENFORCEMENT_DB", str(demo_db))
    from streamlit.testing.v1 import AppTest

    at = ok(AppTest.from_file(APP, default_timeout=120))
    at.text_input(key="login_username").input("jinhua")
    at.text_input(key="login_password").input("city-pass-1")
    at.button(key="login_go").click()
    return ok(at)


def shows_a_number(v) -> bool:
    """A cell that tells a figure (blank, NA or a placeholder such as "— 未公开" does not)."""
    return not pd.isna(v) and any(ch.isdigit() for ch in str(v))


def test_city_user_sees_other_units_weight_ranks_only_as_published(city_app):
    at = city_app
    at.switch_page("pages/analysis.py")
    ok(at)
    view = table(at, "单位", "专家权重名次", "熵权法名次")
    mine = view["单位"] == "金华市"
    assert mine.sum() == 1 and len(view) == 11
    others = view[~mine]
    assert others["专家权重名次"].notna().all()  # the published rank stays
    objective = [c for c in view.columns if any(w in c for w in ("熵权", "主成分", "CRITIC", "最大名次变动"))]
    assert len(objective) == 4, list(view.columns)
    for col in objective:
        assert not [v for v in others[col] if shows_a_number(v)], (col, others[col].tolist())
        assert all(shows_a_number(v) for v in view.loc[mine, col]), col  # its own unit in full
