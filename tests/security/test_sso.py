"""Issue 15 item 11: single sign-on maps an identity to a user only by an e-mail the identity
provider marked verified (the OIDC claim ``email_verified``). AppTest from the entrypoint with an
``[auth]`` secret and ``st.user`` as the provider's claims."""
from __future__ import annotations

import pytest

from tests.pages.conftest import APP, texts
from ui import auth

AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "id",
        "client_secret": "s", "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


@pytest.fixture
def sso(demo_db, tmp_path, monkeypatch):
    users = tmp_path / "users.toml"
    auth.save_users(users, {"prov": auth.User("prov", "省厅", ("province",), None, email="prov@example.gov.cn")})
    monkeypatch.setenv("ENFORCEMENT_USERS", str(users))
    monkeypatch.setenv("ENFORCEMENT_DB", str(demo_db))

    def run(claims: dict):
        from streamlit.testing.v1 import AppTest

        at = AppTest.from_file(APP, default_timeout=90)
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": "prov@example.gov.cn", **claims}
        at.run()
        assert not at.exception, at.exception[0].value
        return at

    return run


@pytest.mark.parametrize("claims", [{}, {"email_verified": False}, {"email_verified": "false"}],
                         ids=["claim missing", "false", "string false"])
def test_an_unverified_email_signs_nobody_in(sso, claims):
    at = sso(claims)
    assert "未经身份提供方验证" in texts(at)
    assert not at.dataframe and not at.get("metric")


def test_a_verified_email_signs_its_user_in(sso):
    at = sso({"email_verified": True})
    assert at.title[0].value.endswith("执法效能总览"), texts(at)[:300]


def test_email_verified_claim():
    assert auth.email_verified(True) and auth.email_verified("true")
    assert not any(auth.email_verified(v) for v in (None, False, "false", "", 1, "yes"))
