"""Failed sign-ins and lockouts, kept in the operational store (ops.store) so every app process
behind the proxy sees the same state, and bounded so that they cannot be turned against users.

- **Per name**: ``name_failures`` wrong passwords for one user name within ``name_window`` seconds
  lock that name for ``name_lock`` seconds — for the address the failures came from. From any
  other address the name is held only ``other_backoff`` seconds (a shorter back-off), so someone
  who knows a colleague's user name cannot keep that colleague (or the province administrator)
  out by typing wrong passwords.
- **Per client address**: ``client_failures`` wrong passwords from one address within
  ``client_window`` seconds, whatever the names, block that address for ``client_block`` seconds:
  one address cannot try a password across many names, nor lock everyone's names in turn.
- **Refused attempts are counted, not journaled**: an attempt while locked or blocked costs one
  small UPDATE (a counter and the first/last time), never a bcrypt check and never an audit row;
  when the lock is over the count is handed back once (``Check.summary``) for a single
  ``login.refused`` line. The audit trail therefore grows by a bounded number of rows per name
  and per address, however fast someone retries.

- **An attempt is reserved before its password is checked**: ``check`` counts it as a failure in
  the same transaction that found the name and address free (and locks or blocks at once when it
  is the one that reaches a limit), ``failure`` confirms it, ``success`` hands the reservation
  back. Without that, parallel wrong guesses (several sessions, processes or a script firing at
  once) would all pass ``check`` before the first ``failure`` was written, and bcrypt would
  evaluate more guesses than the limit allows.

The clock is injectable (tests); times are epoch seconds.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from dataclasses import dataclass

from ops import store

LOCAL = "local"     # Streamlit reports this machine (or the proxy in front of it) as no address


@dataclass(frozen=True)
class Policy:
    name_failures: int = 5
    name_window: float = 600
    name_lock: float = 900
    other_backoff: float = 60
    client_failures: int = 20
    client_window: float = 600
    client_block: float = 900


@dataclass(frozen=True)
class Failure:
    """What a counted failure started: the name locked (seconds), the address blocked (seconds)."""
    name_locked: float = 0.0
    client_blocked: float = 0.0


@dataclass(frozen=True)
class Check:
    """Whether an attempt may go on: ``left`` seconds to wait (0: go on), ``why`` (name | client),
    and ``summaries`` of locks that have run out ({what, refused, first, last}) to journal once.
    An attempt that may go on holds a reservation: ``reserved`` (its time in the failure lists)
    and ``pending`` (the lock or block it started, kept if the password is wrong)."""
    left: float = 0.0
    why: str | None = None
    summaries: tuple[dict, ...] = ()
    reserved: float | None = None
    pending: Failure = Failure()


def _key(name: str) -> str:
    return (name or "").strip().lower()[:128]


def _addr(address) -> str:
    return str(address)[:64] if isinstance(address, str) and address else LOCAL


def _iso(t: float | None) -> str | None:
    return None if t is None else dt.datetime.fromtimestamp(t).isoformat(timespec="seconds")


class Lockout:
    """Sign-in throttling over the operational store of warehouse ``db`` (None: the default)."""

    def __init__(self, db: str | os.PathLike | None = None, policy: Policy | None = None, clock=time.time):
        self.db, self.policy, self.clock = db, policy or Policy(), clock

    @property
    def lockout(self) -> float:
        return self.policy.name_lock

    def _name_row(self, ops, key: str):
        ops.execute("INSERT OR IGNORE INTO login_names (name) VALUES (?)", [key])
        return ops.execute("SELECT * FROM login_names WHERE name = ?", [key]).fetchone()

    def _client_row(self, ops, addr: str):
        ops.execute("INSERT OR IGNORE INTO login_clients (address) VALUES (?)", [addr])
        return ops.execute("SELECT * FROM login_clients WHERE address = ?", [addr]).fetchone()

    def check(self, name: str, address=None, reserve: bool = True) -> Check:
        """Before the password is checked: refuse (and count) while the address is blocked or the
        name is locked for it; else reserve the attempt (``reserve``; False only asks), which the
        caller then settles with ``failure`` or ``success``, passing this Check."""
        key, addr, now, p = _key(name), _addr(address), self.clock(), self.policy
        summaries = []
        with store.transaction(self.db, durable=False) as ops:
            c = self._client_row(ops, addr)
            if c["refused"] and c["blocked_until"] <= now:   # a block is over: hand its count back once
                summaries.append({"what": "client", "refused": c["refused"], "first": _iso(c["first_refused"]),
                                  "last": _iso(c["last_refused"])})
                ops.execute("UPDATE login_clients SET refused = 0, first_refused = NULL, last_refused = NULL "
                            "WHERE address = ?", [addr])
            if c["blocked_until"] > now:
                ops.execute("UPDATE login_clients SET refused = refused + 1, first_refused = coalesce(first_refused, ?), "
                            "last_refused = ? WHERE address = ?", [now, now, addr])
                return Check(c["blocked_until"] - now, "client")
            n = self._name_row(ops, key)
            until = n["locked_until"]
            if until and n["locked_from"] != addr:
                until = min(until, (until - p.name_lock) + p.other_backoff)   # another address: a short back-off
            if until > now:
                ops.execute("UPDATE login_names SET refused = refused + 1, first_refused = coalesce(first_refused, ?), "
                            "last_refused = ? WHERE name = ?", [now, now, key])
                return Check(until - now, "name", tuple(summaries))
            if n["refused"] and n["locked_until"] <= now:   # the lock is over: hand its count back once
                summaries.append({"what": "name", "refused": n["refused"], "first": _iso(n["first_refused"]),
                                  "last": _iso(n["last_refused"])})
                ops.execute("UPDATE login_names SET refused = 0, first_refused = NULL, last_refused = NULL "
                            "WHERE name = ?", [key])
            if not reserve:
                return Check(0.0, None, tuple(summaries))
            return Check(0.0, None, tuple(summaries), now, self._reserve(ops, key, addr, n, c, now))

    def _reserve(self, ops, key: str, addr: str, n, c, now: float) -> Failure:
        """Count the attempt about to be checked as a failure of the name and of the address, in
        check's transaction; when it reaches a limit, lock the name (for this address) or block the
        address now, so that an attempt running beside it is refused. What it started is returned:
        ``failure`` keeps it, ``success`` undoes it."""
        p = self.policy
        fails = [t for t in json.loads(n["failures"]) if t > now - p.name_window] + [now]
        locks = len(fails) >= p.name_failures
        ops.execute("UPDATE login_names SET failures = ?, locked_until = CASE WHEN ? THEN ? ELSE locked_until END, "
                    "locked_from = CASE WHEN ? THEN ? ELSE locked_from END WHERE name = ?",
                    [json.dumps(fails), locks, now + p.name_lock, locks, addr, key])
        fails = [t for t in json.loads(c["failures"]) if t > now - p.client_window] + [now]
        blocks = len(fails) >= p.client_failures
        ops.execute("UPDATE login_clients SET failures = ?, blocked_until = CASE WHEN ? THEN ? ELSE blocked_until END "
                    "WHERE address = ?", [json.dumps(fails), blocks, now + p.client_block, addr])
        return Failure(p.name_lock if locks else 0.0, p.client_block if blocks else 0.0)

    def failure(self, name: str, address=None, check: Check | None = None) -> Failure:
        """Count a wrong password for ``name`` from ``address``; lock or block when a limit is reached.
        With the ``check`` that let the attempt go on, its reservation is the count: kept as it is
        (a lock it started begins, as any, with an empty list of failures)."""
        key, addr, now, p = _key(name), _addr(address), self.clock(), self.policy
        if check is not None and check.reserved is not None:
            if check.pending.name_locked or check.pending.client_blocked:
                with store.transaction(self.db, durable=False) as ops:
                    if check.pending.name_locked:
                        ops.execute("UPDATE login_names SET failures = '[]' WHERE name = ?", [key])
                    if check.pending.client_blocked:
                        ops.execute("UPDATE login_clients SET failures = '[]' WHERE address = ?", [addr])
            return check.pending
        out = Failure()
        with store.transaction(self.db, durable=False) as ops:
            n = self._name_row(ops, key)
            fails = [t for t in json.loads(n["failures"]) if t > now - p.name_window] + [now]
            if len(fails) >= p.name_failures:
                ops.execute("UPDATE login_names SET failures = '[]', locked_until = ?, locked_from = ? WHERE name = ?",
                            [now + p.name_lock, addr, key])
                out = Failure(name_locked=p.name_lock)
            else:
                ops.execute("UPDATE login_names SET failures = ? WHERE name = ?", [json.dumps(fails), key])
            c = self._client_row(ops, addr)
            fails = [t for t in json.loads(c["failures"]) if t > now - p.client_window] + [now]
            if len(fails) >= p.client_failures:
                ops.execute("UPDATE login_clients SET failures = '[]', blocked_until = ? WHERE address = ?",
                            [now + p.client_block, addr])
                out = Failure(out.name_locked, p.client_block)
            else:
                ops.execute("UPDATE login_clients SET failures = ? WHERE address = ?", [json.dumps(fails), addr])
        return out

    def success(self, name: str, address=None, check: Check | None = None) -> None:
        """A right password: the name's failures and lock are forgotten; the address's reservation
        (``check``'s) is handed back, with the block it started, and its other failures stay."""
        with store.transaction(self.db, durable=False) as ops:
            ops.execute("UPDATE login_names SET failures = '[]', locked_until = 0, locked_from = NULL WHERE name = ?",
                        [_key(name)])
            if check is None or check.reserved is None:
                return
            addr = _addr(address)
            row = ops.execute("SELECT failures, blocked_until FROM login_clients WHERE address = ?", [addr]).fetchone()
            if row is None:
                return
            fails = json.loads(row["failures"])
            if check.reserved in fails:
                fails.remove(check.reserved)
            blocked = row["blocked_until"]
            if check.pending.client_blocked and blocked == check.reserved + check.pending.client_blocked:
                blocked = 0.0   # the block this attempt's reservation started (not a later one)
            ops.execute("UPDATE login_clients SET failures = ?, blocked_until = ? WHERE address = ?",
                        [json.dumps(fails), blocked, addr])

    def reset(self) -> None:
        with store.transaction(self.db, durable=False) as ops:
            ops.execute("DELETE FROM login_names")
            ops.execute("DELETE FROM login_clients")
