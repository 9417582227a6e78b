"""Failures of the machine, not of the input — a full disk, a folder where a file was meant, no
permission — as one clear line for the command line (exit 1, cli.md), never a traceback.

``python -m etl`` and ``python -m metrics`` run every command through ``run_command``. The
warehouse itself needs nothing here: a load writes a new file and swaps it in, so a write that
fails leaves the old warehouse as it was (etl.warehouse); this module only says so.
"""
from __future__ import annotations

import errno
import os
import sys
from collections.abc import Callable

FULL = {errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", -1)}
_DUCKDB_FULL = ("no space left on device", "file too large", "disk quota exceeded")


def describe(e: BaseException, output: str | None = None) -> str | None:
    """A Chinese message for an OSError or a DuckDB I/O error, else None (a bug: let it show).
    `output`: the file the command writes (--out), named when the error names no file."""
    if isinstance(e, OSError):
        where = e.filename if e.filename is not None else (output or "标准输出")
        if e.filename2 is not None:
            where = e.filename2
        if e.errno in FULL:
            return (f"写入 {where} 失败：磁盘空间不足（或超出文件大小限制）。数据仓库未改动；"
                    "请腾出空间后重试。")
        if e.errno == errno.EISDIR:
            return f"{where} 是一个文件夹：请给出要写入的文件名（如 {os.path.join(str(where), '模板.xlsx')}）。"
        if e.errno == errno.ENOTDIR:
            return f"{where} 的上级不是文件夹。"
        if e.errno == errno.ENOENT:
            return f"{where} 不存在（或其所在文件夹不存在）。"
        if e.errno in (errno.EACCES, errno.EPERM):
            return f"没有权限读写 {where}。"
        if e.errno == errno.EROFS:
            return f"{where} 位于只读文件系统，无法写入。"
        return f"读写 {where} 失败：{e.strerror or e}。"
    try:
        import duckdb
    except ImportError:  # pragma: no cover
        return None
    if isinstance(e, duckdb.IOException) or (isinstance(e, duckdb.Error)
                                             and any(s in str(e).lower() for s in _DUCKDB_FULL)):
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        if any(s in text.lower() for s in _DUCKDB_FULL):
            return f"写入数据仓库失败：磁盘空间不足（或超出文件大小限制）。数据仓库未改动；请腾出空间后重试。（{text}）"
        return f"读写数据仓库失败：{text}"
    return None


def _quiet_stdout() -> None:
    """After stdout itself failed (``> /dev/full``): point it at /dev/null, so that the
    interpreter's last flush does not print a second error."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):
        pass


def run_command(fn: Callable, args) -> int:
    """``fn(args)`` with stdout flushed inside; a machine failure becomes a message and exit 1."""
    try:
        code = fn(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:  # `| head`: the reader left, not a failure
        _quiet_stdout()
        return 0
    except Exception as e:
        output = getattr(args, "out", None)
        message = describe(e, str(output) if output else None)
        if message is None:
            raise
        if isinstance(e, OSError) and e.filename is None and not output:  # stdout itself
            _quiet_stdout()
        # half-written files (an .xlsx's zip) fail again when collected: said once, above
        sys.unraisablehook = lambda unraisable: None
        print(f"错误：{message}", file=sys.stderr)
        return 1
