"""Points on the map: GCJ-02 <-> WGS84 against published pairs, point-in-polygon with holes and its
bounding-box prefilter, great-circle distance, the deepest node holding a point."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.grids import geo

# (wgs lon, wgs lat, gcj lon, gcj lat): googollee/eviltransform's test pairs (Shanghai, Shenzhen,
# Beijing) and wandergis/coordtransform's README example (天安门).
PAIRS = [
    (121.5272106, 31.1774276, 121.531541859215, 31.17530398364597),
    (113.912316, 22.543847, 113.9171764808363, 22.540796131694766),
    (116.377817, 39.911954, 116.38404722455657, 39.91334545536069),
    (116.404, 39.915, 116.41024449916938, 39.91640428150164),
]
CM = 1e-7  # degrees: about a centimetre


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PAIRS)
def test_wgs84_to_gcj02_gives_the_published_coordinates(wlon: float, wlat: float, glon: float, glat: float) -> None:
    lon, lat = geo.wgs84_to_gcj02(wlon, wlat)
    assert lon == pytest.approx(glon, abs=CM) and lat == pytest.approx(glat, abs=CM)


@pytest.mark.parametrize(("wlon", "wlat", "glon", "glat"), PAIRS)
def test_gcj02_to_wgs84_recovers_the_gps_point(wlon: float, wlat: float, glon: float, glat: float) -> None:
    lon, lat = geo.gcj02_to_wgs84(glon, glat)
    assert lon == pytest.approx(wlon, abs=CM) and lat == pytest.approx(wlat, abs=CM)


def test_the_offset_in_chengde_is_hundreds_of_metres_and_outside_china_there_is_none() -> None:
    lon, lat = geo.wgs84_to_gcj02(117.8, 40.95)
    assert 100 < geo.haversine_m(117.8, 40.95, lon, lat) < 1000
    assert geo.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)  # Paris
    assert geo.gcj02_to_wgs84(2.35, 48.85) == (2.35, 48.85)


def test_to_wgs84_converts_only_what_says_it_is_gcj02() -> None:
    assert geo.to_wgs84(116.404, 39.915, "wgs84") == (116.404, 39.915)
    assert geo.to_wgs84(116.404, 39.915, None) == (116.404, 39.915)
    assert geo.to_wgs84(*PAIRS[3][2:], "GCJ02") == pytest.approx(PAIRS[3][:2], abs=CM)


@given(st.floats(73.0, 135.0), st.floats(18.0, 53.0))
def test_converting_there_and_back_moves_a_point_by_less_than_a_centimetre(lon: float, lat: float) -> None:
    back = geo.wgs84_to_gcj02(*geo.gcj02_to_wgs84(lon, lat))
    assert back == pytest.approx((lon, lat), abs=CM)


SQUARE = [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0), (0.0, 0.0)]
HOLE = [(4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0), (4.0, 4.0)]
FAR = [(20.0, 20.0), (21.0, 20.0), (21.0, 21.0), (20.0, 21.0), (20.0, 20.0)]


def test_a_point_in_a_hole_is_not_inside_and_a_second_polygon_counts() -> None:
    with_hole = {"type": "Polygon", "coordinates": [SQUARE, HOLE]}
    assert geo.contains(with_hole, 2, 2)
    assert not geo.contains(with_hole, 5, 5)
    assert not geo.contains(with_hole, 11, 5)
    multi = {"type": "MultiPolygon", "coordinates": [[SQUARE], [FAR]]}
    assert geo.contains(multi, 20.5, 20.5) and not geo.contains(multi, 15, 15)
    assert not geo.contains(None, 1, 1)


def test_a_concave_shape_is_outside_in_its_notch() -> None:
    u_shape = [(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3), (0, 0)]
    geometry = {"type": "Polygon", "coordinates": [u_shape]}
    assert geo.contains(geometry, 0.5, 2) and geo.contains(geometry, 2.5, 2)
    assert not geo.contains(geometry, 1.5, 2)


@given(st.floats(-5, 15), st.floats(-5, 15))
def test_the_bounding_box_prefilter_never_changes_the_answer(lon: float, lat: float) -> None:
    geometry = {"type": "Polygon", "coordinates": [SQUARE, HOLE]}
    plain = geo.point_in_ring(lon, lat, SQUARE) and not geo.point_in_ring(lon, lat, HOLE)
    assert geo.contains(geometry, lon, lat) == plain


def test_distances_along_a_meridian_and_between_two_cities() -> None:
    one_degree = geo.EARTH_RADIUS_M * math.pi / 180
    assert geo.haversine_m(117.8, 40.0, 117.8, 41.0) == pytest.approx(one_degree, rel=1e-9)
    assert geo.haversine_m(116.404, 39.915, 121.4737, 31.2304) == pytest.approx(1_067_000, rel=0.01)  # 北京–上海
    assert geo.haversine_m(117.8, 40.95, 117.8, 40.95) == 0


@dataclass
class Node:
    id: int
    depth: int
    boundary: dict[str, Any] | None


def test_the_deepest_node_holding_the_point_wins() -> None:
    district = Node(1, 0, {"type": "Polygon", "coordinates": [SQUARE]})
    grid = Node(2, 2, {"type": "Polygon", "coordinates": [[(1, 1), (3, 1), (3, 3), (1, 3), (1, 1)]]})
    other = Node(3, 2, {"type": "Polygon", "coordinates": [[(7, 7), (9, 7), (9, 9), (7, 9), (7, 7)]]})
    undrawn = Node(4, 3, None)
    nodes = [district, grid, other, undrawn]
    assert geo.deepest_holding(nodes, 2, 2) is grid
    assert geo.deepest_holding(nodes, 5, 2) is district
    assert geo.deepest_holding(nodes, 50, 50) is None
