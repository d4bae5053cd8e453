"""Writes the 双滦区 demo's data files into tenants/shuangluan/demo/ (run once; the files are
committed and are what ``liuzhi demo`` and ``liuzhi tenants apply --demo`` load, through core's
importers). Deterministic: a second run writes the same bytes.

    python tenants/tools/make_shuangluan_demo.py

What it writes, for 双安社区 (元宝山街道): the estates' buildings, units and households below the
grids (nodes.csv), about forty residents with valid generated ID numbers and phones
(residents.csv), floor areas and owners (households.csv), a few organisations
(organisations.csv), and invented boundaries so the map has something to show
(boundaries.geojson).

The boundaries are NOT real administrative boundaries: a 3 × 3 patchwork of 3 街道 and 6 镇
around lon 117.7, lat 40.95 (where 双滦区 roughly lies), the district as their outline, 双安社区
as a small block inside 元宝山街道 and its four grids as the block's quarters. Neighbours share
their edge points exactly, so the patchwork has no gaps or overlaps.
"""

from __future__ import annotations

import csv
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.grids import validation as v
from core.grids.geo import clean_geometry

OUT = Path(__file__).resolve().parents[1] / "shuangluan" / "demo"

COMMUNITY = "sl-ybs-sa"
REGION = "130803"  # 双滦区's administrative division code: the first six digits of its ID numbers
DEVELOPER = "承德双安房地产开发有限公司"
ESTATE_UNITS = "sl-ybs-sa-g01-asly"

# New nodes under 双安社区 (parent code, code, kind, name, English name); grid.csv has 1号楼1单元's rooms.
EXTRA_NODES: tuple[tuple[str, str, str, str, str], ...] = (
    *[
        (f"{ESTATE_UNITS}-{unit}", f"{ESTATE_UNITS}-{unit}-{room}", "household", room, room)
        for unit in ("b1-u2", "b2-u1")
        for room in ("101", "102", "201", "202")
    ],
    ("sl-ybs-sa-g02", "sl-ybs-sa-g02-sajy", "estate", "双安家园", "Shuang'an Jiayuan"),
    ("sl-ybs-sa-g02-sajy", "sl-ybs-sa-g02-sajy-b1", "building", "1号楼", "Building 1"),
    ("sl-ybs-sa-g02-sajy-b1", "sl-ybs-sa-g02-sajy-b1-u1", "unit", "1单元", "Unit 1"),
    *[
        ("sl-ybs-sa-g02-sajy-b1-u1", f"sl-ybs-sa-g02-sajy-b1-u1-{room}", "household", room, room)
        for room in ("101", "102", "201", "202")
    ],
    ("sl-ybs-sa-g03", "sl-ybs-sa-g03-lpxq", "estate", "滦畔小区", "Luanpan Estate"),
    ("sl-ybs-sa-g03-lpxq", "sl-ybs-sa-g03-lpxq-b3", "building", "3号楼", "Building 3"),
    ("sl-ybs-sa-g03-lpxq-b3", "sl-ybs-sa-g03-lpxq-b3-u2", "unit", "2单元", "Unit 2"),
    *[
        ("sl-ybs-sa-g03-lpxq-b3-u2", f"sl-ybs-sa-g03-lpxq-b3-u2-{room}", "household", room, room)
        for room in ("301", "302", "401", "402")
    ],
)

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
MEN = ("建国", "志强", "海涛", "文军", "宏伟", "晓东", "子轩")
WOMEN = ("秀英", "桂兰", "丽娜", "春梅", "玉珍", "淑芬", "雨桐")


def _given(male: bool, n: int) -> str:
    names = MEN if male else WOMEN
    return names[n % len(names)]


AREAS = ("89.50", "120.00", "76.30", "105.80", "132.60", "68.00")


@dataclass(frozen=True)
class Person:
    name: str
    born: date
    male: bool
    relation: str
    registration: str = "户籍"
    ethnicity: str = "汉族"
    phone: bool = True


def _households() -> list[str]:
    codes = [f"{ESTATE_UNITS}-b1-u1-{room}" for room in ("101", "102", "201", "202")]
    return codes + [code for _p, code, kind, _n, _e in EXTRA_NODES if kind == "household"]


def _people(index: int, code: str) -> list[Person]:
    """A family per household: a head, often a spouse and a child; tenants in a few."""
    surname, other = SURNAMES[index % len(SURNAMES)], SURNAMES[(index + 7) % len(SURNAMES)]
    head_year = 1950 + (index * 7) % 40
    ethnicity = "满族" if index % 5 == 2 else "汉族"
    male = index % 3 != 1
    if code.endswith(("b1-u2-102", "b3-u2-401")):  # let to tenants; the owners live elsewhere
        return [
            Person(surname + _given(True, index), date(1990 + index % 8, 3, 9), True, "租户", "流动"),
            Person(other + _given(False, index + 3), date(1992 + index % 6, 8, 21), False, "租户", "流动"),
        ]
    family = [
        Person(
            surname + _given(male, index),
            date(head_year, 1 + index % 12, 1 + (index * 3) % 28),
            male,
            "户主",
            ethnicity=ethnicity,
        )
    ]
    if index % 2 == 0:
        family.append(
            Person(
                other + _given(not male, index + 5),
                date(head_year + 2, 1 + (index + 4) % 12, 1 + (index * 5) % 28),
                not male,
                "配偶",
                ethnicity=ethnicity,
            )
        )
    if index % 3 != 2:
        family.append(
            Person(
                surname + _given(index % 2 == 0, index + 2),
                date(min(head_year + 28, 2018), 1 + (index + 7) % 12, 1 + (index * 11) % 28),
                index % 2 == 0,
                "子女",
                ethnicity=ethnicity,
                phone=head_year + 28 < 2006,
            )
        )
    return family


def _id_number(person: Person, seq: int) -> str:
    order = (seq * 2 + (1 if person.male else 0)) % 1000  # the 17th digit is odd for men
    return v.make_id_number(f"{REGION}{person.born:%Y%m%d}{order:03d}")


def _credit_code(first17: str) -> str:
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    total = sum(chars.index(ch) * w for ch, w in zip(first17, weights, strict=True))
    return first17 + chars[(31 - total % 31) % 31]


ORGANISATIONS: tuple[tuple[str, str, str | None, str, str, str], ...] = (
    # kind, name, credit code (first 17), contact, address, node code
    ("property_company", "承德安顺物业服务有限公司", "91130803MA07LY8K1", "孙经理", "安顺乐居物业中心", ESTATE_UNITS),
    ("social_org", "双安社区老年人协会", "51130803MA0N2D3E4", "周会长", "双安社区服务中心二楼", COMMUNITY),
    ("party_org", "中共双安社区委员会", None, "刘书记", "双安社区党群服务中心", COMMUNITY),
    ("resident_unit", "双滦区双安小学", "12130803MA0P3F4G5", "吴校长", "双安路18号", "sl-ybs-sa-g02"),
)


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


def _rows() -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """(residents, household areas, owners) as the files hold them, in the order the seed made them."""
    residents: list[list[str]] = []
    households: list[list[str]] = []
    heads: dict[str, str] = {}  # household code -> the head's ID number
    seq = 0
    for index, code in enumerate(_households()):
        households.append([code, AREAS[index % len(AREAS)], "", ""])
        if code.endswith(("b3-u2-301", "b3-u2-302")):
            continue  # unsold: the developer's, nobody lives there
        for person in _people(index, code):
            seq += 1
            id_number = _id_number(person, seq)
            phone = f"1383140{seq:04d}" if person.phone else ""
            moved_in = date(2012 + index % 10, 1 + index % 12, 1 + index % 28)
            residents.append(
                [
                    person.name,
                    id_number,
                    phone,
                    code,
                    person.relation,
                    person.ethnicity,
                    person.registration,
                    moved_in.isoformat(),
                ]
            )
            if person.relation == "户主":
                heads[code] = id_number
    # Owners: each head owns their home; 安顺乐居 1-1-101's head also owns the let 1-2-102; the
    # developer still holds two unsold units; the tenants' 401 belongs to 1-1-201's head.
    owners = [[code, "", "person", number] for code, number in heads.items()]
    first = f"{ESTATE_UNITS}-b1-u1-"
    owners.append([f"{ESTATE_UNITS}-b1-u2-102", "", "person", heads[first + "101"]])
    owners.append(["sl-ybs-sa-g03-lpxq-b3-u2-401", "", "person", heads[first + "201"]])
    owners += [[f"sl-ybs-sa-g03-lpxq-b3-u2-{room}", "", "developer", DEVELOPER] for room in ("301", "302")]
    return residents, households, owners


def _write_csv(name: str, header: list[str], rows: list[list[str]]) -> None:
    with (OUT / name).open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        out.writerows(rows)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    _write_csv(
        "nodes.csv", ["code", "parent", "kind", "name", "name_en"], [[c, p, k, n, e] for p, c, k, n, e in EXTRA_NODES]
    )
    residents, households, owners = _rows()
    _write_csv(
        "residents.csv",
        ["name", "id_number", "phone", "household", "relation", "ethnicity", "registration", "moved_in"],
        residents,
    )
    _write_csv("households.csv", ["household", "floor_area", "owner_kind", "owner"], households + owners)
    _write_csv(
        "organisations.csv",
        ["kind", "name", "credit_code", "contact_name", "contact_phone", "address", "node"],
        [
            [kind, name, _credit_code(code17) if code17 else "", contact, f"1393140{i:04d}", address, node]
            for i, (kind, name, code17, contact, address, node) in enumerate(ORGANISATIONS)
        ],
    )
    features = [
        {"type": "Feature", "properties": {"code": code}, "geometry": shape}
        for code, shape in demo_boundaries().items()
    ]
    lines = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in features)
    text = '{"type":"FeatureCollection","features":[\n' + lines + "\n]}\n"  # a feature a line
    (OUT / "boundaries.geojson").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
