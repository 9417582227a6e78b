"""Who may use the app and what they may see: users, roles, data scope — the pure part of access.

No Streamlit, no etl or metrics here: the login gate (ui.gate), the data layer (ui.data), the
users CLI (``python -m ui.users``) and the tests all use these functions.

The users file
--------------
TOML at ``$ENFORCEMENT_USERS``, else ``data/users.toml`` (gitignored; see users.example.toml)::

    [users.jinhua]
    name = "金华市应急管理局"
    roles = ["city"]
    region = "330700"                 # city users only: the city code (GB/T 2260)
    email = "zhang@jh.example.gov.cn" # optional: the OIDC login that maps to this user
    password_hash = "$2b$12$…"        # bcrypt; never a password

Roles (a user may hold several; ``city`` stands alone):

============  ========================================================================
province      every page and every unit's data; imports; notices; the audit trail
city          the reading pages; full data for its city and the counties inside it,
              other units only as rank positions (code, name, rank, published index /
              score); its own notices, read only
data_admin    数据导入 (uploads, templates, load history, set-aside rows) and the audit trail
notice_staff  the reading pages and the 提醒敦促函: issue, record replies, close
============  ========================================================================

Without a users file (at the default path) the app runs open for local use — and only for this
machine: the server listens on 127.0.0.1 (.streamlit/config.toml) and the app refuses open mode to
a request from another address (``is_local``). A users file named by $ENFORCEMENT_USERS that is
missing, or one that does not parse, closes it.
"""
from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ui import pages_registry

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_USERS = ROOT / "data" / "users.toml"
USERS_ENV = "ENFORCEMENT_USERS"

ROLES = {
    "province": "省厅",
    "city": "设区市",
    "data_admin": "数据管理员",
    "notice_staff": "发函人员",
}
# what each role may do: read (the reading pages), import, notices (issue/reply/close), audit
PERMISSIONS = {
    "province": frozenset({"read", "import", "notices", "audit"}),
    "city": frozenset({"read"}),
    "data_admin": frozenset({"import", "audit"}),
    "notice_staff": frozenset({"read", "notices"}),
}
# the permission each page needs (None: any signed-in user), as ui/pages_registry.py declares it
PAGE_PERMISSION = dict(pages_registry.PAGE_PERMISSION)
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$")
CITY_CODE = re.compile(r"^\d{4}00$")
BCRYPT_HASH = re.compile(r"^\$2[aby]\$(\d{2})\$[./A-Za-z0-9]{53}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
MIN_PASSWORD = 8
MAX_PASSWORD_BYTES = 72     # bcrypt reads no further (bcrypt 5 refuses longer ones)
DEFAULT_ROUNDS = 12
FIELDS = {"name", "roles", "region", "email", "password_hash"}


class UsersFileError(ValueError):
    """The users file cannot be used (syntax, a plaintext password, an unknown role, ...)."""


class OutOfScope(PermissionError):
    """A unit's details were asked for by a user whose scope does not cover it."""


class Forbidden(PermissionError):
    """An action was asked for by a user whose roles do not allow it."""


# --- users -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class User:
    username: str
    name: str
    roles: tuple[str, ...]
    password_hash: str | None = None
    region: str | None = None
    email: str | None = None

    @property
    def permissions(self) -> frozenset[str]:
        out: set[str] = set()
        for r in self.roles:
            out |= PERMISSIONS[r]
        return frozenset(out)

    def can(self, permission: str | None) -> bool:
        return permission is None or permission in self.permissions

    def can_page(self, page: str) -> bool:
        return self.can(PAGE_PERMISSION.get(page, "read"))

    @property
    def scoped(self) -> bool:
        """True for a city user: full data only for its own city and counties."""
        return "city" in self.roles

    @property
    def fingerprint(self) -> str:
        """Changes when the user's password, roles or region change (sessions then end)."""
        text = "|".join([self.username, self.password_hash or "", ",".join(self.roles), self.region or "",
                         (self.email or "").lower()])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def describe(self, region_name: str | None = None) -> str:
        roles = "、".join(ROLES[r] for r in self.roles)
        where = f" · {region_name or self.region}" if self.region else ""
        return f"{roles}{where}"


def users_path() -> tuple[Path, bool]:
    """(the users file's path, whether $ENFORCEMENT_USERS named it)."""
    env = os.environ.get(USERS_ENV)
    return (Path(env), True) if env else (DEFAULT_USERS, False)


def check_user(u: User) -> None:
    """Raise UsersFileError for an entry that breaks a rule."""
    where = f"用户 {u.username!r}"
    if not USERNAME.match(u.username):
        raise UsersFileError(f"{where}：用户名只能由字母、数字和 _ . @ - 组成（不超过 64 个字符），且以字母或数字开头")
    if not u.roles:
        raise UsersFileError(f"{where}：至少需要一个角色（{'、'.join(ROLES)}）")
    unknown = [r for r in u.roles if r not in ROLES]
    if unknown:
        raise UsersFileError(f"{where}：未知角色 {'、'.join(unknown)}（可选：{'、'.join(ROLES)}）")
    if len(set(u.roles)) != len(u.roles):
        raise UsersFileError(f"{where}：角色重复")
    if "city" in u.roles:
        if len(u.roles) > 1:
            raise UsersFileError(f"{where}：city 角色不能与其他角色同时持有（其他角色面向全省数据）")
        if not u.region or not CITY_CODE.match(u.region) or u.region.endswith("0000"):
            raise UsersFileError(f"{where}：city 用户需要设区市的区划代码（6 位、以 00 结尾，如 330700），而不是 {u.region!r}")
    elif u.region:
        raise UsersFileError(f"{where}：只有 city 用户可以设置 region")
    if u.password_hash is not None and not BCRYPT_HASH.match(u.password_hash):
        raise UsersFileError(f"{where}：password_hash 不是 bcrypt 散列（以 $2b$ 开头、共 60 个字符）；"
                             "请用 python -m ui.users passwd 设置密码")
    if u.password_hash is None and not u.email:
        raise UsersFileError(f"{where}：既没有 password_hash 也没有 email，无法登录")
    if u.email is not None and not EMAIL.match(u.email):
        raise UsersFileError(f"{where}：email {u.email!r} 格式不对")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in u.name):
        raise UsersFileError(f"{where}：显示名称含控制字符")


def parse_users(text: str, source: str = "users.toml") -> dict[str, User]:
    """The users of a users file's text, by username; UsersFileError says what is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise UsersFileError(f"{source}：TOML 语法错误：{e}") from None
    extra = set(raw) - {"users"}
    if extra:
        raise UsersFileError(f"{source}：未知的顶层项 {'、'.join(sorted(extra))}（只允许 [users.用户名]）")
    table = raw.get("users", {})
    if not isinstance(table, dict):
        raise UsersFileError(f"{source}：users 应是表（[users.用户名]）")
    users: dict[str, User] = {}
    emails: dict[str, str] = {}
    for username, entry in table.items():
        if not isinstance(entry, dict):
            raise UsersFileError(f"{source}：users.{username} 应是表")
        if "password" in entry or "passwd" in entry:
            raise UsersFileError(f"{source}：用户 {username!r} 写有明文密码；用户文件只能保存 bcrypt 散列"
                                 "（python -m ui.users passwd），请删除该项")
        unknown = set(entry) - FIELDS
        if unknown:
            raise UsersFileError(f"{source}：用户 {username!r} 有未知字段 {'、'.join(sorted(unknown))}"
                                 f"（可用：{'、'.join(sorted(FIELDS))}）")
        roles = entry.get("roles", [])
        if isinstance(roles, str):
            roles = [roles]
        for k in ("name", "region", "email", "password_hash"):
            if k in entry and not isinstance(entry[k], str):
                raise UsersFileError(f"{source}：用户 {username!r} 的 {k} 应是字符串")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise UsersFileError(f"{source}：用户 {username!r} 的 roles 应是字符串列表")
        u = User(username=str(username), name=entry.get("name") or str(username), roles=tuple(roles),
                 password_hash=entry.get("password_hash") or None, region=entry.get("region") or None,
                 email=entry.get("email") or None)
        check_user(u)
        if u.email:
            other = emails.get(u.email.lower())
            if other:
                raise UsersFileError(f"{source}：用户 {other!r} 与 {username!r} 的 email 相同")
            emails[u.email.lower()] = u.username
        users[u.username] = u
    return users


def load_users(path: str | os.PathLike) -> dict[str, User]:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise UsersFileError(f"{p}：不是 UTF-8 文本") from None
    return parse_users(text, str(p))


def _toml_str(s: str) -> str:
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


HEADER = """# 执法效能 users (python -m ui.users add|list|remove|passwd). Passwords are stored only as bcrypt hashes.
# Roles: province (all) | city (region = its city code) | data_admin (imports) | notice_staff (notices).
"""


def dump_users(users: dict[str, User]) -> str:
    lines = [HEADER]
    for u in sorted(users.values(), key=lambda u: u.username):
        lines.append(f"[users.{_toml_str(u.username)}]")
        lines.append(f"name = {_toml_str(u.name)}")
        lines.append("roles = [" + ", ".join(_toml_str(r) for r in u.roles) + "]")
        if u.region:
            lines.append(f"region = {_toml_str(u.region)}")
        if u.email:
            lines.append(f"email = {_toml_str(u.email)}")
        if u.password_hash:
            lines.append(f"password_hash = {_toml_str(u.password_hash)}")
        lines.append("")
    return "\n".join(lines)


def save_users(path: str | os.PathLike, users: dict[str, User]) -> None:
    """Write the users file atomically, readable by its owner only (0600)."""
    for u in users.values():
        check_user(u)
    text = dump_users(users)
    assert parse_users(text) == users  # what is written reads back the same
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    finally:
        if tmp.exists():
            tmp.unlink()


# --- passwords -------------------------------------------------------------------------------------
def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_PASSWORD:
        return f"密码至少 {MIN_PASSWORD} 个字符"
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"密码不能超过 {MAX_PASSWORD_BYTES} 字节（UTF-8；一个汉字 3 字节）"
    if password.strip() != password:
        return "密码首尾不能有空白"
    return None


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    import bcrypt

    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode("ascii")


_dummy: dict[int, bytes] = {}


def _dummy_hash(rounds: int) -> bytes:
    """A hash to check unknown usernames against, so that they take as long as known ones."""
    import bcrypt

    if rounds not in _dummy:
        _dummy[rounds] = bcrypt.hashpw(os.urandom(16).hex().encode(), bcrypt.gensalt(rounds))
    return _dummy[rounds]


def check_password(password_hash: str | None, password: str) -> bool:
    import bcrypt

    if not password_hash:
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:  # a password over 72 bytes (bcrypt 5), a damaged hash
        return False


def authenticate(users: dict[str, User], username: str, password: str) -> User | None:
    """The user whose name and password these are, else None. Always runs one bcrypt check, so
    an unknown username answers as slowly as a wrong password."""
    u = users.get(username.strip())
    if u is None or not u.password_hash:
        costs = [int(m.group(1)) for x in users.values() if x.password_hash
                 and (m := BCRYPT_HASH.match(x.password_hash))]
        check_password(_dummy_hash(max(costs) if costs else DEFAULT_ROUNDS).decode(), password)
        return None
    return u if check_password(u.password_hash, password) else None


def email_verified(flag) -> bool:
    """Whether the identity provider vouched for the e-mail (the OIDC claim ``email_verified``):
    only an explicit true counts; a missing claim does not."""
    if isinstance(flag, str):
        return flag.strip().lower() == "true"
    return flag is True


def user_for_email(users: dict[str, User], email: str | None) -> User | None:
    """OIDC: the users-file entry whose email is the identity provider's (case-insensitive)."""
    if not email:
        return None
    email = email.strip().lower()
    return next((u for u in users.values() if u.email and u.email.lower() == email), None)


# --- where a request comes from -----------------------------------------------------------------------
FORWARDING_HEADERS = ("x-forwarded-for", "x-real-ip", "forwarded")


def _loopback(text: str | None) -> bool:
    text = (text or "").strip().strip('"').strip()
    if text.startswith("[") and "]" in text:          # [::1]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:                          # 127.0.0.1:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return text.lower() == "localhost"


def is_local(ip: str | None, headers=None) -> bool:
    """True when a request comes from this machine: its address is a loopback one (None: Streamlit's
    way of saying localhost) and no proxy header names another machine. Open mode (no users file,
    full rights) serves only such requests; anything unparsable counts as remote."""
    if ip is not None and not _loopback(ip):
        return False
    for name, value in (headers or {}).items():
        name = str(name).lower()
        if name == "forwarded":
            parts = [p.split("=", 1)[1] for p in str(value).replace(",", ";").split(";")
                     if p.strip().lower().startswith("for=")]
        elif name in FORWARDING_HEADERS:
            parts = str(value).split(",")
        else:
            continue
        if not all(_loopback(p) for p in parts):
            return False
    return True


OPEN_REMOTE = ("本系统未配置用户文件，以本机开放模式运行（不需登录、拥有全部权限），只接受本机访问。"
               "要让其他电脑使用，请管理员先建立用户文件（python -m ui.users add 用户名 --role province），"
               "再按 README「部署」一节配置。")


# --- failed logins: ops.lockout (in the operational store, shared by every app process) -------------


# --- data scope ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scope:
    """Which units' details a user may see: all (``full``), or ``codes`` (a city and its counties).
    Every other unit appears only as a rank position."""
    full: bool
    codes: frozenset[str] = field(default_factory=frozenset)
    home: str | None = None

    def sees(self, code) -> bool:
        return self.full or (code is not None and str(code) in self.codes)

    def check(self, code) -> None:
        if not self.sees(code):
            raise OutOfScope(f"无权查看 {code} 的数据")


FULL = Scope(True)
NOBODY = Scope(False)


def scope_for(user: User | None, regions: Iterable[tuple[str, str | None]] = ()) -> Scope:
    """The scope of `user` (None: nobody signed in → nothing). `regions`: (code, city_code) of the
    warehouse's regions, to find the counties inside a city."""
    if user is None:
        return NOBODY
    if not user.scoped:
        return FULL
    home = str(user.region)
    codes = {home} | {str(c) for c, city in regions if city is not None and str(city) == home}
    return Scope(False, frozenset(codes), home)


# columns of a unit that anyone may see for every unit: its rank position and published figure
PUBLIC = frozenset({"code", "name", "rank", "index", "score", "warned", "assessed", "reason", "group", "peers",
                    "level", "parent_code", "city_code", "mean_score", "quarters", "commended",
                    "Q1", "Q2", "Q3", "Q4", "expert_index", "expert_rank", "rank_before", "index_before",
                    "score_before", "warned_before"})
# not public: a unit's rank under entropy, PCA or CRITIC weights (or how far it moves) is computed
# from its indicators — four such ranks narrow down what its sub-indices are


def limit_units(df: pd.DataFrame, scope: Scope, keep: Iterable[str] = PUBLIC, code: str = "code") -> pd.DataFrame:
    """`df` with every column but `keep` blanked (NA) on the rows of units outside `scope`."""
    if scope.full or df is None or df.empty or code not in df.columns:
        return df
    out = df.copy()
    hidden = ~out[code].astype(str).isin(scope.codes)
    if not hidden.any():
        return out
    keep = set(keep)
    for col in out.columns:
        if col not in keep:
            out[col] = out[col].mask(hidden)
    return out


def only_units(df: pd.DataFrame, scope: Scope, code: str = "code") -> pd.DataFrame:
    """The rows of `df` whose `code` column is a unit inside `scope`."""
    if scope.full or df is None or code not in getattr(df, "columns", ()):
        return df
    return df[df[code].astype(str).isin(scope.codes)].reset_index(drop=True)
