"""Line numbers for keys of a TOML file, so a scheme error can name the line.

tomllib reports lines only for syntax errors. This scans an already-valid TOML text once and
records, for every key path ('index', 'nodes', 3, 'weight'), the line where it is written:
table headers, `key = value` lines, keys inside inline tables and elements of arrays.
"""
from __future__ import annotations

import bisect
import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")


class Locator:
    def __init__(self, text: str):
        self.text = text
        self.lines: dict[tuple, int] = {}
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]
        try:
            self._scan()
        except (IndexError, ValueError):  # never let locating a message hide the message
            pass

    def line(self, path: tuple) -> int | None:
        """The line of ``path``, else of its nearest recorded ancestor."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    # --- scanning ---------------------------------------------------------------------------
    def _line_of(self, i: int) -> int:
        return bisect.bisect_right(self._starts, i)

    def _record(self, path: tuple, i: int) -> None:
        self.lines.setdefault(path, self._line_of(i))

    def _skip(self, i: int, newlines: bool) -> int:
        t = self.text
        while i < len(t):
            c = t[i]
            if c in " \t\r" or (newlines and c == "\n"):
                i += 1
            elif c == "#":
                while i < len(t) and t[i] != "\n":
                    i += 1
            else:
                break
        return i

    def _key(self, i: int) -> tuple[tuple, int]:
        parts = []
        t = self.text
        while True:
            i = self._skip(i, False)
            if t[i] in "\"'":
                j = self._string_end(i)
                parts.append(t[i + 1:j - 1])
                i = j
            else:
                m = _BARE.match(t, i)
                if not m:
                    raise ValueError("no key")
                parts.append(m.group())
                i = m.end()
            i = self._skip(i, False)
            if i < len(t) and t[i] == ".":
                i += 1
                continue
            return tuple(parts), i

    def _string_end(self, i: int) -> int:
        t = self.text
        q = t[i]
        if t.startswith(q * 3, i):
            j = t.index(q * 3, i + 3)
            while t.startswith(q, j + 3):  # up to two quotes may close a multi-line string
                j += 1
            return j + 3
        j = i + 1
        while t[j] != q:
            j += 2 if (q == '"' and t[j] == "\\") else 1
        return j + 1

    def _value(self, i: int, path: tuple) -> int:
        t = self.text
        i = self._skip(i, True)
        self._record(path, i)
        c = t[i]
        if c == "{":
            i += 1
            while True:
                i = self._skip(i, True)
                if t[i] == "}":
                    return i + 1
                key, i = self._key(i)
                self._record(path + key, i - 1)
                i = self._skip(i, False)
                i = self._value(i + 1, path + key)  # past '='
                i = self._skip(i, True)
                if t[i] == ",":
                    i += 1
        if c == "[":
            i += 1
            n = 0
            while True:
                i = self._skip(i, True)
                if t[i] == "]":
                    return i + 1
                i = self._value(i, path + (n,))
                n += 1
                i = self._skip(i, True)
                if t[i] == ",":
                    i += 1
        if c in "\"'":
            return self._string_end(i)
        while i < len(t) and t[i] not in ",]}\n#":
            i += 1
        return i

    def _scan(self) -> None:
        t = self.text
        table: tuple = ()
        counts: dict[tuple, int] = {}
        i = 0
        while True:
            i = self._skip(i, True)
            if i >= len(t):
                return
            if t.startswith("[[", i):
                key, i = self._key(i + 2)
                n = counts.get(key, 0)
                counts[key] = n + 1
                table = key + (n,)
                self._record(key, i)
                self._record(table, i)
                i = t.index("]]", i) + 2
            elif t[i] == "[":
                start = i
                key, i = self._key(i + 1)
                table = key
                self._record(table, start)
                i = t.index("]", i) + 1
            else:
                start = i
                key, i = self._key(i)
                self._record(table + key, start)
                i = self._skip(i, False)
                i = self._value(i + 1, table + key)
