"""Invented boundaries for the 双滦区 demo, so the map has something to show.

NOT real administrative boundaries: a 3 × 3 patchwork of 3 街道 and 6 镇 around lon 117.7,
lat 40.95 (where 双滦区 roughly lies), the district as their outline, 双安社区 as a small block
inside 元宝山街道 and its four grids as the block's quarters. Neighbours share their edge points
exactly, so the patchwork has no gaps or overlaps.

``seed_boundaries`` is idempotent and never overwrites a boundary someone has drawn or uploaded.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.geo import clean_geometry
from core.grids.models import GridNode

# Lattice of shared corners, north to south and west to east (lon, lat); inner corners nudged
# so the patchwork does not look like a chessboard.
LONS = (117.50, 117.63, 117.76, 117.90)
LATS = (41.10, 41.00, 40.92, 40.82)
NUDGE = {(1, 1): (0.012, -0.008), (1, 2): (-0.01, 0.006), (2, 1): (0.008, 0.01), (2, 2): (-0.012, -0.006)}
# Which node sits in which cell (row, column).
CELLS = {
    "sl-czz": (0, 0),  # 陈栅子镇
    "sl-dm": (0, 1),  # 大庙镇
    "sl-pqz": (0, 2),  # 偏桥子镇
    "sl-xd": (1, 0),  # 西地镇
    "sl-ybs": (1, 1),  # 元宝山街道
    "sl-gc": (1, 2),  # 钢城街道
    "sl-sts": (2, 0),  # 双塔山镇
    "sl-xs": (2, 1),  # 秀水街道
    "sl-lh": (2, 2),  # 滦河镇
}
# 双安社区: a block inside 元宝山街道; its grids are the quarters (g01 north-west, then clockwise).
BLOCK = (117.690, 40.948, 117.712, 40.964)  # west, south, east, north


def _corner(row: int, col: int) -> tuple[float, float]:
    dx, dy = NUDGE.get((row, col), (0.0, 0.0))
    return round(LONS[col] + dx, 6), round(LATS[row] + dy, 6)


def _edge_mid(a: tuple[int, int], b: tuple[int, int]) -> tuple[float, float]:
    """The middle of the edge a–b, bent a little; the same for both cells that share the edge."""
    a, b = min(a, b), max(a, b)
    (x0, y0), (x1, y1) = _corner(*a), _corner(*b)
    bend = 0.006 if (a[0] + a[1] + b[0]) % 2 else -0.006
    if a[0] == b[0]:  # a horizontal edge bends north/south
        return round((x0 + x1) / 2, 6), round((y0 + y1) / 2 + bend, 6)
    return round((x0 + x1) / 2 + bend, 6), round((y0 + y1) / 2, 6)


def _walk(corners: list[tuple[int, int]]) -> list[list[float]]:
    """A closed ring through lattice corners, with the bent middle of every edge between them."""
    ring: list[list[float]] = []
    for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
        ring.append(list(_corner(*a)))
        ring.append(list(_edge_mid(a, b)))
    ring.append(ring[0])
    return ring


def _polygon(ring: list[list[float]]) -> dict[str, Any]:
    return clean_geometry({"type": "Polygon", "coordinates": [ring]})


def cell(row: int, col: int) -> dict[str, Any]:
    # Counter-clockwise in lon/lat (RFC 7946 outer rings): NW → SW → SE → NE.
    return _polygon(_walk([(row, col), (row + 1, col), (row + 1, col + 1), (row, col + 1)]))


def district() -> dict[str, Any]:
    west = [(r, 0) for r in range(4)]
    south = [(3, c) for c in range(1, 4)]
    east = [(r, 3) for r in range(2, -1, -1)]
    north = [(0, c) for c in range(2, 0, -1)]
    return _polygon(_walk(west + south + east + north))


def block_quarters() -> dict[str, dict[str, Any]]:
    w, s, e, n = BLOCK
    mx, my = round((w + e) / 2 + 0.001, 6), round((s + n) / 2 - 0.0007, 6)

    def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
        return _polygon([[x0, y1], [x0, y0], [x1, y0], [x1, y1], [x0, y1]])

    return {
        "sl-ybs-sa": rect(w, s, e, n),
        "sl-ybs-sa-g01": rect(w, my, mx, n),
        "sl-ybs-sa-g02": rect(mx, my, e, n),
        "sl-ybs-sa-g03": rect(mx, s, e, my),
        "sl-ybs-sa-g04": rect(w, s, mx, my),
    }


def demo_boundaries() -> dict[str, dict[str, Any]]:
    out = {"sl": district()}
    out.update({code: cell(*rc) for code, rc in CELLS.items()})
    out.update(block_quarters())
    return out


async def seed_boundaries(session: AsyncSession, nodes: dict[str, GridNode]) -> int:
    """Give the demo nodes that have none their invented boundary; returns how many were set."""
    changed = 0
    for code, geometry in demo_boundaries().items():
        node = nodes.get(code)
        if node is not None and not node.boundary:
            node.boundary = geometry
            changed += 1
    if changed:
        await session.flush()
    return changed
