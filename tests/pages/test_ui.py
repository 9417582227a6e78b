"""The app's helpers: the warehouse snapshot, offline boundaries, formats and the Excel export."""
from __future__ import annotations

import io
import os

import duckdb
import pandas as pd
import pytest

from ui import export, geo, style
from etl.warehouse import connect_read as open_snapshot


def _make(path, value):
    tmp = path.with_name("new.duckdb")
    con = duckdb.connect(str(tmp))
    con.execute(f"CREATE TABLE meta AS SELECT 'v' AS key, '{value}' AS value")
    con.close()
    os.replace(tmp, path)


def test_a_new_file_is_seen_while_the_old_connection_is_open(tmp_path):
    """What the app's cached connection relies on: DuckDB reuses an open instance per path, and a
    plain connect would return the file a load replaced."""
    db = tmp_path / "warehouse.duckdb"
    _make(db, "old")
    old = open_snapshot(db)
    assert old.execute("SELECT value FROM meta").fetchone()[0] == "old"
    _make(db, "new")
    new = open_snapshot(db)
    assert new.execute("SELECT value FROM meta").fetchone()[0] == "new"
    assert old.execute("SELECT value FROM meta").fetchone()[0] == "old"  # readers finish on their file
    assert sorted(p.name for p in tmp_path.iterdir()) == ["warehouse.duckdb"]  # no link left behind
    old.close(), new.close()


def test_boundaries_are_filtered_simplified_and_cached(tmp_path):
    gj = geo.boundaries("city", "330000", cache_dir=tmp_path)
    codes = sorted(f["id"] for f in gj["features"])
    assert len(codes) == 11 and codes[0] == "330100" and all(c.startswith("33") for c in codes)
    assert {"code", "name", "lon", "lat"} <= set(gj["features"][0]["properties"])
    cached = list(tmp_path.glob("boundaries-*-city-330000.geojson"))
    assert len(cached) == 1 and cached[0].stat().st_size < 200_000
    assert geo.boundaries("city", "330000", cache_dir=tmp_path) == gj  # read back from the cache
    assert len(geo.boundaries("county", "330000", cache_dir=tmp_path)["features"]) == 90
    centre, zoom = geo.view(gj)
    assert 118 < centre["lon"] < 123 and 27 < centre["lat"] < 31.5 and 4.5 < zoom < 8
    with pytest.raises(ValueError):
        geo.boundaries("town", "330000", cache_dir=tmp_path)


def test_formats_and_bands():
    assert style.pct(0.9862) == "98.6%" and style.pct(None) == "—"
    assert style.wan(7.6234) == "7.62 万元"
    assert style.value(0.5, "%") == "50.0%" and style.value(float("nan"), "%") == "不适用"
    assert style.value(14, "项") == "14 项" and style.value(7.62, "万元") == "7.62 万元"
    assert style.change(0.032, "pct") == "+3.2%" and style.change(-1.44, "pp") == "-1.4 个百分点"
    assert style.change(None, "pct") is None
    assert style.change(-0.0004, "pp") == "持平" and style.change(0.0004, "pct") == "持平"
    assert style.is_flat(0.00049, "pct") and not style.is_flat(0.0006, "pct") and not style.is_flat(None, "pct")
    assert [style.band(s) for s in (85, 84.9, 70, 69.9, None)] == ["达标", "关注", "关注", "需改进", "无数据"]
    assert [style.rank_change(3, 5), style.rank_change(5, 3), style.rank_change(4, 4), style.rank_change(1, None)] \
        == ["▲2", "▼2", "—", "新"]
    out = style.labelled(pd.DataFrame({"is_major": [True, False], "found_date": pd.to_datetime(["2025-01-02", None])}))
    assert list(out.columns) == ["重大隐患", "发现日期"]
    # a blank field reads — (issue 12: no empty-looking None/NaT in a table); it was "" before
    assert out["重大隐患"].tolist() == ["是", "否"] and out["发现日期"].tolist() == ["2025-01-02", "—"]


def test_excel_export_reopens_with_fills_notes_and_safe_cells():
    from openpyxl import load_workbook

    df = pd.DataFrame({"单位": ["甲市", "=HYPERLINK(\"x\")"], "指数": [88.2, None], "趋势": [[1.0, 2.0], []]})
    data = export.to_excel({"排名": df}, notes=[("期间", "2025年第4季度")], fills={"排名": {1: "#fbe0e0"}})
    wb = load_workbook(io.BytesIO(data))
    ws = wb["排名"]
    assert [c.value for c in ws[1]] == ["单位", "指数", "趋势"]
    assert ws["A2"].value == "甲市" and ws["B2"].value == 88.2 and ws["C2"].value == "1, 2"
    assert ws["A3"].value.startswith("'=") and ws["B3"].value == "—"  # missing: —, not an empty cell
    assert ws["A3"].fill.fgColor.rgb == "FFFBE0E0"
    assert ("期间", "2025年第4季度") in [(r[0].value, r[1].value) for r in wb["说明"].iter_rows()]


def test_map_outlines_are_made_once_and_small():
    """The overview's map sends outlines simplified once per process (measured: Zhejiang's 11
    cities 77 KB of plotly figure JSON with the choropleth's GeoJSON, 39 KB as plotly outlines, a
    Vega-Lite spec of 38 KB now), outer rings clockwise (d3-geo's orientation)."""
    import json

    from ui import charts
    from ui.style import colour_map

    shapes = geo.outlines("city", "330000")
    assert geo.outlines("city", "330000") is shapes               # cached, not rebuilt per request
    assert len(shapes["units"]) == 11 and shapes["units"]["330700"]["name"] == "金华市"
    x0, y0, x1, y1 = shapes["bounds"]
    assert 118 < x0 < 119 and 122 < x1 < 123.5 and 27 < y0 < 27.5 and 31 < y1 < 31.5   # Zhejiang, west included
    df = pd.DataFrame({"code": list(shapes["units"]), "name": [u["name"] for u in shapes["units"].values()],
                       "index": 70.0, "rank": 1, "band": "关注"})
    fig = charts.band_map(df, shapes, "band", colour_map(), "t")
    assert len(json.dumps(fig, ensure_ascii=False)) < 40_000

    def clockwise(ring):  # shoelace: a negative signed area (lon east, lat north) is clockwise
        return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) < 0

    for u in shapes["units"].values():
        g = u["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        assert all(clockwise(p[0]) for p in polys), u["name"]


def test_display_marks_missing_cells_with_their_reason():
    """ui.display: a column with a missing cell becomes text ('— 无数据' / '— 不适用' / '— 未公开'),
    its numbers formatted; other columns keep their numbers; the legend names each reason."""
    from ui import display

    df = pd.DataFrame({"code": ["1", "2", "3"], "assessed": [True, False, True], "指数": [88.24, None, None],
                       "名次": pd.array([1, None, 2], dtype="Int64"), "次数": [3, 4, 5]})
    reasons = display.row_reasons(df, hidden=pd.Series([False, False, True]))
    assert reasons.tolist() == ["不适用", "无数据", "未公开"]
    styled = display.table(df, {"指数": "{:.1f}"}, reasons)
    shown = styled.data
    assert shown["指数"].tolist() == ["88.2", "— 无数据", "— 未公开"]
    assert shown["名次"].tolist() == ["1", "— 无数据", "2"]
    assert shown["次数"].tolist() == [3, 4, 5]  # no missing cell: still numbers
    assert not shown.isna().any().any()
    assert display.plain(df[["指数"]], "不适用")["指数"].tolist() == [88.24, "— 不适用", "— 不适用"]
    assert display.legend(display.NO_DATA, display.HIDDEN) == (
        "“— 无数据”：本期无检查、隐患或立案记录，不参评；“— 未公开”：其他地区的明细数据，本账号不可查看。")


def test_display_table_formats_every_complete_column():
    """Styler.format resets the columns of its subset it is given no format for: each complete
    column keeps its own format (排名 showed 84.600000 for all but the last)."""
    from ui import display

    df = pd.DataFrame({"a": [84.6, 61.2], "b": [3.14159, 2.0], "c": [None, 1.0]})
    html = display.table(df, {"a": "{:.1f}", "b": "{:.1f}", "c": "{:.1f}"}).to_html()
    assert ">84.6<" in html and ">3.1<" in html and "84.600000" not in html and "3.141590" not in html
