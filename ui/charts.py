"""The pages' charts as Vega-Lite specs (presentation only: frames in, specs out).

Vega-Lite, not plotly: the KPI tiles' sparklines (st.metric) already load Streamlit's Vega
bundle, so the overview and 区域分析 need no second chart library in the browser (plotly.js is
4.7 MB of JavaScript a new session had to fetch and compile), and a spec is a small dict built in
about a millisecond where a plotly figure took 30–300 ms on the server. The overview's charts
carry their data inline in their layers. 区域分析's charts of one unit (its trends, its sub-indices
against the median) name theirs in ``spec["datasets"]``, which Streamlit sends beside the spec, and
their spec does not change from unit to unit (the legend says 本单位; the page's title names the
unit): on a unit switch the browser then swaps the data in the charts it has drawn (Streamlit's
chart replaces the datasets of an unchanged spec) instead of building three charts again. Charts
render as SVG, so a map's labels are text in the page.
"""
from __future__ import annotations

import pandas as pd

from ui.style import BAND_COLORS, PRIMARY

FONT = "Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif"
PALETTE = [PRIMARY, "#e07b00", "#6a8caf", "#8e44ad"]
MAP_NOTE = "示意图 · 边界仅供参考，不作为权属依据"


def _title(text: str, subtitle: str | None = None) -> dict:
    t = {"text": text, "anchor": "start", "fontSize": 15, "font": FONT, "subtitleFont": FONT}
    if subtitle:
        t |= {"subtitle": subtitle, "subtitleFontSize": 11, "subtitleColor": "#555"}
    return t


def _base(title: dict, height: int) -> dict:
    return {"$schema": "https://vega.github.io/schema/vega-lite/v5.json", "title": title, "height": height,
            "config": {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 12, "titleFontSize": 12},
                       "legend": {"labelFontSize": 12}}}


def _num(v) -> float | None:
    return None if v is None or pd.isna(v) else float(v)


def _band_colour(colours: dict[str, str], shown: list[str]) -> dict:
    """The band colour encoding: every band keeps its colour; the legend lists the bands shown."""
    return {"field": "band", "type": "nominal", "scale": {"domain": list(colours), "range": list(colours.values())},
            "legend": {"orient": "bottom", "title": None, "direction": "horizontal",
                       "values": [b for b in colours if b in set(shown)]}}


def ranking_bar(df: pd.DataFrame, value: str, band_col: str, colours: dict[str, str], title: str,
                value_label: str = "指数", max_value: float = 100) -> dict:
    """Horizontal bars, best at the top, coloured by band; NA units listed at the bottom."""
    d = df.assign(v_=df[value].astype(float)).sort_values("v_", ascending=False, na_position="last")
    rows = [{"name": name, "v": _num(v), "x": _num(v) or 0.0, "label": "无数据" if pd.isna(v) else f"{v:.1f}",
             "band": "无数据" if pd.isna(band) else band}
            for name, v, band in zip(d["name"], d["v_"], d[band_col])]
    y = {"field": "name", "type": "nominal", "sort": [r["name"] for r in rows], "title": None,
         "axis": {"labelLimit": 160}}
    spec = _base(_title(title), max(260, 26 * len(rows) + 110))  # the whole chart: title, axis and legend too
    spec["layer"] = [
        {"data": {"values": rows}, "mark": {"type": "bar", "cornerRadiusEnd": 2},
         "encoding": {"y": y,
                      "x": {"field": "v", "type": "quantitative", "title": value_label,
                            "scale": {"domain": [0, max_value * 1.08]}, "axis": {"gridColor": "#eeeeee"}},
                      "color": _band_colour(colours, [r["band"] for r in rows]),
                      "tooltip": [{"field": "name", "title": "单位"}, {"field": "label", "title": value_label},
                                  {"field": "band", "title": "分档"}]}},
        {"data": {"values": rows}, "mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 12},
         "encoding": {"y": y, "x": {"field": "x", "type": "quantitative"}, "text": {"field": "label"}}},
    ]
    return spec


def band_map(df: pd.DataFrame, shapes: dict, band_col: str, colours: dict[str, str], title: str,
             value: str = "index", value_label: str = "指数", height: int = 560) -> dict:
    """The province's units filled with their band's colour (the bars' colours), each labelled
    with its name; the value, rank and band on hover. The projection is fitted to the units
    (Vega-Lite fits it to the data: nothing is cut off). Simplified outlines (ui.geo.outlines),
    no tiles, fonts or network; marked 示意图."""
    units = shapes["units"]
    d = df[df["code"].isin(units)]
    features, labels = [], []
    for r in d.itertuples():
        u = units[r.code]
        v = getattr(r, value)
        rank = getattr(r, "rank", None)
        band = getattr(r, band_col)
        features.append({"type": "Feature", "id": r.code, "geometry": u["geometry"],
                         "properties": {"name": u["name"], "band": "无数据" if pd.isna(band) else band,
                                        "shown": "无数据" if pd.isna(v) else f"{v:.1f}",
                                        "rank": "—" if rank is None or pd.isna(rank) else f"第 {int(rank)} 名"}})
        labels.append({"name": u["name"], "lon": u["lon"], "lat": u["lat"]})
    spec = _base(_title(title, MAP_NOTE), height)
    spec["projection"] = {"type": "mercator"}
    spec["layer"] = [
        {"data": {"values": features, "format": {"type": "json"}},
         "mark": {"type": "geoshape", "stroke": "white", "strokeWidth": 1},
         "encoding": {"color": _band_colour(colours, [f["properties"]["band"] for f in features])
                      | {"field": "properties.band"},
                      "tooltip": [{"field": "properties.name", "title": "单位"},
                                  {"field": "properties.shown", "title": value_label},
                                  {"field": "properties.rank", "title": "名次"},
                                  {"field": "properties.band", "title": "分档"}]}},
        {"data": {"values": labels},
         "mark": {"type": "text", "fontSize": 12 if len(labels) <= 30 else 9, "color": "#1a1a1a"},
         "encoding": {"longitude": {"field": "lon", "type": "quantitative"},
                      "latitude": {"field": "lat", "type": "quantitative"}, "text": {"field": "name"}}},
    ]
    return spec


def trend(df: pd.DataFrame, x: str, series: dict[str, str], title: str, y_range=(0, 105), height: int = 320,
          y_label: str = "", rule: tuple[float, str] | None = None) -> dict:
    """Lines over periods: series = {column: label}; ``rule`` = (y, label) draws a dotted line
    (the warning threshold)."""
    order = list(df[x])
    rows = pd.DataFrame([{"x": str(r[x]), "series": label, "y": _num(r[col])}
                         for _, r in df.iterrows() for col, label in series.items()], columns=["x", "series", "y"])
    labels = list(series.values())
    y = {"field": "y", "type": "quantitative", "title": y_label or None, "axis": {"gridColor": "#eeeeee"}}
    if y_range:
        y["scale"] = {"domain": list(y_range)}
    enc = {"x": {"field": "x", "type": "ordinal", "sort": order, "title": None, "axis": {"labelAngle": 0}},
           "y": y,
           "color": {"field": "series", "type": "nominal", "sort": labels,
                     "scale": {"domain": labels, "range": PALETTE[:len(labels)]},
                     "legend": {"orient": "top", "title": None}},
           "tooltip": [{"field": "x", "title": "期间"}, {"field": "series", "title": "对象"},
                       {"field": "y", "title": "值", "format": ".1f"}]}
    spec = _base(_title(title), height)
    spec["datasets"] = {"trend": rows}   # beside the spec: see the module docstring
    spec["layer"] = [{"data": {"name": "trend"}, "mark": {"type": "line", "point": True, "strokeWidth": 2.5},
                      "encoding": enc}]
    if rule:
        spec["layer"] += [
            {"data": {"values": [{"y": rule[0], "label": rule[1]}]},
             "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#c62828"},
             "encoding": {"y": {"field": "y", "type": "quantitative"}}},
            {"data": {"values": [{"y": rule[0], "label": rule[1]}]},
             "mark": {"type": "text", "align": "right", "baseline": "top", "dy": 3, "x": "width",
                      "color": "#c62828", "fontSize": 11},
             "encoding": {"y": {"field": "y", "type": "quantitative"}, "text": {"field": "label"}}},
        ]
    return spec


def versus_median(df: pd.DataFrame, title: str, height: int = 320) -> dict:
    """Grouped bars: the unit's first-level sub-indices against the peers' median.
    df columns: label, unit, median."""
    rows = pd.DataFrame([{"label": r.label, "who": who, "v": _num(v), "text": "" if _num(v) is None else f"{v:.1f}"}
                         for r in df.itertuples() for who, v in (("本单位", r.unit), ("同级中位数", r.median))],
                        columns=["label", "who", "v", "text"])
    who = ["本单位", "同级中位数"]
    enc = {"x": {"field": "label", "type": "nominal", "sort": list(df["label"]), "title": None,
                 "axis": {"labelAngle": 0, "labelLimit": 120}},
           "xOffset": {"field": "who", "sort": who},
           "y": {"field": "v", "type": "quantitative", "title": None, "scale": {"domain": [0, 112]},
                 "axis": {"gridColor": "#eeeeee"}}}
    spec = _base(_title(title), height)
    spec["datasets"] = {"bars": rows}    # beside the spec: see the module docstring
    spec["layer"] = [
        {"data": {"name": "bars"}, "mark": {"type": "bar"},
         "encoding": enc | {"color": {"field": "who", "type": "nominal", "sort": who,
                                      "scale": {"domain": who, "range": [PRIMARY, "#b0bec5"]},
                                      "legend": {"orient": "top", "title": None}},
                            "tooltip": [{"field": "label", "title": "指标"}, {"field": "who", "title": "对象"},
                                        {"field": "text", "title": "分值"}]}},
        {"data": {"name": "bars"}, "mark": {"type": "text", "dy": -6, "fontSize": 11},
         "encoding": enc | {"text": {"field": "text"}}},
    ]
    return spec


def band_legend_html(colours: dict[str, str]) -> str:
    spans = "".join(
        f'<span style="display:inline-block;margin-right:14px"><span style="display:inline-block;width:12px;'
        f'height:12px;background:{c};border-radius:2px;margin-right:4px;vertical-align:-1px"></span>{b}</span>'
        for b, c in colours.items() if b != "无数据")
    return f'<div style="font-size:0.85rem;color:#444">{spans}</div>'


__all__ = ["ranking_bar", "band_map", "trend", "versus_median", "band_legend_html", "BAND_COLORS"]
