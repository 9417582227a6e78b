"""Plotly figures for the pages (presentation only: frames in, figures out)."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from ui import geo
from ui.style import BAND_COLORS, PRIMARY

FONT = dict(family="Noto Sans CJK SC, Microsoft YaHei, PingFang SC, sans-serif", size=13)
# red → amber → green, matching the bands
INDEX_SCALE = [(0.0, "#c62828"), (0.45, "#f0a202"), (0.7, "#c9d94a"), (1.0, "#2e7d32")]


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


def choropleth(df: pd.DataFrame, gj: dict, value: str, title: str, value_label: str = "指数",
               hover: dict | None = None, height: int = 520) -> go.Figure:
    """A province map coloured by `value`; offline (map_style white-bg: no tiles), marked 示意图."""
    centre, zoom = geo.view(gj, 400, height - 80)
    d = df.copy()
    d[value] = d[value].astype(float)
    fig = px.choropleth_map(
        d, geojson=gj, locations="code", featureidkey="id", color=value,
        color_continuous_scale=INDEX_SCALE, range_color=(max(0, float(d[value].min() // 10 * 10)) if d[value].notna().any() else 0, 100),
        map_style="white-bg", center=centre, zoom=zoom, opacity=0.85, hover_name="name",
        hover_data=hover or {value: ":.1f", "code": False}, labels={value: value_label},
    )
    fig.update_traces(marker_line_width=0.8, marker_line_color="white")
    # units without a value: grey outlines underneath
    missing = d[d[value].isna()]
    if not missing.empty:
        fig.add_trace(go.Choroplethmap(geojson=gj, locations=missing["code"], featureidkey="id",
                                       z=[0] * len(missing), colorscale=[(0, "#dddddd"), (1, "#dddddd")],
                                       showscale=False, text=missing["name"], hovertemplate="%{text}：无数据<extra></extra>",
                                       marker_line_color="white", marker_line_width=0.8))
    _layout(fig, height, title=dict(text=title, font=dict(size=15)),
            coloraxis_colorbar=dict(title=value_label, thickness=12, len=0.6))
    fig.add_annotation(text="示意图 · 边界仅供参考，不作为权属依据", xref="paper", yref="paper", x=0.01, y=0.01,
                       showarrow=False, font=dict(size=11, color="#555"), bgcolor="rgba(255,255,255,0.8)")
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


__all__ = ["ranking_bar", "choropleth", "trend", "versus_median", "band_legend_html", "BAND_COLORS"]
