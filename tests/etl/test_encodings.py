"""Text files come in UTF-8 (with or without BOM), GBK, GB18030 and UTF-16 (Excel "Unicode text")."""
from __future__ import annotations

import codecs

import pytest

from tests.etl import helpers as h

RARE = "㐀䶵𠀀"  # CJK Extension A and B: outside GBK, encodable in GB18030 (four-byte sequences)


@pytest.mark.parametrize("encoding, delimiter, suffix, starts_with", [
    ("utf-8", ",", ".csv", b"\xe7\xbb\x9f"),             # 统 in UTF-8, no BOM
    ("utf-8-sig", ",", ".csv", codecs.BOM_UTF8),
    ("gbk", ",", ".csv", "统".encode("gbk")),
    ("gb18030", ",", ".csv", "统".encode("gb18030")),
    ("utf-16", "\t", ".txt", codecs.BOM_UTF16),          # what Excel saves as "Unicode text"
    ("utf-16", "\t", ".csv", codecs.BOM_UTF16),
    ("utf-8", "\t", ".tsv", b"\xe7\xbb\x9f"),
])
def test_register_in_each_encoding(db, load, files, encoding, delimiter, suffix, starts_with):
    rows = [h.enterprise(1, name="杭州某某化工有限公司"), h.enterprise(2, name="上城区烟花爆竹批发部", industry="烟花爆竹")]
    path = h.write(files / f"register{suffix}", "enterprises", rows, encoding=encoding, delimiter=delimiter)
    assert path.read_bytes().startswith(starts_with)  # the file really is in that encoding
    f = h.only_file(load(path))
    assert (f.table, f.read, f.loaded, f.set_aside) == ("enterprises", 2, 2, 0), f.summary()
    assert h.query(db, "SELECT name, industry FROM enterprises ORDER BY enterprise_id") == [
        ("杭州某某化工有限公司", "危险化学品"), ("上城区烟花爆竹批发部", "烟花爆竹")]


def test_gb18030_characters_outside_gbk(db, load, files):
    name = f"{RARE}化工有限公司"
    with pytest.raises(UnicodeEncodeError):
        name.encode("gbk")
    path = h.write(files / "register.csv", "enterprises", [h.enterprise(1, name=name)], encoding="gb18030")
    f = h.only_file(load(path))
    assert (f.loaded, f.set_aside) == (1, 0)
    assert h.one(db, "SELECT name FROM enterprises") == name


def test_gbk_set_aside_row_keeps_its_text_and_line(db, load, files):
    """A GBK file goes through a UTF-8 copy: the report still shows the user's text and line."""
    path = h.write(files / "register.csv", "enterprises",
                   [h.enterprise(1), h.enterprise(2, industry="化工厂")], encoding="gbk")
    result = load(path)
    [row] = h.set_aside(result)
    assert (row["file"], row["row"], row["column"], row["value"]) == ("register.csv", 3, "行业领域", "化工厂")
    assert "不在允许值内" in row["reason"]


def test_utf16_excel_unicode_text_with_quotes_and_title(db, load, files):
    """Excel's Unicode text: UTF-16 LE with BOM, tabs, CRLF, quotes around cells holding tabs or quotes."""
    rows = [h.enterprise(1, name='某"星光"化工\t有限公司'), h.enterprise(2)]
    path = h.write(files / "register.txt", "enterprises", rows, encoding="utf-16-le", delimiter="\t",
                   above=[["执法对象名录（导出）"]])
    path.write_bytes(codecs.BOM_UTF16_LE + path.read_bytes())
    result = load(path)
    f = h.only_file(result)
    assert (f.loaded, f.set_aside) == (2, 0), f.summary()
    assert h.one(db, "SELECT name FROM enterprises WHERE enterprise_id = ?", [h.eid(1)]) == '某"星光"化工\t有限公司'


def test_undecodable_text_is_refused(db, load, files):
    path = files / "register.csv"
    header = ",".join(h.HEADER["enterprises"].values()).encode("utf-8")
    path.write_bytes(header + b"\r\n\x81\x20\xff\xfe,x,y\r\n")  # neither UTF-8 nor GB18030
    f = h.only_file(load(path))
    assert f.refused and "编码" in f.refused
