"""Boundaries of grid nodes: GeoJSON validation and the projection that draws them as SVG.

A boundary is stored as a plain GeoJSON geometry (``Polygon`` or ``MultiPolygon``) in WGS84
longitude/latitude. Uploads may wrap it in a ``Feature`` or a ``FeatureCollection`` of one
feature; what is stored is the geometry alone, rounded to 7 decimals (about 1 cm).

Maps are drawn without any tile server: an equirectangular projection with a cos(latitude)
correction, fitted to the bounding box of what is shown, gives SVG coordinates (y grows
downwards). ``Projection.to_lonlat`` inverts it exactly, so points clicked on the drawing canvas
become lon/lat again with the very projection they were drawn with.

Error messages are English source sentences marked with ``lazy``; ``GeoError.text()`` translates
them when shown.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from core.i18n import gettext, lazy

MAX_POINTS = 5000
MAX_BYTES = 2_000_000  # 5,000 points of pretty-printed GeoJSON fit well within this
DECIMALS = 7
KM_PER_DEGREE = 111.32  # of latitude
MIN_SPAN = 0.0005  # degrees (~50 m): a frame for a single point or a line still has an area
WGS84_NAMES = frozenset(
    {"urn:ogc:def:crs:ogc:1.3:crs84", "urn:ogc:def:crs:epsg::4326", "epsg:4326", "crs84", "wgs84", "wgs 84"}
)

Position = tuple[float, float]
Ring = list[Position]


class GeoError(ValueError):
    """A user-facing reason a boundary was refused (an English source string and its values)."""

    def __init__(self, message: str, **params: Any) -> None:
        super().__init__(message % params if params else message)
        self.message = message
        self.params = params

    def text(self) -> str:
        return gettext(self.message, **self.params)


# ---- validation ---------------------------------------------------------------------------------


def parse_boundary(raw: str | bytes) -> dict[str, Any]:
    """Text or file bytes → a clean ``{"type", "coordinates"}`` geometry, or GeoError."""
    if isinstance(raw, bytes):
        if len(raw) > MAX_BYTES:
            raise GeoError(lazy("The file is larger than %(mb)s MB."), mb=MAX_BYTES // 1_000_000)
        try:
            raw = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise GeoError(lazy("The file is not UTF-8 text, so it cannot be GeoJSON.")) from exc
    if not raw.strip():
        raise GeoError(lazy("Paste GeoJSON or choose a file."))
    if len(raw) > MAX_BYTES:
        raise GeoError(lazy("The text is longer than %(mb)s MB."), mb=MAX_BYTES // 1_000_000)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise GeoError(
            lazy("This is not valid JSON (line %(line)s, column %(col)s): %(why)s."),
            line=exc.lineno,
            col=exc.colno,
            why=exc.msg,
        ) from exc
    return clean_geometry(data)


def clean_geometry(data: Any) -> dict[str, Any]:
    """Unwrap a Feature / FeatureCollection of one and check the geometry inside."""
    if not isinstance(data, dict):
        raise GeoError(lazy("Expected a GeoJSON object ({…}), not a list or a single value."))
    _check_crs(data)
    kind = data.get("type")
    if kind == "FeatureCollection":
        features = data.get("features")
        if not isinstance(features, list) or not features:
            raise GeoError(lazy("The FeatureCollection has no features."))
        if len(features) > 1:
            raise GeoError(
                lazy("The FeatureCollection has %(n)s features; give exactly one (this node's boundary)."),
                n=len(features),
            )
        data = features[0]
        if not isinstance(data, dict):
            raise GeoError(lazy("Expected a GeoJSON object ({…}), not a list or a single value."))
        _check_crs(data)
        kind = data.get("type")
    if kind == "Feature":
        geometry = data.get("geometry")
        if not isinstance(geometry, dict):
            raise GeoError(lazy("The Feature has no geometry."))
        _check_crs(geometry)
        data, kind = geometry, geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeoError(
            lazy("A boundary must be a Polygon or a MultiPolygon, not %(type)s."),
            type=kind if isinstance(kind, str) and kind else "?",
        )
    coords = data.get("coordinates")
    budget = [MAX_POINTS]
    if kind == "Polygon":
        return {"type": "Polygon", "coordinates": _polygon(coords, 1, budget)}
    if not isinstance(coords, list) or not coords:
        raise GeoError(lazy("The MultiPolygon has no polygons."))
    return {"type": "MultiPolygon", "coordinates": [_polygon(p, i, budget) for i, p in enumerate(coords, 1)]}


def _check_crs(obj: dict[str, Any]) -> None:
    crs = obj.get("crs")
    if crs is None:
        return
    name = ""
    if isinstance(crs, dict):
        props = crs.get("properties")
        name = str(props.get("name", "")) if isinstance(props, dict) else ""
    if name.strip().lower() not in WGS84_NAMES:
        raise GeoError(
            lazy("Coordinates must be WGS84 longitude/latitude (EPSG:4326); this file declares %(crs)s."),
            crs=name or "?",
        )


def _polygon(coords: Any, poly_no: int, budget: list[int]) -> list[list[list[float]]]:
    if not isinstance(coords, list) or not coords:
        raise GeoError(lazy("Polygon %(poly)s has no rings."), poly=poly_no)
    return [_ring(r, poly_no, ring_no, budget) for ring_no, r in enumerate(coords, 1)]


def _ring(coords: Any, poly_no: int, ring_no: int, budget: list[int]) -> list[list[float]]:
    if not isinstance(coords, list):
        raise GeoError(lazy("Ring %(ring)s of polygon %(poly)s is not a list of points."), ring=ring_no, poly=poly_no)
    budget[0] -= len(coords)
    if budget[0] < 0:
        raise GeoError(
            lazy("The boundary has more than %(max)s points; simplify it first (e.g. in QGIS or mapshaper)."),
            max=MAX_POINTS,
        )
    out: list[list[float]] = []
    for point_no, pos in enumerate(coords, 1):
        where = {"point": point_no, "ring": ring_no, "poly": poly_no}
        if (
            not isinstance(pos, list)
            or len(pos) not in (2, 3)
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in pos)
            or not all(math.isfinite(v) for v in pos)
        ):
            raise GeoError(
                lazy("Point %(point)s of ring %(ring)s (polygon %(poly)s) is not a [longitude, latitude] pair."),
                **where,
            )
        lon, lat = float(pos[0]), float(pos[1])
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            if -180 <= lat <= 180 and -90 <= lon <= 90:
                message = lazy(
                    "Point %(point)s of ring %(ring)s (polygon %(poly)s) is outside WGS84 ranges "
                    "(longitude −180…180, latitude −90…90): %(lon)s, %(lat)s. Longitude comes first in GeoJSON."
                )
            else:
                message = lazy(
                    "Point %(point)s of ring %(ring)s (polygon %(poly)s) is outside WGS84 ranges "
                    "(longitude −180…180, latitude −90…90): %(lon)s, %(lat)s."
                )
            raise GeoError(message, lon=pos[0], lat=pos[1], **where)
        out.append([round(lon, DECIMALS), round(lat, DECIMALS)])
    if len(out) < 4:
        raise GeoError(
            lazy("Ring %(ring)s of polygon %(poly)s needs at least 4 points (3 corners, then the first again)."),
            ring=ring_no,
            poly=poly_no,
        )
    if out[0] != out[-1]:
        raise GeoError(
            lazy("Ring %(ring)s of polygon %(poly)s is not closed: its last point must repeat the first."),
            ring=ring_no,
            poly=poly_no,
        )
    if abs(_area([(p[0], p[1]) for p in out])) == 0:
        raise GeoError(lazy("Ring %(ring)s of polygon %(poly)s encloses no area."), ring=ring_no, poly=poly_no)
    return out


# ---- geometry helpers ---------------------------------------------------------------------------


def polygons(geometry: dict[str, Any] | None) -> list[list[Ring]]:
    """A stored geometry as a list of polygons (each a list of rings of (lon, lat))."""
    if not geometry:
        return []
    coords = geometry.get("coordinates") or []
    polys = [coords] if geometry.get("type") == "Polygon" else coords
    return [[[(float(p[0]), float(p[1])) for p in ring] for ring in poly] for poly in polys]


def point_count(geometry: dict[str, Any] | None) -> int:
    return sum(len(ring) for poly in polygons(geometry) for ring in poly)


def bbox(geometries: Iterable[dict[str, Any] | None]) -> tuple[float, float, float, float] | None:
    """(min_lon, min_lat, max_lon, max_lat) over all outer rings, or None if there is nothing."""
    lons: list[float] = []
    lats: list[float] = []
    for g in geometries:
        for poly in polygons(g):
            lons += [p[0] for p in poly[0]]
            lats += [p[1] for p in poly[0]]
    if not lons:
        return None
    return min(lons), min(lats), max(lons), max(lats)


def _area(ring: Sequence[Position]) -> float:
    """Signed shoelace area in the ring's own units."""
    return 0.5 * sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))


def _centroid(ring: Sequence[Position]) -> Position:
    a = _area(ring)
    if a == 0:
        return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)
    cx = cy = 0.0
    for i in range(len(ring) - 1):
        (x0, y0), (x1, y1) = ring[i], ring[i + 1]
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return cx / (6 * a), cy / (6 * a)


# ---- projection ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Projection:
    """Equirectangular with cos(lat) correction: x = pad + (lon − lon0)·kx·scale, y = pad + (lat0 − lat)·scale.

    ``lon0``/``lat0`` are the west/north edges of the fitted box, ``kx`` = cos(middle latitude) (a
    degree of longitude is shorter than one of latitude away from the equator), ``scale`` = SVG
    units per degree of latitude. ``width``/``height`` make the viewBox.
    """

    lon0: float
    lat0: float
    kx: float
    scale: float
    pad: float
    width: float
    height: float

    FIELDS = ("lon0", "lat0", "kx", "scale", "pad", "width", "height")

    @classmethod
    def fit(
        cls,
        box: tuple[float, float, float, float],
        width: float = 1000.0,
        max_height: float = 1000.0,
        min_height: float = 300.0,
        pad: float = 20.0,
    ) -> Projection:
        min_lon, min_lat, max_lon, max_lat = box
        # A point or a line still gets a frame: widen it around its middle.
        if max_lon - min_lon < MIN_SPAN:
            mid = (min_lon + max_lon) / 2
            min_lon, max_lon = mid - MIN_SPAN / 2, mid + MIN_SPAN / 2
        if max_lat - min_lat < MIN_SPAN:
            mid = (min_lat + max_lat) / 2
            min_lat, max_lat = mid - MIN_SPAN / 2, mid + MIN_SPAN / 2
        kx = math.cos(math.radians((min_lat + max_lat) / 2))
        span_x, span_y = (max_lon - min_lon) * kx, max_lat - min_lat
        scale = (width - 2 * pad) / span_x
        height = span_y * scale + 2 * pad
        lat0 = max_lat
        if height > max_height:  # tall shapes: fit the height, narrow the width
            scale = (max_height - 2 * pad) / span_y
            height = max_height
            width = span_x * scale + 2 * pad
        elif height < min_height:  # flat shapes: keep the scale, centre them in a taller frame
            lat0 = max_lat + (min_height - height) / 2 / scale
            height = min_height
        return cls(min_lon, lat0, kx, scale, pad, width, height)

    @classmethod
    def around(cls, lon: float, lat: float, span_km: float = 2.0, **kw: float) -> Projection:
        """A square frame of ``span_km`` around a point (drawing where nothing is drawn yet, zooming)."""
        half_lat = span_km / 2 / KM_PER_DEGREE
        half_lon = half_lat / max(math.cos(math.radians(lat)), 0.01)
        return cls.fit((lon - half_lon, lat - half_lat, lon + half_lon, lat + half_lat), **kw)

    def span_km(self) -> float:
        """North–south extent of the frame in kilometres."""
        return (self.height - 2 * self.pad) / self.scale * KM_PER_DEGREE

    def to_svg(self, lon: float, lat: float) -> tuple[float, float]:
        return self.pad + (lon - self.lon0) * self.kx * self.scale, self.pad + (self.lat0 - lat) * self.scale

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return self.lon0 + (x - self.pad) / (self.kx * self.scale), self.lat0 - (y - self.pad) / self.scale

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width:.2f} {self.height:.2f}"

    def path_d(self, geometry: dict[str, Any] | None) -> str:
        """SVG path data: one closed subpath per ring (draw with fill-rule="evenodd" for holes)."""
        parts = []
        for poly in polygons(geometry):
            for ring in poly:
                pts = [self.to_svg(lon, lat) for lon, lat in ring[:-1]]
                parts.append("M" + " L".join(f"{x:.2f} {y:.2f}" for x, y in pts) + " Z")
        return " ".join(parts)

    def label_point(self, geometry: dict[str, Any] | None) -> tuple[float, float] | None:
        """Where a label goes: the centroid of the largest outer ring, in SVG coordinates."""
        rings = [poly[0] for poly in polygons(geometry)]
        if not rings:
            return None
        projected = [[self.to_svg(lon, lat) for lon, lat in ring] for ring in rings]
        return _centroid(max(projected, key=lambda r: abs(_area(r))))

    def as_fields(self) -> dict[str, str]:
        """The projection as form fields (repr keeps every bit of each float)."""
        return {k: repr(getattr(self, k)) for k in self.FIELDS}

    @classmethod
    def from_fields(cls, data: dict[str, Any]) -> Projection:
        try:
            values = {k: float(str(data[k])) for k in cls.FIELDS}
        except (KeyError, TypeError, ValueError) as exc:
            raise GeoError(lazy("The drawing could not be read; reload the page and draw again.")) from exc
        if (
            not all(math.isfinite(v) for v in values.values())
            or not 0 < values["kx"] <= 1
            or values["scale"] <= 0
            or not (-180 <= values["lon0"] <= 180 and -91 <= values["lat0"] <= 91)
        ):
            raise GeoError(lazy("The drawing could not be read; reload the page and draw again."))
        return cls(**values)


POINTS = re.compile(r"^\s*-?\d+(\.\d+)?\s*,\s*-?\d+(\.\d+)?\s*$")


def parse_svg_points(text: str) -> list[tuple[float, float]]:
    """``"x,y x,y …"`` (an SVG points attribute) → points; GeoError if malformed."""
    pairs = [p for p in re.split(r"[\s;]+", text.strip()) if p]
    if len(pairs) > MAX_POINTS:
        raise GeoError(lazy("The boundary has more than %(max)s points; simplify it first."), max=MAX_POINTS)
    out = []
    for pair in pairs:
        if not POINTS.match(pair):
            raise GeoError(lazy("The drawing could not be read; reload the page and draw again."))
        x, y = pair.split(",")
        out.append((float(x), float(y)))
    return out


def polygon_from_svg(points: Sequence[tuple[float, float]], projection: Projection) -> dict[str, Any]:
    """Points clicked on the canvas → a validated Polygon in lon/lat (the ring is closed here)."""
    distinct = list(dict.fromkeys(points))
    if len(distinct) < 3:
        raise GeoError(lazy("Click at least 3 points to draw an area."))
    ring = [list(projection.to_lonlat(x, y)) for x, y in points]
    if ring[0] != ring[-1]:
        ring.append(list(ring[0]))
    return clean_geometry({"type": "Polygon", "coordinates": [ring]})


def to_geojson_text(geometry: dict[str, Any] | None) -> str:
    """A stored geometry as a downloadable/pasteable Feature."""
    if not geometry:
        return ""
    return json.dumps({"type": "Feature", "properties": {}, "geometry": geometry}, ensure_ascii=False)


# ---- points: inside which boundary, how far -----------------------------------------------------

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance in metres between two WGS84 points."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


def point_in_ring(lon: float, lat: float, ring: Sequence[Sequence[float]]) -> bool:
    """Even-odd ray casting; a closed or open ring of (lon, lat)."""
    inside = False
    n = len(ring)
    for i in range(n):
        (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % n]
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def contains(geometry: dict[str, Any] | None, lon: float, lat: float) -> bool:
    """Whether a stored boundary holds the point (holes excluded). Each polygon's bounding box is
    checked first, on the stored coordinates as they are, so a far boundary is ruled out without
    walking its edges."""
    if not geometry:
        return False
    coords = geometry.get("coordinates") or []
    for polygon in [coords] if geometry.get("type") == "Polygon" else coords:
        if not polygon or not _in_box(polygon[0], lon, lat):
            continue
        if point_in_ring(lon, lat, polygon[0]) and not any(point_in_ring(lon, lat, h) for h in polygon[1:]):
            return True
    return False


def _in_box(ring: Sequence[Sequence[float]], lon: float, lat: float) -> bool:
    xs = [p[0] for p in ring]
    if not min(xs) <= lon <= max(xs):
        return False
    ys = [p[1] for p in ring]
    return min(ys) <= lat <= max(ys)


def deepest_holding(nodes: Iterable[Any], lon: float, lat: float) -> Any | None:
    """Of grid nodes (anything with ``boundary``, ``depth`` and ``id``), the deepest whose boundary
    holds the point, or None."""
    holding = [n for n in nodes if n.boundary and contains(n.boundary, lon, lat)]
    return max(holding, key=lambda n: (n.depth, n.id)) if holding else None


# ---- GCJ-02 (the "Mars" datum of Chinese phone maps) <-> WGS84 ---------------------------------
# The published GCJ-02 obfuscation (as in eviltransform / coordtransform), on the Krasovsky 1940
# ellipsoid. Outside China GCJ-02 equals WGS84. WGS84 -> GCJ-02 is the formula; the inverse has no
# closed form and is found by fixed-point iteration to well under a centimetre.

_KRASOVSKY_A = 6_378_245.0
_KRASOVSKY_EE = 0.00669342162296594323
COORD_SYSTEMS = ("wgs84", "gcj02")


def out_of_china(lon: float, lat: float) -> bool:
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _gcj_delta(lon: float, lat: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    xp, yp = x * math.pi, y * math.pi
    common = 20.0 * math.sin(6.0 * xp) + 20.0 * math.sin(2.0 * xp)
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += (common + 20.0 * math.sin(yp) + 40.0 * math.sin(yp / 3.0)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(yp / 12.0) + 320.0 * math.sin(yp / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lon += (common + 20.0 * math.sin(xp) + 40.0 * math.sin(xp / 3.0)) * 2.0 / 3.0
    d_lon += (150.0 * math.sin(xp / 12.0) + 300.0 * math.sin(xp / 30.0)) * 2.0 / 3.0
    rad = math.radians(lat)
    magic = 1 - _KRASOVSKY_EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = d_lat * 180.0 / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = d_lon * 180.0 / (_KRASOVSKY_A / sqrt_magic * math.cos(rad) * math.pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: float, lat: float) -> Position:
    if out_of_china(lon, lat):
        return lon, lat
    d_lon, d_lat = _gcj_delta(lon, lat)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float) -> Position:
    if out_of_china(lon, lat):
        return lon, lat
    x, y = lon, lat
    for _ in range(30):  # converges in 3-5 steps: the offset changes by <1e-5 per degree
        gx, gy = wgs84_to_gcj02(x, y)
        dx, dy = gx - lon, gy - lat
        x, y = x - dx, y - dy
        if abs(dx) < 1e-10 and abs(dy) < 1e-10:
            break
    return x, y


def to_wgs84(lon: float, lat: float, coord_system: str | None) -> Position:
    """A point as a client sent it (``coord_system`` "wgs84", the default, or "gcj02") in WGS84."""
    if (coord_system or "wgs84").lower() == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    return lon, lat
