"""Where and when the demo's stories happen, and who is in them: the demo places, a point inside a
node's boundary, a clock that moves in working time, the moment a report came in, the demo's
accounts and the one photo their feedback steps share."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.context import Actor
from core.grids.models import GridNode
from core.identity.models import User
from core.services.files.models import StoredFile
from plugins.smart_service import sla

DISTRICT_ROOT = "sl"  # events and bookings are seeded for 双滦区 only
DEMO_COMMUNITY = "sl-ybs-sa"  # 双安社区: the demo grid worker's community
DEMO_GRID = "sl-ybs-sa-g01"  # the demo grid worker's own grid: only its events are assigned to them
CENTRE = (117.79, 40.96)  # 双滦区, when a node has no boundary


async def demo_users(session: AsyncSession) -> dict[str, Actor]:
    names = (
        "admin",
        "community",
        "community_worker",
        "grid_worker",
        "grid_leader",
        "resident",
        "subdistrict_officer",
        "chengguan",
        "zhujian",
        "hotline",
    )
    rows = await session.execute(select(User.id, User.username).where(User.username.in_(names)))
    found = {username: Actor("user", uid, username) for uid, username in rows.all()}
    return found if {"admin", "resident"} <= set(found) else {}


def point(node: GridNode, nodes_by_id: Mapping[int, GridNode], rng: random.Random) -> tuple[Decimal, Decimal]:
    """A point inside the node's boundary box (or its nearest ancestor's), else near the district centre."""
    current: GridNode | None = node
    while current is not None:
        ring = _ring(current.boundary)
        if ring:
            lons = [p[0] for p in ring]
            lats = [p[1] for p in ring]
            lon = rng.uniform(min(lons), max(lons)) * 0.6 + (sum(lons) / len(lons)) * 0.4
            lat = rng.uniform(min(lats), max(lats)) * 0.6 + (sum(lats) / len(lats)) * 0.4
            return Decimal(f"{lon:.6f}"), Decimal(f"{lat:.6f}")
        current = nodes_by_id.get(current.parent_id) if current.parent_id else None
    return Decimal(f"{CENTRE[0] + rng.uniform(-0.05, 0.05):.6f}"), Decimal(
        f"{CENTRE[1] + rng.uniform(-0.03, 0.03):.6f}"
    )


def _ring(boundary: Any) -> list[list[float]]:
    if not isinstance(boundary, dict):
        return []
    geometry = boundary.get("geometry", boundary)
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    try:
        if kind == "Polygon":
            return [list(map(float, p[:2])) for p in coords[0]]
        if kind == "MultiPolygon":
            return [list(map(float, p[:2])) for p in coords[0][0]]
    except (TypeError, IndexError, ValueError):
        return []
    return []


class Clock:
    """Moves an event's story forward in working time (staff act in office hours): minutes per step,
    now and then a long wait (which breaches the stage's limit), never past the last working moment."""

    def __init__(
        self, start: datetime, rng: random.Random, late: bool, limit: datetime, calendar: sla.Calendar
    ) -> None:
        self.t, self.rng, self.late, self.limit, self.calendar = start, rng, late, limit, calendar

    def step(self, long: bool = False) -> datetime:
        hours = self.rng.uniform(0.05, 0.45)  # within the tightest limits (特急 受理: half an hour)
        if long and self.late:
            hours += self.rng.uniform(30, 60)
        self.t = min(sla.add_working_hours(self.t, hours, self.calendar), self.limit)
        return self.t


def last_working_moment(now: datetime, calendar: sla.Calendar) -> datetime:
    """The latest moment of working time before ``now`` (staff do not act at night in the demo)."""
    t = now - timedelta(minutes=1)
    for _ in range(4 * 24 * 4):  # back over a long holiday, by quarter hours
        if sla.add_working_hours(t, 0, calendar) == t:
            return t
        t -= timedelta(minutes=15)
    return now - timedelta(minutes=1)


def reported_at(now: datetime, age: timedelta, rng: random.Random, calendar: sla.Calendar, staff: bool) -> datetime:
    """When a report came in: staff (patrols, hotline, superiors) in working hours; residents from
    early morning to late evening, weekends too."""
    day = (now - age).astimezone(calendar.tz)
    if staff:
        start = day.replace(hour=0, minute=0, second=0, microsecond=0)
        return sla.add_working_hours(start, rng.uniform(0.1, 7.5), calendar)
    local = day.replace(
        hour=rng.choice((7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21)), minute=rng.randrange(60)
    )
    return local.astimezone(now.tzinfo)


async def demo_photo(session: AsyncSession, tenant: Any, storage: Any) -> StoredFile:
    """One real JPEG (a plain picture with a caption band) shared by the demo's feedback steps."""
    import io

    from PIL import Image, ImageDraw

    image = Image.new("RGB", (640, 480), (120, 160, 110))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 400, 640, 480), fill=(40, 60, 40))
    draw.text((20, 430), "demo: after handling", fill=(255, 255, 255))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=80)
    photo = await storage.save(
        session,
        tenant.id,
        data=buf.getvalue(),
        filename="after-1.jpg",
        content_type="image/jpeg",
        owner_type="smart_service.event",
    )
    await session.flush()
    return photo
