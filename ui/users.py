"""Manage the app's users file without editing hashes by hand.

    python -m ui.users add NAME --role city --region 330700 [--name 显示名称] [--email x@y]
    python -m ui.users add NAME --role province --role notice_staff
    python -m ui.users list
    python -m ui.users passwd NAME
    python -m ui.users remove NAME

The password is asked twice on the terminal, or read from the first line of standard input with
--password-stdin (for scripts). Only its bcrypt hash is written. --file PATH (default
$ENFORCEMENT_USERS, else data/users.toml). Exit status: 0 done, 1 refused, 2 wrong usage.
A user signed in to the app is signed out at once when its password, roles or region change.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ui import auth


def _path(args) -> Path:
    return Path(args.file) if args.file else auth.users_path()[0]


def _load(path: Path) -> dict[str, auth.User]:
    return auth.load_users(path) if path.exists() else {}


def _password(args) -> str:
    if args.password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
    else:
        password = getpass.getpass("密码：")
        if getpass.getpass("再输入一次：") != password:
            raise auth.UsersFileError("两次输入的密码不一致")
    problem = auth.password_problem(password)
    if problem:
        raise auth.UsersFileError(problem)
    return password


def _roles(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or []:
        out += [r.strip() for r in v.split(",") if r.strip()]
    return tuple(dict.fromkeys(out))


def cmd_add(args) -> int:
    path = _path(args)
    users = _load(path)
    if args.username in users:
        raise auth.UsersFileError(f"用户 {args.username!r} 已存在（改密码用 passwd，改角色先 remove 再 add）")
    roles = _roles(args.role)
    draft = auth.User(args.username, args.name or args.username, roles, "$2b$04$" + "." * 53, args.region, args.email)
    auth.check_user(draft)  # refuse a wrong role or region before asking for the password
    password_hash = None if args.no_password else auth.hash_password(_password(args), args.rounds)
    user = auth.User(args.username, args.name or args.username, roles, password_hash, args.region, args.email)
    auth.check_user(user)
    users[user.username] = user
    auth.save_users(path, users)
    print(f"已添加 {user.username}（{user.describe()}）→ {path}")
    return 0


def cmd_passwd(args) -> int:
    path = _path(args)
    users = _load(path)
    if args.username not in users:
        raise auth.UsersFileError(f"没有用户 {args.username!r}")
    u = users[args.username]
    users[u.username] = auth.User(u.username, u.name, u.roles, auth.hash_password(_password(args), args.rounds),
                                  u.region, u.email)
    auth.save_users(path, users)
    print(f"已更新 {u.username} 的密码")
    return 0


def cmd_remove(args) -> int:
    path = _path(args)
    users = _load(path)
    if args.username not in users:
        raise auth.UsersFileError(f"没有用户 {args.username!r}")
    del users[args.username]
    auth.save_users(path, users)
    print(f"已删除 {args.username}")
    return 0


def cmd_list(args) -> int:
    path = _path(args)
    if not path.exists():
        print(f"没有用户文件（{path}）：应用以本机开放模式运行", file=sys.stderr)
        return 0
    for u in sorted(_load(path).values(), key=lambda u: u.username):
        login = "密码" if u.password_hash else ""
        if u.email:
            login += ("、" if login else "") + f"统一认证 {u.email}"
        print(f"{u.username}\t{u.name}\t{','.join(u.roles)}\t{u.region or ''}\t{login}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m ui.users", description="管理执法效能的用户文件（只保存 bcrypt 散列）")
    p.add_argument("--file", help="用户文件（默认 $ENFORCEMENT_USERS，否则 data/users.toml）")
    sub = p.add_subparsers(dest="cmd", required=True)

    a = sub.add_parser("add", help="添加用户")
    a.add_argument("username")
    a.add_argument("--role", action="append", required=True,
                   help=f"角色，可重复或用逗号分隔：{', '.join(auth.ROLES)}")
    a.add_argument("--region", help="city 用户的设区市区划代码，如 330700")
    a.add_argument("--name", help="显示名称（默认同用户名）")
    a.add_argument("--email", help="统一身份认证（OIDC）登录时对应的邮箱")
    a.add_argument("--no-password", action="store_true", help="只用统一身份认证登录（需 --email）")
    a.set_defaults(fn=cmd_add)

    w = sub.add_parser("passwd", help="设置新密码")
    w.add_argument("username")
    w.set_defaults(fn=cmd_passwd)

    for sp in (a, w):
        sp.add_argument("--password-stdin", action="store_true", help="从标准输入第一行读取密码")
        sp.add_argument("--rounds", type=int, default=auth.DEFAULT_ROUNDS, help=argparse.SUPPRESS)

    r = sub.add_parser("remove", help="删除用户")
    r.add_argument("username")
    r.set_defaults(fn=cmd_remove)

    sub.add_parser("list", help="列出用户（不显示散列）").set_defaults(fn=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "rounds", auth.DEFAULT_ROUNDS) not in range(4, 32):
        print("--rounds 应在 4–31 之间", file=sys.stderr)
        return 2
    try:
        return args.fn(args)
    except auth.UsersFileError as e:
        print(f"错误：{e}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, EOFError):
        print("\n已取消", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
