"""Issuing the notices: number and log them (official.log) and write the files; the ZIP of a
quarter's notices; and ``python -m metrics notices`` (the command line's public interface,
../shared/spec/cli.md), which dispatches here.
"""
from __future__ import annotations

import datetime as dt
import io
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from metrics.periods import Period
from metrics.provinces import province_name, resolve_province
from metrics.scheme import load_scheme
from official import log as notice_log
from official.notice import (DEFAULT_SETTINGS, DEFAULT_TEMPLATE, NoticeData, NoticeError, NoticeSettings, annex_name,
                             annex_title, build_notices, context, file_name, level_noun, load_settings, load_template,
                             preview_notice, render_docx, render_wording, reply_due, score_sheet_xlsx)

HELP = "提醒敦促函: one .docx per warned unit into --out DIR (numbered and logged); prints their paths"


@dataclass(frozen=True)
class IssuedNotice:
    path: Path
    number: str
    unit_code: str
    unit_name: str
    issued_on: dt.date
    reissued: bool


def issue_notices(db, notices: list[NoticeData], out_dir: str | Path, *, settings: NoticeSettings | None = None,
                  template: str | None = None, issued_on: dt.date | None = None, actor: str | None = None,
                  template_name: str = "notice_template.txt") -> list[IssuedNotice]:
    """Number, log (official.log) and write the notices into ``out_dir``.

    A unit whose notice for the quarter is already logged keeps its number and issue date. The
    files are written inside the write: if one fails, nothing is logged and no number is used.
    The caller must not hold a connection to ``db`` open (DuckDB would hand back the old file).
    """
    settings = settings or load_settings()
    template = template if template is not None else load_template()
    issued_on = issued_on or dt.date.today()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if not notices:
        return []
    by_key = {(d.unit_code, str(d.quarter), d.level): d for d in notices}
    first = notices[0]
    s = settings.resolved(first.province_name, first.province_code)
    # fail on the template or settings before a number is taken
    render_wording(template, context(first, s, "", issued_on, reply_due(issued_on, s)), template_name)
    staging = out_dir / f".notices-{dt.datetime.now():%Y%m%d%H%M%S%f}"
    staging.mkdir()
    written: dict[str, Path] = {}

    def render(request: notice_log.NoticeRequest, issued: notice_log.Issued) -> str:
        data = by_key[(request.unit_code, request.quarter, request.level)]
        name = file_name(data, issued.number)
        render_docx(data, settings, template, issued.number, issued.issued_on, issued.reply_due,
                    target=staging / name, template_name=template_name)
        written[issued.number] = staging / name
        return name

    try:
        logged = notice_log.issue(db, [d.request() for d in notices], prefix=s.prefix, issued_on=issued_on,
                                  reply_due=lambda on: reply_due(on, s), actor=actor,
                                  start_seq=settings.start_seq, render=render)
        out = []
        for i in logged:
            final = out_dir / i.file_name
            written[i.number].replace(final)
            out.append(IssuedNotice(final, i.number, i.unit_code, i.unit_name, i.issued_on, i.reissued))
        return out
    finally:
        for leftover in staging.glob("*"):
            leftover.unlink()
        staging.rmdir()


def zip_notices(files: Iterable[tuple[str, bytes] | Path], annex: tuple[str, bytes] | Path | None = None) -> bytes:
    """A ZIP of the notices (and the score-sheet annex): (name, bytes) pairs or paths; UTF-8 names."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for item in [*files, *([annex] if annex is not None else [])]:
            name, data = (item.name, item.read_bytes()) if isinstance(item, Path) else item
            z.writestr(name, data)
    return buf.getvalue()



# --- python -m metrics notices -----------------------------------------------------------------------
def add_arguments(p) -> None:
    import argparse

    p.add_argument("--quarter", required=True, help="e.g. 2024Q3")
    p.add_argument("--out", required=True, help="folder for the .docx files")
    p.add_argument("--db", dest="db_sub", help=argparse.SUPPRESS)
    p.add_argument("--province", help="province code (default: the province whose agencies have records)")
    p.add_argument("--level", choices=["city", "county"], default="city", help="peers: cities (default) or counties")
    p.add_argument("--scheme", help="scheme file (default: metrics/schemes/default.toml)")
    p.add_argument("--date", help="成文日期 YYYY-MM-DD (default: today); a re-issued notice keeps its own")
    p.add_argument("--settings", help=f"notice settings (default: {DEFAULT_SETTINGS.name})")
    p.add_argument("--template", help=f"wording template (default: {DEFAULT_TEMPLATE.name})")
    p.add_argument("--zip", action="store_true", help="also write a ZIP of the notices and the annex (path on stderr)")
    p.add_argument("--annex", action="store_true", help="also write the Excel score sheet (path on stderr)")
    p.add_argument("--preview", action="store_true", help="write unnumbered previews; log nothing")


def run(args) -> int:
    from etl import warehouse
    from metrics.provinces import ProvinceError
    from metrics.scheme import SchemeError
    from metrics.score import compute_score

    try:
        period = Period.parse(args.quarter)
        if period.kind != "quarter":
            raise ValueError(f"give a quarter like 2024Q3, not {args.quarter!r}")
        on = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    except ValueError as e:
        print(f"python -m metrics notices: {e}", file=sys.stderr)
        return 2
    try:
        settings = load_settings(args.settings)
        template = load_template(args.template)
        scheme = load_scheme(args.scheme)
        try:
            con = warehouse.connect_read(args.db)
        except warehouse.WarehouseMissing as e:
            raise NoticeError(str(e)) from None
        try:
            province = resolve_province(con, args.province)
            score = compute_score(con, period, args.level, province, scheme)
            data = build_notices(con, period, args.level, province, scheme, settings, score)
            pname = province_name(con, province)
            noun = level_noun(con, province, args.level)
        finally:
            con.close()
        out = Path(args.out)
        if not data:
            reasons = sorted(set(score["reason"].dropna()) - {""})
            print(f"no warned units in {period} ({args.level})" + (f": {reasons[0]}" if reasons else ""),
                  file=sys.stderr)
            return 0
        tname = Path(args.template).name if args.template else DEFAULT_TEMPLATE.name
        if args.preview:
            out.mkdir(parents=True, exist_ok=True)
            paths = []
            for d in data:
                p = out / file_name(d, None)
                p.write_bytes(preview_notice(d, settings, template, on))
                paths.append(p)
        else:
            issued = issue_notices(args.db, data, out, settings=settings, template=template, issued_on=on,
                                   template_name=tname)
            paths = [i.path for i in issued]
        for p in paths:
            print(p)
        annex = None
        if args.annex or args.zip:
            s = settings.resolved(pname, province)
            annex = out / annex_name(period, args.level)
            score_sheet_xlsx(score, scheme, annex_title(period, pname, args.level, s, noun), annex)
            if args.annex:
                print(f"annex: {annex}", file=sys.stderr)
        if args.zip:
            z = out / f"{period}-{'市' if args.level == 'city' else '县'}-提醒敦促函.zip"
            z.write_bytes(zip_notices(paths, annex))
            print(f"zip: {z}", file=sys.stderr)
        return 0
    except (NoticeError, notice_log.NoticeLogError, SchemeError, ProvinceError) as e:
        print(str(e), file=sys.stderr)
        return 1
