"""The data contract, read from contract.toml: tables, columns, header matching.

Header matching follows the contract: trim, full-width/half-width folding (NFKC), spaces
ignored; the canonical name is accepted as well as the Chinese header.
"""
from __future__ import annotations

import difflib
import tomllib
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

CONTRACT_FILE = Path(__file__).with_name("contract.toml")


def fold(text: object) -> str:
    """Normalise a header or cell for matching: NFKC (full-width → half-width), no spaces."""
    s = unicodedata.normalize("NFKC", str(text))
    return "".join(s.split()).lower()


@dataclass(frozen=True)
class Column:
    name: str
    header: str
    type: str
    required: bool = False
    values: tuple[str, ...] = ()
    default: object = None
    min: object = None
    max: object = None
    ref: str | None = None
    region_levels: tuple[str, ...] = ()
    not_before: str | None = None
    required_if: str | None = None
    required_unless_level: str | None = None
    aliases: tuple[str, ...] = ()

    @property
    def accepted_headers(self) -> set[str]:
        return {fold(h) for h in (self.header, self.name, *self.aliases)}


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    key: tuple[str, ...]
    columns: tuple[Column, ...] = field(default_factory=tuple)

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def required(self) -> list[Column]:
        return [c for c in self.columns if c.required]

    def match_headers(self, headers: list[str]) -> dict[int, str]:
        """Map positions of `headers` to canonical names; unmatched positions are left out."""
        lookup = {}
        for c in self.columns:
            for h in c.accepted_headers:
                lookup[h] = c.name
        out = {}
        for i, h in enumerate(headers):
            # "*检查编号": exports and official templates star the required columns
            folded = fold(h).strip("*")
            name = lookup.get(folded)
            if name is None:
                # "单位罚款（万元）" and the like: the unit in brackets is not part of the name
                base = folded.split("(")[0].strip("*")
                name = lookup.get(base)
            if name is not None:
                out[i] = name
        return out

    def suggest(self, missing: str, headers: list[str]) -> str | None:
        """The header in the file that most resembles a missing column's, for the error."""
        col = self.column(missing)
        hits = difflib.get_close_matches(fold(col.header), [fold(h) for h in headers], n=1, cutoff=0.5)
        if not hits:
            return None
        return next(h for h in headers if fold(h) == hits[0])


@dataclass(frozen=True)
class Contract:
    order: tuple[str, ...]
    tables: dict[str, Table]

    def __getitem__(self, name: str) -> Table:
        return self.tables[name]


def _column(spec: dict) -> Column:
    spec = dict(spec)
    for key in ("values", "region_levels", "aliases"):
        if key in spec:
            spec[key] = tuple(spec[key])
    return Column(**spec)


@cache
def load_contract(path: Path = CONTRACT_FILE) -> Contract:
    raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    tables = {
        name: Table(
            name=name,
            title=t["title"],
            key=tuple(t["key"]),
            columns=tuple(_column(c) for c in t["columns"]),
        )
        for name, t in raw["tables"].items()
    }
    return Contract(order=tuple(raw["order"]), tables=tables)
