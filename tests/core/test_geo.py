"""Boundaries: GeoJSON validation with clear reasons, the SVG projection and its inverse, the demo shapes."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.config import REPO_ROOT
from core.grids import geo

SQUARE = [[117.70, 40.95], [117.71, 40.95], [117.71, 40.96], [117.70, 40.96], [117.70, 40.95]]


def polygon(*rings: list[list[float]]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


def reason(raw: Any) -> str:
    with pytest.raises(geo.GeoError) as info:
        geo.parse_boundary(raw if isinstance(raw, str | bytes) else json.dumps(raw))
    return str(info.value)


def test_a_polygon_a_feature_and_a_collection_of_one_all_give_the_same_stored_geometry() -> None:
    plain = geo.parse_boundary(json.dumps(polygon(SQUARE)))
    feature = geo.parse_boundary(json.dumps({"type": "Feature", "properties": {}, "geometry": polygon(SQUARE)}))
    collection = geo.parse_boundary(
        json.dumps({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": polygon(SQUARE)}]})
    )
    assert plain == feature == collection == {"type": "Polygon", "coordinates": SQUARE and [SQUARE]}


def test_a_multipolygon_with_a_hole_and_altitudes_is_kept_without_the_altitudes() -> None:
    hole = [[117.702, 40.952], [117.702, 40.954], [117.704, 40.954], [117.704, 40.952], [117.702, 40.952]]
    with_z = [[*p, 312.5] for p in SQUARE]
    other = [[117.72, 40.95], [117.73, 40.95], [117.73, 40.96], [117.72, 40.95]]
    g = geo.parse_boundary(json.dumps({"type": "MultiPolygon", "coordinates": [[with_z, hole], [other]]}))
    assert g["type"] == "MultiPolygon"
    assert g["coordinates"][0][0] == SQUARE and g["coordinates"][0][1] == hole
    assert geo.point_count(g) == 14


def test_a_file_with_a_byte_order_mark_is_read() -> None:
    assert geo.parse_boundary(b"\xef\xbb\xbf" + json.dumps(polygon(SQUARE)).encode())["type"] == "Polygon"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", "Paste GeoJSON or choose a file"),
        ('{"type": "Polygon", "coordinates": [[[117.7, 40.9],', "not valid JSON (line 1"),
        ("[1, 2, 3]", "Expected a GeoJSON object"),
        (b"\xff\xfe{\x00", "not UTF-8"),
        ({"type": "Point", "coordinates": [117.7, 40.9]}, "must be a Polygon or a MultiPolygon, not Point"),
        ({"type": "LineString", "coordinates": SQUARE}, "not LineString"),
        ({"type": "Feature", "geometry": None}, "The Feature has no geometry"),
        ({"type": "FeatureCollection", "features": []}, "has no features"),
        (
            {"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": polygon(SQUARE)}] * 2},
            "has 2 features; give exactly one",
        ),
        (polygon(SQUARE[:-1]), "Ring 1 of polygon 1 is not closed"),
        (polygon([[117.7, 40.9], [117.71, 40.9], [117.7, 40.9]]), "needs at least 4 points"),
        (polygon([[117.7, 40.9], [117.71, 40.9], [117.72, 40.9], [117.7, 40.9]]), "encloses no area"),
        (polygon([[117.7, 40.9], [181.0, 40.9], [117.7, 41.0], [117.7, 40.9]]), "Point 2 of ring 1"),
        (polygon([[117.7, 40.9], [117.7, 91.0], [117.8, 41.0], [117.7, 40.9]]), "outside WGS84 ranges"),
        (polygon([[40.9, 117.7], [40.95, 117.7], [40.95, 117.75], [40.9, 117.7]]), "Longitude comes first"),
        (polygon([[117.7, "40.9"], [117.71, 40.9], [117.7, 41], [117.7, 40.9]]), "not a [longitude, latitude] pair"),
        (
            polygon([[4350000.0, 520000.0], [4350100.0, 520000.0], [4350000.0, 520100.0], [4350000.0, 520000.0]]),
            "WGS84",
        ),
        (
            {**polygon(SQUARE), "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}},
            "this file declares EPSG:3857",
        ),
    ],
)
def test_a_bad_boundary_is_refused_with_a_reason_a_person_can_act_on(raw: Any, expected: str) -> None:
    assert expected in reason(raw)


def test_more_points_than_allowed_are_refused_before_anything_else() -> None:
    n = geo.MAX_POINTS + 1
    ring = [
        [117.7 + 0.01 * math.cos(2 * math.pi * i / n), 40.95 + 0.01 * math.sin(2 * math.pi * i / n)] for i in range(n)
    ]
    ring.append(ring[0])
    assert f"more than {geo.MAX_POINTS} points" in reason(polygon(ring))
    ok = [*ring[: geo.MAX_POINTS - 1], ring[0]]
    assert geo.point_count(geo.parse_boundary(json.dumps(polygon(ok)))) == geo.MAX_POINTS


def test_a_declared_wgs84_crs_is_accepted() -> None:
    data = {**polygon(SQUARE), "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    assert geo.parse_boundary(json.dumps(data))["coordinates"] == [SQUARE]


# ---- projection ---------------------------------------------------------------------------------


@given(
    box=st.tuples(st.floats(-179, 170), st.floats(-80, 70), st.floats(0.0001, 9), st.floats(0.0001, 9)).map(
        lambda t: (t[0], t[1], t[0] + t[2], t[1] + t[3])
    ),
    u=st.floats(0, 1),
    v=st.floats(0, 1),
)
def test_lon_lat_to_svg_and_back_is_within_a_millionth_of_a_degree(box: Any, u: float, v: float) -> None:
    p = geo.Projection.fit(box)
    lon, lat = box[0] + u * (box[2] - box[0]), box[1] + v * (box[3] - box[1])
    x, y = p.to_svg(lon, lat)
    assert -1e-6 <= x <= p.width + 1e-6 and -1e-6 <= y <= p.height + 1e-6
    back = p.to_lonlat(x, y)
    assert abs(back[0] - lon) < 1e-6 and abs(back[1] - lat) < 1e-6
    again = geo.Projection.from_fields(p.as_fields())  # the form fields carry the projection exactly
    assert again == p


def test_a_square_kilometre_looks_square_far_from_the_equator() -> None:
    lat = 60.0
    dlat = 1 / 111.32
    dlon = dlat / math.cos(math.radians(lat))
    p = geo.Projection.fit((10.0, lat, 10.0 + dlon, lat + dlat))
    (x0, y0), (x1, y1) = p.to_svg(10.0, lat), p.to_svg(10.0 + dlon, lat + dlat)
    assert abs(abs(x1 - x0) / abs(y1 - y0) - 1) < 0.01


def test_the_frame_fits_the_shapes_with_north_up() -> None:
    p = geo.Projection.fit((117.5, 40.8, 117.9, 41.1))
    assert p.width == 1000 and 300 <= p.height <= 1000
    north_x, north_y = p.to_svg(117.7, 41.1)
    south_x, south_y = p.to_svg(117.7, 40.8)
    assert north_y < south_y and north_x == pytest.approx(south_x)
    assert p.to_svg(117.5, 41.1) == pytest.approx((p.pad, p.pad))


def test_every_ring_becomes_one_closed_subpath() -> None:
    hole = [[117.702, 40.952], [117.702, 40.954], [117.704, 40.954], [117.704, 40.952], [117.702, 40.952]]
    g = geo.clean_geometry(polygon(SQUARE, hole))
    d = geo.Projection.fit(geo.bbox([g])).path_d(g)
    assert d.count("M") == 2 and d.count("Z") == 2


def test_the_label_sits_inside_the_shape() -> None:
    g = geo.clean_geometry(polygon(SQUARE))
    p = geo.Projection.fit(geo.bbox([g]))
    x, y = p.label_point(g)
    assert p.to_lonlat(x, y) == pytest.approx((117.705, 40.955), abs=1e-6)


def test_clicked_points_become_a_closed_polygon_in_lon_lat() -> None:
    p = geo.Projection.fit((117.69, 40.94, 117.72, 40.97))
    corners = [(117.70, 40.96), (117.70, 40.95), (117.71, 40.95)]
    clicks = [p.to_svg(*c) for c in corners]
    text = " ".join(f"{x!r},{y!r}" for x, y in clicks)
    g = geo.polygon_from_svg(geo.parse_svg_points(text), p)
    ring = g["coordinates"][0]
    assert len(ring) == 4 and ring[0] == ring[-1]
    for got, want in zip(ring, corners, strict=False):
        assert got == pytest.approx(list(want), abs=1e-6)


def test_fewer_than_three_clicks_or_garbage_are_refused() -> None:
    p = geo.Projection.fit((117.69, 40.94, 117.72, 40.97))
    with pytest.raises(geo.GeoError, match="at least 3 points"):
        geo.polygon_from_svg(geo.parse_svg_points("10,10 20,20 10,10"), p)
    with pytest.raises(geo.GeoError, match="could not be read"):
        geo.parse_svg_points("10,10 <script>")
    with pytest.raises(geo.GeoError, match="could not be read"):
        geo.Projection.from_fields({**p.as_fields(), "scale": "-1"})


# ---- the demo shapes ----------------------------------------------------------------------------


def demo_boundaries() -> dict[str, Any]:
    """The shapes shipped in tenants/shuangluan/demo/boundaries.geojson, by node code."""
    data = json.loads((REPO_ROOT / "tenants" / "shuangluan" / "demo" / "boundaries.geojson").read_text())
    return {f["properties"]["code"]: f["geometry"] for f in data["features"]}


def test_the_demo_boundaries_are_valid_and_sit_around_shuangluan() -> None:
    shapes = demo_boundaries()
    assert len(shapes) == 1 + 9 + 1 + 4
    for g in shapes.values():
        assert geo.clean_geometry(g) == g
    west, south, east, north = geo.bbox(shapes.values())
    assert west < 117.7 < east and south < 40.95 < north
    # 双安社区 lies inside 元宝山街道, its grids inside it
    block = geo.bbox([shapes["sl-ybs-sa"]])
    ybs = geo.bbox([shapes["sl-ybs"]])
    assert ybs[0] < block[0] and block[2] < ybs[2] and ybs[1] < block[1] and block[3] < ybs[3]


def test_neighbouring_demo_areas_share_their_edge_exactly() -> None:
    shapes = demo_boundaries()

    def points(code: str) -> set[tuple[float, float]]:
        return {tuple(p) for p in shapes[code]["coordinates"][0]}

    # 元宝山街道 (middle) and 钢城街道 (east of it) share three points: two corners and the bent middle.
    assert len(points("sl-ybs") & points("sl-gc")) == 3
    assert len(points("sl-ybs-sa-g01") & points("sl-ybs-sa-g03")) == 1  # diagonal quarters touch at the centre


def test_svg_path_numbers_are_plain() -> None:
    g = demo_boundaries()["sl"]
    d = geo.Projection.fit(geo.bbox([g])).path_d(g)
    assert re.fullmatch(r"M[\d. L]+Z", d)
