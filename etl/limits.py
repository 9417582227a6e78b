"""What one input file may cost, checked before the work is done.

An upload is parsed by the server: without bounds a 4.5 MB .xlsx whose shared strings unpack to
gigabytes, or a "row bomb" whose sheet XML unpacks to 3 GB, takes the server's memory and minutes
of CPU. Each bound below is checked from the file's own directory (the zip's declared sizes) or
while streaming, before anything is held in memory; a file over a bound is refused with the bound
named. Generous for real exports (a quarter's inspections of a province are tens of thousands of
rows; 3 million cells is 375,000 rows of 8 columns) and each can be raised with
an environment variable ENFORCEMENT_LIMIT_<NAME> (bytes or counts), e.g. for a ministry's bulk import.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

MB = 1 << 20


@dataclass(frozen=True)
class Limit:
    name: str
    default: int
    label: str        # what is bounded, in Chinese
    unit: str         # 'bytes' or a Chinese counting word

    @property
    def value(self) -> int:
        raw = os.environ.get(f"ENFORCEMENT_LIMIT_{self.name.upper()}")
        try:
            return int(raw) if raw else self.default
        except ValueError:
            return self.default

    def shown(self, n: int | None = None) -> str:
        n = self.value if n is None else n
        return f"{n / MB:,.0f} MB" if self.unit == "bytes" else f"{n:,}{self.unit}"

    def check(self, n: int, file_name: str) -> None:
        """Refuse the file (etl.read.Refused) when n is over the bound."""
        if n > self.value:
            from etl.read import Refused

            raise Refused(f"{file_name}: {self.label}超过上限（{self.shown(n)} > {self.shown()}），未读取。"
                          "请拆分文件或另存为CSV后分批导入")


SHEET_XML = Limit("sheet_xml", 160 * MB, "工作表解压后的大小", "bytes")
SHARED_STRINGS = Limit("shared_strings", 64 * MB, "工作簿共享字符串解压后的大小", "bytes")
XLSX_TOTAL = Limit("xlsx_total", 300 * MB, "工作簿解压后的总大小", "bytes")
XLS_FILE = Limit("xls_file", 100 * MB, "旧版 .xls 文件的大小", "bytes")
ROWS = Limit("rows", 1_048_576, "工作表行数", "行")
CELLS = Limit("cells", 3_000_000, "工作表单元格数", "个")
