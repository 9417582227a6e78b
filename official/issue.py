"""Issuing the notices: number and log them (official.log) and write the files; the ZIP of a
quarter's notices; and ``python -m metrics notices`` (the command line's public interface,
../shared/spec/cli.md), which dispatches here.
"""
from __future__ import annotations

import datetime as dt
import io
import shutil
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
                             preview_notice, refuse_placeholders, render_docx, render_wording, reply_due,
                             score_sheet_xlsx)

HELP = "提醒敦促函: one .docx per warned unit into --out DIR (numbered and logged); prints their paths"


@dataclass(frozen=True)
class IssuedNotice:
    path: Path          # where the caller asked for it (--out DIR), else the archive copy
    number: str
    unit_code: str
    unit_name: str
    issued_on: dt.date
    reissued: bool
    archived: Path | None = None   # the copy the app offers for download (data/notices/…)


def archive_dir(db, quarter: str, level: str) -> Path:
    """Where issued notices are kept for the app: notices/<quarter>-<level>/ beside the warehouse."""
    from etl import warehouse

    return warehouse.db_path(db).parent / "notices" / f"{quarter}-{level}"


def archived(db, file_path: str | None) -> Path | None:
    """The archive copy of a logged notice (its ``file_path``, relative to the warehouse's folder),
    or None when it is not there."""
    from etl import warehouse

    if not isinstance(file_path, str) or not file_path:
        return None
    p = warehouse.db_path(db).parent / file_path
    return p if p.is_file() else None


def issue_notices(db, notices: list[NoticeData], out_dir: str | Path | None = None, *,
                  settings: NoticeSettings | None = None, template: str | None = None,
                  issued_on: dt.date | None = None, actor: str | None = None,
                  template_name: str = "notice_template.txt") -> list[IssuedNotice]:
    """Number, log (official.log, in the operational store) and write the notices: into the
    archive beside the warehouse (recorded in the log, so the app offers them whoever issued
    them), and also into ``out_dir`` when given (the command line's --out).

    Refused (NoticeError naming the setting) while the settings or the wording hold a
    placeholder. A unit whose notice for the quarter is already logged keeps its number and issue
    date. The files are written inside the log's transaction: if one fails, nothing is logged
    and no number is used. The warehouse is not written.
    """
    from etl import warehouse

    settings = settings or load_settings()
    template = template if template is not None else load_template()
    issued_on = issued_on or dt.date.today()
    if not notices:
        return []
    refuse_placeholders(settings, template, template_name)
    by_key = {(d.unit_code, str(d.quarter), d.level): d for d in notices}
    first = notices[0]
    s = settings.resolved(first.province_name, first.province_code)
    # fail on the template or settings before a number is taken
    render_wording(template, context(first, s, "", issued_on, reply_due(issued_on, s)), template_name)
    base = warehouse.db_path(db).parent
    staging = base / "notices" / f".staging-{dt.datetime.now():%Y%m%d%H%M%S%f}"
    staging.mkdir(parents=True)
    written: dict[str, tuple[Path, Path]] = {}

    def render(request: notice_log.NoticeRequest, issued: notice_log.Issued) -> tuple[str, str]:
        data = by_key[(request.unit_code, request.quarter, request.level)]
        name = file_name(data, issued.number)
        render_docx(data, settings, template, issued.number, issued.issued_on, issued.reply_due,
                    target=staging / name, template_name=template_name)
        final = archive_dir(db, request.quarter, request.level) / name
        written[issued.number] = (staging / name, final)
        return name, final.relative_to(base).as_posix()

    try:
        logged = notice_log.issue(db, [d.request() for d in notices], prefix=s.prefix, issued_on=issued_on,
                                  reply_due=lambda on: reply_due(on, s), actor=actor,
                                  start_seq=settings.start_seq, render=render)
        out = []
        for i in logged:
            tmp, final = written[i.number]
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.replace(final)
            path = final
            if out_dir is not None:
                Path(out_dir).mkdir(parents=True, exist_ok=True)
                path = Path(out_dir) / final.name
                if path.resolve() != final.resolve():
                    shutil.copyfile(final, path)
            out.append(IssuedNotice(path, i.number, i.unit_code, i.unit_name, i.issued_on, i.reissued, final))
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

    p.add_argument("--quarter", help="e.g. 2024Q3 (required unless --void)")
    p.add_argument("--out", help="folder for the .docx files (required unless --void)")
    p.add_argument("--db", dest="db_sub", help=argparse.SUPPRESS)
    p.add_argument("--province", help="province code (default: the province whose agencies have records)")
    p.add_argument("--level", choices=["city", "county"], default="city", help="peers: cities (default) or counties")
    p.add_argument("--unit", help="only this warned unit's notice (its region code); default: every warned unit")
    p.add_argument("--scheme", help="scheme file (default: metrics/schemes/default.toml)")
    p.add_argument("--date", help="成文日期 YYYY-MM-DD (default: today); a re-issued notice keeps its own")
    p.add_argument("--settings", help=f"notice settings file (default: official/{DEFAULT_SETTINGS.name} with "
                                      "the values set in the app)")
    p.add_argument("--template", help=f"wording template (default: official/{DEFAULT_TEMPLATE.name})")
    p.add_argument("--zip", action="store_true", help="also write a ZIP of the notices and the annex (path on stderr)")
    p.add_argument("--annex", action="store_true", help="also write the Excel score sheet (path on stderr)")
    p.add_argument("--preview", action="store_true", help="write unnumbered previews (placeholders allowed); log nothing")
    p.add_argument("--void", metavar="NUMBER", help="withdraw an issued number (never reused); needs --reason")
    p.add_argument("--reason", help="why the number is voided (with --void)")


def _usage(message: str) -> int:
    print(f"python -m metrics notices: {message}", file=sys.stderr)
    return 2


def run_void(args) -> int:
    """--void NUMBER --reason TEXT: withdraw the number; the log and the audit trail show it."""
    if not (args.reason or "").strip():
        return _usage("--void 需要 --reason 说明作废原因")
    if args.quarter or args.out or args.preview or args.unit:
        return _usage("--void 不能与 --quarter/--out/--unit/--preview 同用")
    try:
        row = notice_log.void(args.db, args.void, args.reason)
    except notice_log.NoticeLogError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f"已作废 {row['number']}（{row['unit_name']}，{row['quarter']}）：{row['void_reason']}")
    return 0


def run(args) -> int:
    from etl import warehouse
    from metrics.provinces import ProvinceError
    from metrics.scheme import SchemeError
    from metrics.score import compute_score
    from official import config

    if args.void:
        return run_void(args)
    if args.reason:
        return _usage("--reason 只与 --void 同用")
    if not args.quarter or not args.out:
        return _usage("--quarter and --out are required (or --void NUMBER --reason TEXT)")
    try:
        period = Period.parse(args.quarter)
        if period.kind != "quarter":
            raise ValueError(f"give a quarter like 2024Q3, not {args.quarter!r}")
        on = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
    except ValueError as e:
        return _usage(str(e))
    try:
        if not warehouse.db_path(args.db).exists():
            raise NoticeError(f"no warehouse at {warehouse.db_path(args.db)}: build one with `python -m etl demo` "
                              "or load files")
        settings = load_settings(args.settings) if args.settings else config.effective(args.db)
        template = load_template(args.template)
        tname = Path(args.template).name if args.template else DEFAULT_TEMPLATE.name
        if not args.preview:
            refuse_placeholders(settings, template, tname)  # before any work: the message names the setting
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
        if args.unit:
            data = [d for d in data if d.unit_code == args.unit]
            if not data:
                raise NoticeError(f"单位 {args.unit} 不在 {period.label} 的预警名单中（--level {args.level}），无函可发")
        if not data:
            reasons = sorted(set(score["reason"].dropna()) - {""})
            print(f"no warned units in {period} ({args.level})" + (f": {reasons[0]}" if reasons else ""),
                  file=sys.stderr)
            return 0
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
