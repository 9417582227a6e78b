"""Plotly figures for the pages (presentation only: frames in, figures out)."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui import geo
from ui.style import BAND_COLORS, PRIMARY

FONT = dict(family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif", size=13)


def _layout(fig: go.Figure, height: int, **kw) -> go.Figure:
    kw.setdefault("margin", dict(l=8, r=8, t=36, b=8))
    fig.update_layout(height=height, font=FONT, plot_bgcolor="white", paper_bgcolor="white", **kw)
    return fig


def ranking_bar(df: pd.DataFrame, value: str, band_col: str, colours: dict[str, str], title: str,
                value_label: str = "指数", max_value: float = 100) -> go.Figure:
    """Horizontal bars, best at the top, coloured by band; NA units listed at the bottom."""
    d = df.copy()
    d["_v"] = d[value].astype(float)
    d = d.sort_values("_v", ascending=True, na_position="first")
    d["_label"] = d["_v"].map(lambda v: "无数据" if pd.isna(v) else f"{v:.1f}")
    fig = px.bar(d, x="_v", y="name", orientation="h", color=band_col, color_discrete_map=colours,
                 text="_label", category_orders={band_col: list(colours)},
                 labels={"_v": value_label, "name": "", band_col: "分档"},
                 hover_data={"_v": ":.1f", band_col: True, "name": False, "_label": False})
    fig.update_traces(textposition="outside", cliponaxis=False)
    fig.update_xaxes(range=[0, max_value * 1.08], showgrid=True, gridcolor="#eeeeee")
    fig.update_yaxes(type="category", categoryorder="array", categoryarray=d["name"].tolist())
    _layout(fig, max(260, 26 * len(d) + 110), title=dict(text=title, font=dict(size=15)),
            legend=dict(orientation="h", yanchor="top", y=-0.12, xanchor="left", x=0, title=None),
            bargap=0.25, margin=dict(l=8, r=8, t=36, b=60))
    return fig


def band_map(df: pd.DataFrame, shapes: dict, band_col: str, colours: dict[str, str], title: str,
             value: str = "index", value_label: str = "指数", height: int = 560) -> go.Figure:
    """The province's units filled with their band's colour (the bars' colours), each labelled
    with its name, the value and rank on hover; fitted to the province's bounds. Plain SVG
    shapes (ui.geo.outlines): no map tiles, fonts or network; marked 示意图."""
    units = shapes["units"]
    d = df[df["code"].isin(units)].copy()
    d[band_col] = d[band_col].fillna("无数据")
    fig = go.Figure()
    for band_label, colour in colours.items():      # one trace per band: the legend is the bands
        part = d[d[band_col] == band_label]
        first = True
        for r in part.itertuples():
            u = units[r.code]
            v = getattr(r, value)
            shown = "无数据" if pd.isna(v) else f"{v:.1f}"
            rank = getattr(r, "rank", None)
            hover = f"{u['name']}<br>{value_label}：{shown}" + ("" if pd.isna(rank) else f"<br>第 {int(rank)} 名") \
                + f"<br>{band_label}"
            fig.add_trace(go.Scatter(x=u["x"], y=u["y"], fill="toself", fillcolor=colour, mode="lines",
                                     line=dict(color="white", width=1), name=band_label, legendgroup=band_label,
                                     showlegend=first, hoveron="fills", text=hover, hoverinfo="text"))
            first = False
    fig.add_trace(go.Scatter(x=[units[c]["lon"] for c in d["code"]], y=[units[c]["lat"] for c in d["code"]],
                             mode="text", text=[units[c]["name"] for c in d["code"]], hoverinfo="skip",
                             textfont=dict(size=12 if len(d) <= 30 else 9, color="#1a1a1a"), showlegend=False,
                             name="labels"))
    x0, y0, x1, y1 = shapes["bounds"]
    pad_x, pad_y = (x1 - x0) * 0.03, (y1 - y0) * 0.03
    fig.update_xaxes(range=[x0 - pad_x, x1 + pad_x], visible=False, fixedrange=True)
    fig.update_yaxes(range=[y0 - pad_y, y1 + pad_y], visible=False, fixedrange=True,
                     scaleanchor="x", scaleratio=geo.aspect(shapes["bounds"]))
    _layout(fig, height, title=dict(text=title, font=dict(size=15)),
            legend=dict(orientation="h", yanchor="top", y=-0.02, xanchor="left", x=0, title=None),
            margin=dict(l=8, r=8, t=36, b=40))
    fig.add_annotation(text="示意图 · 边界仅供参考，不作为权属依据", xref="paper", yref="paper", x=1, y=0,
                       xanchor="right", showarrow=False, font=dict(size=11, color="#555"))
    return fig


def trend(df: pd.DataFrame, x: str, series: dict[str, str], title: str, y_range=(0, 105), height: int = 320,
          y_label: str = "") -> go.Figure:
    """Lines over periods: series = {column: label}."""
    fig = go.Figure()
    palette = [PRIMARY, "#e07b00", "#6a8caf", "#8e44ad"]
    for i, (col, label) in enumerate(series.items()):
        fig.add_trace(go.Scatter(x=df[x], y=df[col], name=label, mode="lines+markers",
                                 line=dict(color=palette[i % len(palette)], width=2.5),
                                 hovertemplate="%{x}<br>" + label + "：%{y:.1f}<extra></extra>"))
    fig.update_yaxes(range=list(y_range) if y_range else None, gridcolor="#eeeeee", title=y_label)
    fig.update_xaxes(type="category")
    return _layout(fig, height, title=dict(text=title, font=dict(size=15)),
                   legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))


def versus_median(df: pd.DataFrame, title: str, height: int = 320) -> go.Figure:
    """Grouped bars: the unit's first-level sub-indices against the peers' median.
    df columns: label, unit, median."""
    fig = go.Figure()
    fig.add_trace(go.Bar(x=df["label"], y=df["unit"], name="本单位", marker_color=PRIMARY,
                         text=df["unit"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}"), textposition="outside"))
    fig.add_trace(go.Bar(x=df["label"], y=df["median"], name="同级中位数", marker_color="#b0bec5",
                         text=df["median"].map(lambda v: "" if pd.isna(v) else f"{v:.1f}"), textposition="outside"))
    fig.update_yaxes(range=[0, 112], gridcolor="#eeeeee")
    return _layout(fig, height, title=dict(text=title, font=dict(size=15)), barmode="group",
                   legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1))


def band_legend_html(colours: dict[str, str]) -> str:
    spans = "".join(
        f'<span style="display:inline-block;margin-right:14px"><span style="display:inline-block;width:12px;'
        f'height:12px;background:{c};border-radius:2px;margin-right:4px;vertical-align:-1px"></span>{b}</span>'
        for b, c in colours.items() if b != "无数据")
    return f'<div style="font-size:0.85rem;color:#444">{spans}</div>'


__all__ = ["ranking_bar", "band_map", "trend", "versus_median", "band_legend_html", "BAND_COLORS"]
