"""ui.auth (users file, passwords, rate limit, scope, masking) and the users CLI (python -m ui.users):
pure functions, no Streamlit."""
from __future__ import annotations

import dataclasses
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import bcrypt
import pandas as pd
import pytest

from ui import auth, users as cli

ROOT = Path(__file__).resolve().parents[2]


def h(password: str = "secret-123") -> str:
    return auth.hash_password(password, rounds=4)


def user(name="u", roles=("province",), **kw) -> auth.User:
    return auth.User(name, kw.pop("display", name), tuple(roles), kw.pop("password_hash", h()), **kw)


# --- the users file ---------------------------------------------------------------------------------------
def test_save_and_load_round_trip_with_only_hashes(tmp_path):
    path = tmp_path / "users.toml"
    users = {
        "prov": user("prov", ("province", "notice_staff"), display="省厅 \"张\"\\科长"),
        "jinhua": user("jinhua", ("city",), region="330700", email="Zhang@JH.example.gov.cn"),
        "sso.only": auth.User("sso.only", "统一认证", ("data_admin",), None, email="a@b.cn"),
    }
    auth.save_users(path, users)
    assert auth.load_users(path) == users
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    text = path.read_text(encoding="utf-8")
    assert "secret-123" not in text and text.count("$2b$04$") == 2


@pytest.mark.parametrize("toml, message", [
    ('[users.a]\nroles = ["province"]\npassword = "hunter22"\n', "明文密码"),
    ('[users.a]\nroles = ["province"]\npassword_hash = "hunter22"\n', "bcrypt"),
    ('[users.a]\nroles = ["boss"]\npassword_hash = "HASH"\n', "未知角色"),
    ('[users.a]\nroles = []\npassword_hash = "HASH"\n', "至少需要一个角色"),
    ('[users.a]\nroles = ["city"]\npassword_hash = "HASH"\n', "区划代码"),
    ('[users.a]\nroles = ["city"]\nregion = "330702"\npassword_hash = "HASH"\n', "区划代码"),
    ('[users.a]\nroles = ["city", "province"]\nregion = "330700"\npassword_hash = "HASH"\n', "不能与其他角色"),
    ('[users.a]\nroles = ["province"]\nregion = "330700"\npassword_hash = "HASH"\n', "只有 city"),
    ('[users.a]\nrole = ["province"]\npassword_hash = "HASH"\n', "未知字段"),
    ('[users.a]\nroles = ["province"]\n', "无法登录"),
    ('[users."a b"]\nroles = ["province"]\npassword_hash = "HASH"\n', "用户名"),
    ('[users.a]\nroles = ["province"]\nemail = "x@y"\n[users.b]\nroles = ["province"]\nemail = "X@Y"\n', "email 相同"),
    ('[users.a\nroles = 1', "TOML"),
    ('admin = "x"\n', "顶层"),
])
def test_unusable_users_files_are_refused_with_the_reason(toml, message):
    with pytest.raises(auth.UsersFileError, match=message):
        auth.parse_users(toml.replace("HASH", h()))


def test_the_shipped_example_parses_and_holds_no_credentials():
    text = (ROOT / "users.example.toml").read_text(encoding="utf-8")
    assert auth.parse_users(text) == {}
    assert "python -m ui.users add" in text


def test_users_path_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(auth.USERS_ENV, str(tmp_path / "u.toml"))
    assert auth.users_path() == (tmp_path / "u.toml", True)
    monkeypatch.delenv(auth.USERS_ENV)
    assert auth.users_path() == (auth.DEFAULT_USERS, False)


# --- passwords ----------------------------------------------------------------------------------------------
def test_authenticate_right_wrong_unknown_and_overlong():
    users = {"a": user("a", password_hash=h("correct-horse")), "sso": auth.User("sso", "s", ("province",), None,
                                                                                  email="s@x.cn")}
    assert auth.authenticate(users, "a", "correct-horse") == users["a"]
    assert auth.authenticate(users, " a ", "correct-horse") == users["a"]
    assert auth.authenticate(users, "a", "correct-horsE") is None
    assert auth.authenticate(users, "nobody", "correct-horse") is None
    assert auth.authenticate(users, "sso", "") is None            # an OIDC-only user has no password
    assert auth.authenticate(users, "a", "长" * 40) is None         # over bcrypt's 72 bytes: refused, no crash
    assert bcrypt.checkpw(b"correct-horse", users["a"].password_hash.encode())


def test_new_passwords_are_checked():
    assert auth.password_problem("short") and auth.password_problem("长" * 25)
    assert auth.password_problem(" padded-pass ")
    assert auth.password_problem("good-enough-1") is None
    with pytest.raises(ValueError):
        auth.hash_password("short", rounds=4)


def test_fingerprint_changes_with_password_roles_and_region():
    u = user("a", ("city",), region="330700")
    for changed in (dataclasses.replace(u, password_hash=h("another-1")), dataclasses.replace(u, region="330100"),
                    dataclasses.replace(u, roles=("province",), region=None)):
        assert changed.fingerprint != u.fingerprint
    assert dataclasses.replace(u, name="新名字").fingerprint == u.fingerprint


def test_roles_and_permissions():
    city, admin = user("c", ("city",), region="330700"), user("d", ("data_admin",))
    both = user("p", ("data_admin", "notice_staff"))
    assert city.can_page("region") and not city.can_page("import") and not city.can("notices") and city.scoped
    assert admin.can_page("import") and not admin.can_page("overview") and admin.can("audit") and not admin.scoped
    assert both.can("notices") and both.can("import") and both.can_page("assessment")
    assert all(user("x", (r,), region="330700" if r == "city" else None).can_page("method") for r in auth.ROLES)


def test_oidc_email_maps_to_a_user_case_insensitively():
    users = auth.parse_users('[users.a]\nroles = ["city"]\nregion = "330700"\nemail = "Li@JH.gov.cn"\n'
                             '[users.b]\nroles = ["province"]\nemail = "b@zj.gov.cn"\n')
    assert auth.user_for_email(users, " li@jh.GOV.cn ").username == "a"
    assert auth.user_for_email(users, "c@zj.gov.cn") is None
    assert auth.user_for_email(users, None) is None and auth.user_for_email(users, "") is None


# --- rate limit: tests/ops/test_lockout.py (ops.lockout) ---------------------------------------------


# --- scope and masking --------------------------------------------------------------------------------------
REGIONS = [("330000", None), ("330100", "330100"), ("330102", "330100"), ("330700", "330700"),
           ("330702", "330700"), ("330782", "330700")]


def test_scope_of_each_kind_of_user():
    city = auth.scope_for(user("c", ("city",), region="330700"), REGIONS)
    assert city.codes == {"330700", "330702", "330782"} and city.home == "330700" and not city.full
    assert city.sees("330782") and not city.sees("330100") and not city.sees("330000") and not city.sees(None)
    with pytest.raises(auth.OutOfScope):
        city.check("330102")
    assert auth.scope_for(user("p"), REGIONS) is auth.FULL
    assert auth.scope_for(None) is auth.NOBODY and not auth.NOBODY.sees("330700")


def test_limit_units_blanks_all_but_rank_columns_of_other_units():
    scope = auth.scope_for(user("c", ("city",), region="330700"), REGIONS)
    df = pd.DataFrame({"code": ["330100", "330700"], "name": ["杭州市", "金华市"], "rank": pd.array([1, 2], "Int64"),
                       "index": [90.0, 70.0], "A": [88.0, 60.0], "warned": [False, True],
                       "na_count": pd.array([0, 1], "Int64"), "flags": ["x", "y"], "ok": [True, False]})
    out = auth.limit_units(df, scope)
    assert out.loc[0, ["code", "name", "rank", "index", "warned"]].tolist() == ["330100", "杭州市", 1, 90.0, False]
    assert out.loc[0, ["A", "na_count", "flags", "ok"]].isna().all()
    assert out.loc[1].tolist() == df.loc[1].tolist()
    assert df.loc[0, "A"] == 88.0                             # the cached frame is untouched
    assert auth.limit_units(df, auth.FULL) is df
    assert auth.only_units(df, scope)["code"].tolist() == ["330700"]
    assert auth.only_units(df.rename(columns={"code": "unit_code"}), scope, "unit_code")["name"].tolist() == ["金华市"]


# --- the CLI ----------------------------------------------------------------------------------------------------
def run_cli(monkeypatch, capsys, *args, stdin: str = ""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_add_list_passwd_remove(tmp_path, monkeypatch, capsys):
    f = str(tmp_path / "users.toml")
    assert run_cli(monkeypatch, capsys, "--file", f, "add", "jinhua", "--role", "city", "--region", "330700",
                   "--name", "金华市应急管理局", "--password-stdin", "--rounds", "4", stdin="city-pass-1\n")[0] == 0
    assert run_cli(monkeypatch, capsys, "--file", f, "add", "zhang", "--role", "province,notice_staff",
                   "--password-stdin", "--rounds", "4", stdin="prov-pass-1\n")[0] == 0
    users = auth.load_users(f)
    assert users["jinhua"].roles == ("city",) and users["jinhua"].region == "330700"
    assert users["zhang"].roles == ("province", "notice_staff")
    assert auth.authenticate(users, "jinhua", "city-pass-1")
    assert "city-pass-1" not in Path(f).read_text(encoding="utf-8")
    code, out, _ = run_cli(monkeypatch, capsys, "--file", f, "list")
    assert code == 0 and "jinhua\t金华市应急管理局\tcity\t330700\t密码" in out and "$2b$" not in out

    old = users["jinhua"].password_hash
    assert run_cli(monkeypatch, capsys, "--file", f, "passwd", "jinhua", "--password-stdin", "--rounds", "4",
                   stdin="city-pass-2\n")[0] == 0
    users = auth.load_users(f)
    assert users["jinhua"].password_hash != old and auth.authenticate(users, "jinhua", "city-pass-2")
    assert run_cli(monkeypatch, capsys, "--file", f, "remove", "zhang")[0] == 0
    assert set(auth.load_users(f)) == {"jinhua"}


@pytest.mark.parametrize("args, stdin, message", [
    (["add", "x", "--role", "city"], "long-enough-1\n", "区划代码"),
    (["add", "x", "--role", "boss"], "long-enough-1\n", "未知角色"),
    (["add", "x", "--role", "province"], "short\n", "至少"),
    (["add", "jinhua", "--role", "province"], "long-enough-1\n", "已存在"),
    (["passwd", "nobody"], "long-enough-1\n", "没有用户"),
    (["remove", "nobody"], "", "没有用户"),
])
def test_cli_refusals(tmp_path, monkeypatch, capsys, args, stdin, message):
    f = str(tmp_path / "users.toml")
    auth.save_users(f, {"jinhua": user("jinhua", ("city",), region="330700")})
    before = Path(f).read_bytes()
    extra = ["--password-stdin", "--rounds", "4"] if args[0] != "remove" else []
    code, _, err = run_cli(monkeypatch, capsys, "--file", f, *args, *extra, stdin=stdin)
    assert code == 1 and message in err
    assert Path(f).read_bytes() == before


def test_cli_as_a_module_reads_the_environment(tmp_path):
    f = tmp_path / "users.toml"
    env = {**os.environ, "PYTHONPATH": str(ROOT), auth.USERS_ENV: str(f)}
    done = subprocess.run([sys.executable, "-m", "ui.users", "add", "admin", "--role", "data_admin",
                           "--password-stdin", "--rounds", "4"], input="admin-pass-1\n", text=True,
                          capture_output=True, env=env, cwd=ROOT, timeout=60)
    assert done.returncode == 0, done.stderr
    assert auth.load_users(f)["admin"].roles == ("data_admin",)
    assert "streamlit" not in subprocess.run(
        [sys.executable, "-c", "import sys, ui.auth, ui.users; print(sorted(m for m in sys.modules))"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=60).stdout
    usage = subprocess.run([sys.executable, "-m", "ui.users", "frobnicate"], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=60)
    assert usage.returncode == 2
