"""`python -m etl export --parquet DIR`: the warehouse's facts (and marts) as Parquet, partitioned
by province and year, so that a data lake (Spark, Trino, another DuckDB) reads the same numbers.

Layout (Hive-style directories, what those engines discover by themselves)::

    DIR/inspections/province=330000/year=2025/data_0.parquet
    DIR/hazards/province=…/year=…/…      DIR/penalties/…      DIR/plans/…
    DIR/enterprises/province=…/…          (a register has no year)
    DIR/regions/data_0.parquet            (reference, not partitioned)

Every fact row is stamped with the units it counts for under the data contract's counting rule:
the inspecting agency's province (``province``), city (``city_code``) and county
(``county_code``, NULL for a city or province bureau); a hazard counts where its inspection was
made. The facts are read from the marts the ETL built (etl/marts.py), which hold those
placements already: the lake's are the app's. ``year`` is the year of the record's own date
(inspection_date, found_date, filed_date; a plan's year). Partition columns live in the directory
names, not in the files: read with ``hive_partitioning`` and, to keep codes as text,
``hive_types={'province': VARCHAR}``.

Every other table of the warehouse is exported too — the marts the ETL builds for the app (etl/
marts.py), newer contract tables — under the same ``province`` (its province_code, or its agency's
province) and ``year`` (its year column, the year of its date, or of its period's name) where it
has them; the bookkeeping tables (load history, quarantine, notices, audit, meta, a mart's build
state) are not data for a lake. Among them, what the app's figures are read from::

    DIR/mart_panel/province=…/year=…/        additive parts by unit × month (year of ``month``)
    DIR/mart_panel_exact/province=…/year=…/  the other parts by unit × quarter and year (``period``)
    DIR/mart_panel_parts/, mart_panel_periods/  what the panel holds (reference, not partitioned)
    DIR/mart_catalog/province=…/year=…/      the months and provinces holding records

A NULL partition value (a hazard's row of the catalog has no province, a plan's no month) is
written as ``__HIVE_DEFAULT_PARTITION__``, which Hive, Spark, Trino and DuckDB read back as NULL.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from etl import warehouse

# The facts are exported from their marts (etl.marts), which stamp every record once, at load
# time, with the units it counts for under the counting rule: the lake gets the app's placements,
# not a second writing of the rule. Each fact keeps its record table's own columns and types (a
# mart holds them all; ``{own}`` below: the record table's columns but load_id, cast back to the
# table's type where the mart's differs — the fines, DOUBLE in the mart, go out as the DECIMAL(18, 2)
# they are stored as, exact below 10^13 yuan), then its agency's province (``province``), city
# (``city_code``) and county (``county_code``, NULL above county level). A record whose agency (a
# register entry whose county) is not in regions has no province in its mart and is not exported.
_UNITS = "province_code AS province, city_unit AS city_code, county_unit AS county_code"
_PLACED = "WHERE province_code IS NOT NULL"

# record table -> (its mart, the SELECT of its export with {own} for the table's columns, partitions)
FACTS: dict[str, tuple[str | None, str, tuple[str, ...]]] = {
    "inspections": ("mart_inspections", f"SELECT {{own}}, {_UNITS}, year(inspection_date) AS year "
                    f"FROM mart_inspections {_PLACED}", ("province", "year")),
    "hazards": ("mart_hazards", f"SELECT {{own}}, agency_code, {_UNITS}, year(found_date) AS year "
                f"FROM mart_hazards {_PLACED}", ("province", "year")),
    "penalties": ("mart_penalties", f"SELECT {{own}}, {_UNITS}, year(filed_date) AS year "
                  f"FROM mart_penalties {_PLACED}", ("province", "year")),
    "plans": ("mart_plans", f"SELECT {{own}}, {_UNITS} FROM mart_plans {_PLACED}", ("province", "year")),
    "enterprises": ("mart_enterprises", f"SELECT {{own}}, province_code AS province, city_unit AS city_code "
                    f"FROM mart_enterprises {_PLACED}", ("province",)),
    "regions": (None, "SELECT * FROM regions", ()),
}
# tables that are neither facts nor marts: bookkeeping and the operational store
_NOT_EXPORTED = {"load_history", "quarantine", "notices", "audit_log", "meta"}


class ExportError(RuntimeError):
    """The export could not be written (the message says where and why)."""


@dataclass
class Exported:
    table: str
    rows: int
    partitions: tuple[str, ...]
    path: Path


# a table's year for partitioning: its own year column, else the first of these dates it has
_DATES = ("inspection_date", "found_date", "filed_date", "month", "period_start", "window_start", "date")


def _types(con, table: str) -> dict[str, str]:
    return dict(con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? AND "
                            "schema_name = 'main' AND database_name = current_database() ORDER BY column_index",
                            [table]).fetchall())


def _facts(con) -> dict[str, tuple[str, tuple[str, ...]]]:
    """FACTS' SELECTs with each record table's own columns read from its mart."""
    out = {}
    for name, (mart, sql, parts) in FACTS.items():
        if mart:
            have = _types(con, mart)
            own = []
            for c, t in _types(con, name).items():
                if c == "load_id":
                    continue
                if c not in have:
                    raise ExportError(f"the mart {mart} lacks {name}'s column {c}: rebuild it (`python -m etl marts`)")
                own.append(c if have[c] == t else f"CAST({c} AS {t}) AS {c}")
            sql = sql.format(own=", ".join(own))
        out[name] = (sql, parts)
    return out


def _marts(con) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Every other table of the warehouse (the marts, the unit × period panel, newer contract
    tables), stamped and partitioned the same way where it can be: ``province`` from its
    province_code, or its agency's province; ``year`` from its year column or its date."""
    out = {}
    # (the large marts are views over their stored tables, _mart_<table>: etl.marts — exported
    # under the view's name, as text, the stored table not at all)
    for (name,) in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary AND schema_name = 'main' "
                               "UNION SELECT view_name FROM duckdb_views() WHERE NOT temporary AND NOT internal "
                               "AND schema_name = 'main' ORDER BY 1").fetchall():
        if name in FACTS or name in _NOT_EXPORTED or name.startswith("_") or name.endswith("_state"):
            continue
        types = _types(con, name)
        extra, joins, parts = [], "", []
        if "province" in types:
            parts.append("province")
        elif "province_code" in types:
            extra.append("t.province_code AS province")
            parts.append("province")
        elif "agency_code" in types:
            extra.append("r.province_code AS province")
            joins = " LEFT JOIN regions r ON r.code = t.agency_code"
            parts.append("province")
        if "year" in types and types["year"] in ("INTEGER", "BIGINT", "SMALLINT", "HUGEINT"):
            parts.append("year")
        elif "year" not in types:
            date = next((c for c in _DATES if types.get(c) in ("DATE", "TIMESTAMP")), None)
            if date:
                extra.append(f"year(t.{date}) AS year")
                parts.append("year")
            elif parts and types.get("period") == "VARCHAR":   # a period's name: '2025', '2025Q4', '2025-12'
                extra.append("CAST(left(t.period, 4) AS INTEGER) AS year")
                parts.append("year")
        out[name] = (f'SELECT t.*{"".join(", " + e for e in extra)} FROM "{name}" t{joins}', tuple(parts))
    return out


def export_parquet(out_dir: str | os.PathLike, db: str | os.PathLike | None = None) -> list[Exported]:
    """Write every fact and mart table under out_dir/<table>/ (replacing what an earlier export
    left there); returns what was written. Writes into a sibling temporary directory first and
    moves each table's directory into place, so a failed export leaves no half-written table."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.mkdtemp(prefix=".export-", dir=out)
    except OSError as e:
        raise ExportError(f"cannot write to {out}: {e.strerror or e}") from None
    staging = Path(probe)
    con = warehouse.connect_read(db)
    written = []
    try:
        from metrics.query import MartsMissing, ensure_marts

        try:
            ensure_marts(con)  # the facts are read from the marts: a warehouse made before them says so
        except MartsMissing as e:
            raise ExportError(str(e)) from None
        tables = {**_facts(con), **_marts(con)}
        for name, (sql, parts) in tables.items():
            dest = staging / name
            rows = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
            if parts:
                con.execute(f"COPY ({sql}) TO '{_q(dest)}' (FORMAT parquet, PARTITION_BY ({', '.join(parts)}), "
                            "OVERWRITE_OR_IGNORE)")
            else:
                dest.mkdir()
                con.execute(f"COPY ({sql}) TO '{_q(dest / 'data_0.parquet')}' (FORMAT parquet)")
            if rows == 0 and not dest.exists():
                dest.mkdir()  # an empty table still gets its directory
            written.append(Exported(name, rows, parts, out / name))
        for e in written:
            final = out / e.table
            if final.exists():
                shutil.rmtree(final)
            os.replace(staging / e.table, final)
    except OSError as e:
        raise ExportError(f"cannot write to {out}: {e.strerror or e}") from None
    except Exception as e:  # duckdb.IOException and friends: a full disk, a vanished directory
        if type(e).__module__.startswith(("duckdb", "_duckdb")):
            raise ExportError(f"cannot write the Parquet export to {out}: {str(e).splitlines()[0]}") from None
        raise
    finally:
        con.close()
        shutil.rmtree(staging, ignore_errors=True)
    return written


def _q(p: Path) -> str:
    return str(p).replace("'", "''")
