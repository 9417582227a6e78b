"""Sign-in throttling (ops.lockout through ui.gate.attempt), driven the way issue 15 found it:

- item 3: attempts on a locked name grew the audit journal by a line each (about 3 a second per
  session), folded later one query per event under the warehouse's writer lock. Now they are
  counted — the trail grows by a bounded number of rows however many attempts — and recording
  never waits for the warehouse's writer lock.
- item 10: five wrong passwords locked any known name for 15 minutes, in one process's memory,
  with no limit per address. Now the lock is in the operational store (a second process sees it),
  the locked name still signs in from another address after a short back-off, and one address
  is blocked after 20 failures across names.
"""
from __future__ import annotations

import multiprocessing
import threading
import time

import bcrypt
import pytest

from etl import warehouse
from ops import lockout, store
from ui import auth, gate

PASSWORD = "right-password"


@pytest.fixture(scope="module")
def users():
    h = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()   # cheap rounds: many attempts
    return {n: auth.User(n, n, ("province",), password_hash=h) for n in ["prov", *(f"u{k}" for k in range(30))]}


@pytest.fixture
def clock(db, monkeypatch):
    """The app's limiter on this test's warehouse, with a clock the test moves."""
    now = [1_000_000.0]
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    monkeypatch.setattr(gate, "LIMITER", lockout.Lockout(clock=lambda: now[0]))
    return now


def audit_rows(db) -> list[tuple]:
    with store.connect(db) as ops:
        return [tuple(r) for r in ops.execute("SELECT actor, action, detail FROM audit_log ORDER BY id").fetchall()]


def test_policy_per_name_window_and_release(db):
    now = [1000.0]
    lo = lockout.Lockout(db, clock=lambda: now[0])
    for _ in range(4):
        assert not lo.failure("Zhang", "10.0.0.1").name_locked
        now[0] += 100
    assert lo.check("zhang", "10.0.0.1", reserve=False).left == 0
    now[0] += 200                      # at 1600 the first failure (1000) has left the 10-minute window
    assert not lo.failure("zhang", "10.0.0.1").name_locked
    assert lo.failure(" ZHANG ", "10.0.0.1").name_locked == 900   # 5 within 10 minutes
    assert lo.check("zhang", "10.0.0.1", reserve=False).left == 900
    assert lo.check("other", "10.0.0.1", reserve=False).left == 0
    now[0] += 899
    assert lo.check("zhang", "10.0.0.1", reserve=False).left == 1
    now[0] += 1
    c = lo.check("zhang", "10.0.0.1", reserve=False)
    assert c.left == 0 and [s["refused"] for s in c.summaries] == [2]   # the two refused, handed back once
    assert lo.check("zhang", "10.0.0.1", reserve=False).summaries == ()
    lo.failure("zhang", "10.0.0.1")
    lo.success("zhang", "10.0.0.1")
    assert all(not lo.failure("zhang", "10.0.0.1").name_locked for _ in range(4))


def test_attempts_on_a_locked_name_are_counted_not_journaled(db, users, clock):
    for _ in range(5):
        assert gate.attempt(users, "prov", "wrong-password", "10.0.0.9")[0] is None
    base = len(audit_rows(db))
    assert [a for _, a, _ in audit_rows(db)].count("login.locked") == 1
    t0 = time.perf_counter()
    for _ in range(1000):                         # ~6 minutes of the 3-a-second retries the issue saw
        user, msg = gate.attempt(users, "prov", PASSWORD, "10.0.0.9")
        assert user is None and "失败次数过多" in msg
    per_attempt = (time.perf_counter() - t0) / 1000
    assert len(audit_rows(db)) == base              # not one line per attempt
    assert per_attempt < 0.05, per_attempt
    # once the lock is over, one line says how many attempts it turned away
    clock[0] += 901
    user, _ = gate.attempt(users, "prov", PASSWORD, "10.0.0.9")
    assert user is not None
    rows = audit_rows(db)[base:]
    assert [a for _, a, _ in rows] == ["login.refused", "login"]
    assert '"refused": 1000' in rows[0][2]


def test_recording_never_waits_for_the_warehouse_writer_lock(db, users, clock):
    with warehouse.writer_lock(warehouse.db_path(db)):   # a long load holds the warehouse
        t0 = time.perf_counter()
        for _ in range(6):
            gate.attempt(users, "prov", "wrong-password", "10.0.0.9")
        assert time.perf_counter() - t0 < 2
    # five failures and one lock; in what order the five finish their bcrypt is the threads' affair
    actions = [a for _, a, _ in audit_rows(db)]
    assert sorted(actions) == ["login.failed"] * 5 + ["login.locked"] and actions[0] == "login.failed"


def test_a_locked_name_signs_in_from_another_address_after_a_short_back_off(db, users, clock):
    for _ in range(5):
        gate.attempt(users, "prov", "wrong-password", "203.0.113.5")      # someone else's wrong guesses
    assert "失败次数过多" in gate.attempt(users, "prov", PASSWORD, "10.1.1.1")[1]   # at once: held briefly
    clock[0] += 61
    user, msg = gate.attempt(users, "prov", PASSWORD, "10.1.1.1")           # the administrator, at her desk
    assert user is not None and user.username == "prov", msg
    for _ in range(5):
        gate.attempt(users, "prov", "wrong-password", "203.0.113.5")
    clock[0] += 61
    assert "失败次数过多" in gate.attempt(users, "prov", PASSWORD, "203.0.113.5")[1]  # the guesser waits 15 min


def test_one_address_cannot_try_a_password_across_every_name(db, users, clock):
    names = [n for n in users if n != "prov"]
    refused = 0
    for n in names:                                # one password tried on every name, from one address
        user, msg = gate.attempt(users, n, "Winter2025!", "198.51.100.7")
        refused += "本机登录失败次数过多" in msg
    assert refused == len(names) - 20 + 1          # the 20th failure blocks the address
    assert "本机登录失败次数过多" in gate.attempt(users, "prov", PASSWORD, "198.51.100.7")[1]
    assert [a for _, a, _ in audit_rows(db)].count("login.failed") == 20
    # nobody else is locked out: no name reached five failures, and other addresses sign in
    assert gate.attempt(users, "u0", PASSWORD, "10.2.2.2")[0] is not None
    assert gate.attempt(users, "prov", PASSWORD, "10.2.2.2")[0] is not None


def _fail_in_another_process(db: str, out) -> None:
    import os

    os.environ["ENFORCEMENT_DB"] = db
    lo = lockout.Lockout()
    out.put([lo.failure("prov", "203.0.113.5").name_locked for _ in range(5)])


def test_two_processes_share_the_lockout(db, users, monkeypatch):
    monkeypatch.setenv("ENFORCEMENT_DB", str(db))
    monkeypatch.setattr(gate, "LIMITER", lockout.Lockout())
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    p = ctx.Process(target=_fail_in_another_process, args=(str(db), out))
    p.start()
    assert out.get(timeout=60)[-1] == 900
    p.join(timeout=60)
    user, msg = gate.attempt(users, "prov", PASSWORD, "203.0.113.5")   # this process: locked too
    assert user is None and "失败次数过多" in msg


def _parallel_guesses(monkeypatch, users, names: list[str], password: str, address: str) -> tuple[int, list[str]]:
    """Every name's guess at once, one thread each (as many sessions or app processes would):
    (how many reached the password check, the messages). The check is slowed as bcrypt's real
    cost makes it, so that every guess is in flight before the first is counted."""
    evaluated = []
    real = auth.authenticate

    def slow(users_, name, password_):
        evaluated.append(name)
        time.sleep(0.3)
        return real(users_, name, password_)

    monkeypatch.setattr(auth, "authenticate", slow)
    go = threading.Barrier(len(names))
    messages = [None] * len(names)

    def one(i: int) -> None:
        go.wait()
        messages[i] = gate.attempt(users, names[i], password, address)[1]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(names))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return len(evaluated), messages


def test_parallel_wrong_guesses_cannot_pass_the_name_limit(db, users, clock, monkeypatch):
    """Twelve wrong passwords for one name fired at once: five are checked (the limit), the other
    seven are refused before bcrypt, and the name is locked once."""
    evaluated, messages = _parallel_guesses(monkeypatch, users, ["prov"] * 12, "wrong-password", "203.0.113.9")
    assert evaluated == 5
    assert sum(m == "用户名或密码错误。" for m in messages) == 4
    assert sum(m.startswith("用户名或密码错误。登录失败次数过多") for m in messages) == 1
    assert sum(m.startswith("登录失败次数过多") for m in messages) == 7
    # five failures and one lock; in what order the five finish their bcrypt is the threads' affair
    actions = [a for _, a, _ in audit_rows(db)]
    assert sorted(actions) == ["login.failed"] * 5 + ["login.locked"] and actions[0] == "login.failed"
    assert "失败次数过多" in gate.attempt(users, "prov", PASSWORD, "203.0.113.9")[1]   # locked, as in sequence


def test_parallel_guesses_across_names_cannot_pass_the_address_limit(db, users, clock, monkeypatch):
    names = [n for n in users if n != "prov"]        # 30 names, one guess each, one address, all at once
    evaluated, messages = _parallel_guesses(monkeypatch, users, names, "Winter2025!", "198.51.100.8")
    assert evaluated == 20
    assert sum("本机登录失败次数过多" in m for m in messages) == len(names) - 20 + 1
    assert [a for _, a, _ in audit_rows(db)].count("login.failed") == 20


def test_a_right_password_hands_its_reservation_back(db, users, clock):
    """The attempt that would be an address's 20th failure blocks it while it is checked; when its
    password is right, the block and the reservation go, and the 19 failures before it stay."""
    for k in range(19):
        gate.attempt(users, f"u{k}", "wrong-password", "198.51.100.9")
    user, msg = gate.attempt(users, "u19", PASSWORD, "198.51.100.9")
    assert user is not None, msg
    assert gate.attempt(users, "u20", "wrong-password", "198.51.100.9")[1].startswith(
        "用户名或密码错误。本机登录失败次数过多")           # the 20th failure, as before
    # a name's fifth attempt locks it while it is checked; a right one unlocks it
    for _ in range(4):
        gate.attempt(users, "u21", "wrong-password", "10.3.3.3")
    assert gate.attempt(users, "u21", PASSWORD, "10.3.3.3")[0] is not None
    assert gate.attempt(users, "u21", "wrong-password", "10.3.3.3")[1] == "用户名或密码错误。"
