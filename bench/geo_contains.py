"""Locating a point among grid boundaries: Open311's former ray test (every edge of every boundary)
against ``core.grids.geo.contains`` (a bounding-box check first), over the demo district's boundaries
as drawn (9-point rings) and densified to ~400 points a ring (a surveyed boundary). Pure CPU, no
database. Run: ``python -m bench.geo_contains``; 5 rounds of 1,000 random points, median and spread.
"""

from __future__ import annotations

import itertools
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from core.config import REPO_ROOT
from core.grids import geo

ROUNDS = 5
POINTS = 1000


def _old_ring(lon: float, lat: float, ring: list[tuple[float, float]]) -> bool:
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < (x2 - x1) * (lat - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def old_contains(boundary: dict[str, Any], lon: float, lat: float) -> bool:
    for polygon in geo.polygons(boundary):
        outer, holes = polygon[0], polygon[1:]
        if _old_ring(lon, lat, list(outer)) and not any(_old_ring(lon, lat, list(h)) for h in holes):
            return True
    return False


def densify(boundary: dict[str, Any], n: int = 400) -> dict[str, Any]:
    rings = []
    for ring in boundary["coordinates"]:
        k = max(1, n // (len(ring) - 1))
        pts = [[x0 + (x1 - x0) * i / k, y0 + (y1 - y0) * i / k] for (x0, y0), (x1, y1) in itertools.pairwise(ring)
               for i in range(k)]  # fmt: skip
        rings.append([*pts, pts[0]])
    return {"type": "Polygon", "coordinates": rings}


def measure(f: Callable[[dict[str, Any], float, float], bool], bounds: list[Any], pts: list[Any]) -> list[float]:
    rounds = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for x, y in pts:
            for b in bounds:
                f(b, x, y)
        rounds.append((time.perf_counter() - t) / len(pts) * 1e6)
    return rounds


def main() -> None:
    shipped = json.loads((REPO_ROOT / "tenants" / "shuangluan" / "demo" / "boundaries.geojson").read_text())
    drawn = [f["geometry"] for f in shipped["features"] if f["geometry"]["type"] == "Polygon"]
    box = geo.bbox(drawn)
    assert box is not None
    rng = random.Random(1)
    pts = [(rng.uniform(box[0], box[2]), rng.uniform(box[1], box[3])) for _ in range(POINTS)]
    for label, bounds in (("as drawn", drawn), ("400 pts/ring", [densify(b) for b in drawn])):
        assert all(old_contains(b, x, y) == geo.contains(b, x, y) for x, y in pts for b in bounds)
        for name, f in (("ray test only", old_contains), ("bbox first", geo.contains)):
            r = measure(f, bounds, pts)
            print(
                f"{label:>12} · {name:<13} · {len(bounds)} boundaries · µs per point: "
                f"median {statistics.median(r):.0f} (min {min(r):.0f}, max {max(r):.0f})"
            )


if __name__ == "__main__":
    main()
