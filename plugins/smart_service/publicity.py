"""What of an event may leave the staff side: the one rule every public output (Open311 GET in JSON
and XML, FixMyStreet's updates, residents' pages and API, the nearby list) goes through.

- Only events of public categories are shown: a category is public when it and its class are
  (``Category.public``; 邻里纠纷, 群租 and public-order classes are not by default, models.py).
- The only note shown is the status note written for residents (``Event.public_note``, and the
  timeline's ``public_note`` lines); internal notes (督办, 挂账 reasons, returns, inspection remarks)
  never are. A resident sees their own words (report, rating) on their own report.
- No personal data: the reporter is never named; phone and ID numbers typed into a description
  are masked.
- The location is snapped to the category's grid (``public_location_m`` metres); when it is
  coarsened, the street address gives way to the grid's name.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from plugins.smart_service.models import Category, Event

PUBLIC_NOTE = "public_note"  # the timeline action of a note written for residents
# Timeline lines a resident may see (their notes only where ``RESIDENT_NOTES`` says).
PUBLIC_ACTIONS = frozenset(
    {"report", "accept", "reject", "register", "dispatch", "sign", "handle", "feedback", "pass", "close", "merge"}
    | {"rate", PUBLIC_NOTE}
)
RESIDENT_NOTES = frozenset({"report", "rate", PUBLIC_NOTE})  # the resident's own words, and ours for them
METRES_PER_DEGREE = 111_320.0
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
_LANDLINE = re.compile(r"(?<!\d)(0\d{2,3}-?)\d{3,4}(\d{4})(?!\d)")


def scrub(text: str) -> str:
    """Mask phone and ID numbers someone typed into a text that will be shown publicly."""
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 11 + m.group(2), text or "")
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(2), text)


def is_public(category: Category | None, parent: Category | None) -> bool:
    return category is not None and bool(category.public) and (parent is None or bool(parent.public))


def public_codes_of(rows: list[Category]) -> set[str]:
    """Of a district's categories (all of them, so classes are there), the codes shown publicly."""
    by_code = {c.code: c for c in rows}
    return {c.code for c in rows if is_public(c, by_code.get(c.parent_code) if c.parent_code else None)}


async def public_codes(session: AsyncSession) -> set[str]:
    """Codes of the categories whose events may be shown publicly."""
    return public_codes_of(list((await session.execute(select(Category))).scalars()))


async def public_event_filter(session: AsyncSession) -> Any:
    """A WHERE clause: the event's category is public."""
    return Event.category_code.in_(sorted(await public_codes(session)))


def coarsen(lat: Any, lon: Any, metres: int) -> tuple[float | None, float | None]:
    """Snap a point to the centre of a grid cell ``metres`` wide (0: as it is)."""
    if lat is None or lon is None:
        return None, None
    lat_f, lon_f = float(lat), float(lon)
    if metres <= 0:
        return lat_f, lon_f
    step_lat = metres / METRES_PER_DEGREE
    lat_c = (math.floor(lat_f / step_lat) + 0.5) * step_lat
    step_lon = metres / (METRES_PER_DEGREE * max(math.cos(math.radians(lat_c)), 0.01))
    lon_c = (math.floor(lon_f / step_lon) + 0.5) * step_lon
    return round(lat_c, 6), round(lon_c, 6)


def location(event: Event, category: Category | None, area_name: str = "") -> tuple[Any, Any, str]:
    """(lat, lon, address) as a public output shows them."""
    metres = int(getattr(category, "public_location_m", 0) or 0)
    lat, lon = coarsen(event.lat, event.lon, metres)
    address = (area_name or "") if metres > 0 else scrub(event.address or "")
    return (
        Decimal(f"{lat:.6f}") if lat is not None else None,
        Decimal(f"{lon:.6f}") if lon is not None else None,
        address,
    )


def description(event: Event) -> str:
    return scrub(event.description or event.title or "")


def status_note(event: Event) -> str:
    return scrub(event.public_note or "")
