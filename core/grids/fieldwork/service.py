"""Field work use cases: start, track and end a patrol; note what was found on it; record a household
visit (changing the register through core's people service); keep the daily log. Each takes the
caller's tenant-bound session, writes in its transaction and raises ``ServiceError``s (nothing written)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.db.base import utcnow
from core.grids import people
from core.grids import validation as v
from core.grids.basedata import RESIDENT_ACTIVE, Resident
from core.grids.fieldwork.models import DailyLog, Patrol, PatrolFinding, PatrolPoint, Visit
from core.grids.models import GridNode
from core.rbac.models import RoleAssignment
from core.services.errors import InvalidInput, NotFound, lazy

RECORD, VIEW = "core.field.record", "core.field.view"
RESIDENT_EDIT = "core.resident.edit"
HOUSEHOLD = "household"
MAX_BATCH = 500  # points in one request; the phone sends every few dozen
MAX_TEXT = 4000
# A point may be stamped a little before the start or after the end (clocks of phone and server).
CLOCK_SLACK = timedelta(minutes=5)
TOPICS: dict[str, str] = {
    "concern": lazy("Residents' concerns"),
    "safety": lazy("Safety hazards"),
    "environment": lazy("Environment and sanitation"),
    "dispute": lazy("Disputes"),
    "care": lazy("People needing care"),
    "other": lazy("Other"),
}

Allowed = Callable[[str, str | None], bool]


# ---- where a worker works -------------------------------------------------------------------


async def home_node(session: AsyncSession, user_id: int, allowed: Allowed) -> GridNode | None:
    """The deepest node the user holds a role at that lets them record field work (their grid)."""
    rows = (
        await session.execute(
            select(RoleAssignment.node_id, RoleAssignment.node_path).where(RoleAssignment.user_id == user_id)
        )
    ).all()
    places = [(path, node_id) for node_id, path in rows if allowed(RECORD, path)]
    if not places:
        return None
    node_id = max(places, key=lambda p: p[0].count("/"))[1]
    return (await session.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()


# ---- patrols --------------------------------------------------------------------------------


async def active_patrol(session: AsyncSession, user_id: int) -> Patrol | None:
    stmt = (
        select(Patrol)
        .where(Patrol.user_id == user_id, Patrol.ended_at.is_(None))
        .order_by(Patrol.started_at.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_patrol(session: AsyncSession, patrol_id: int) -> Patrol:
    patrol = (await session.execute(select(Patrol).where(Patrol.id == patrol_id))).scalar_one_or_none()
    if patrol is None:
        raise NotFound(lazy("There is no such patrol here."))
    return patrol


async def start_patrol(session: AsyncSession, user_id: int, node: GridNode, now: datetime | None = None) -> Patrol:
    """Start a patrol in ``node``; a patrol already under way is the one returned (a second tap
    or a replayed request does not start another)."""
    current = await active_patrol(session, user_id)
    if current is not None:
        return current
    patrol = Patrol(user_id=user_id, node_id=node.id, node_path=node.path, started_at=now or utcnow())
    session.add(patrol)
    await session.flush()
    return patrol


@dataclass(frozen=True)
class Fix:
    """A position from the phone: WGS84 degrees, the time it was taken, its accuracy in metres."""

    at: datetime
    lon: float
    lat: float
    accuracy: float | None = None


def parse_fixes(raw: Any) -> list[Fix]:
    """Points from a JSON body: ``[{"t": ms since epoch or ISO time, "lon", "lat", "acc"?}, …]``."""
    if not isinstance(raw, list):
        raise InvalidInput(lazy("Send the points as a list."), field="points")
    if len(raw) > MAX_BATCH:
        raise InvalidInput(lazy("Send at most %(n)s points at a time."), field="points", n=MAX_BATCH)
    out = []
    for item in raw:
        if not isinstance(item, dict):
            raise InvalidInput(lazy("Each point needs a time, a longitude and a latitude."), field="points")
        try:
            at = _time(item.get("t", item.get("at")))
            lon, lat = float(item["lon"]), float(item["lat"])
            acc = item.get("acc", item.get("accuracy"))
            accuracy = float(acc) if acc is not None else None
        except (KeyError, TypeError, ValueError, OverflowError):
            raise InvalidInput(lazy("Each point needs a time, a longitude and a latitude."), field="points") from None
        if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidInput(lazy("That location is not on Earth: check longitude and latitude."), field="points")
        if accuracy is not None and not (math.isfinite(accuracy) and accuracy >= 0):
            accuracy = None
        out.append(Fix(at, lon, lat, accuracy))
    return out


def _time(raw: Any) -> datetime:
    from datetime import UTC

    if isinstance(raw, int | float) and not isinstance(raw, bool):
        ms = int(raw)
        return datetime.fromtimestamp(ms // 1000, UTC) + timedelta(milliseconds=ms % 1000)
    if isinstance(raw, str):
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        if value.tzinfo is None:
            raise ValueError("naive time")
        return value.astimezone(UTC)
    raise ValueError("no time")


async def add_points(session: AsyncSession, patrol: Patrol, fixes: Sequence[Fix], now: datetime | None = None) -> int:
    """Add the route's points; ones already stored (a batch sent again) and ones outside the
    patrol's time are left out. Returns how many were added; distance and count are recomputed."""
    now = now or utcnow()
    end = (patrol.ended_at or now) + CLOCK_SLACK
    start = patrol.started_at - CLOCK_SLACK
    wanted = {f.at: f for f in fixes if start <= f.at <= end}
    if not wanted:
        return 0
    have = set(
        (
            await session.execute(
                select(PatrolPoint.at).where(
                    PatrolPoint.patrol_id == patrol.id,
                    PatrolPoint.at >= min(wanted),
                    PatrolPoint.at <= max(wanted),
                )
            )
        ).scalars()
    )
    have = {_utc(t) for t in have}
    new = [f for at, f in sorted(wanted.items()) if _utc(at) not in have]
    for f in new:
        session.add(PatrolPoint(patrol_id=patrol.id, at=f.at, lon=f.lon, lat=f.lat, accuracy=f.accuracy))
    await session.flush()
    await _measure(session, patrol)
    return len(new)


def _utc(value: datetime) -> datetime:
    from datetime import UTC

    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


async def _measure(session: AsyncSession, patrol: Patrol) -> None:
    points = await route(session, patrol)
    patrol.point_count = len(points)
    patrol.distance_m = round(sum(metres(a, b) for a, b in itertools.pairwise(points)))


def metres(a: Any, b: Any) -> float:
    """Great-circle distance between two points with ``lon``/``lat`` (haversine, mean Earth radius)."""
    r = 6_371_008.8
    p1, p2 = math.radians(a.lat), math.radians(b.lat)
    dp, dl = p2 - p1, math.radians(b.lon - a.lon)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(min(1.0, math.sqrt(h)))


async def end_patrol(session: AsyncSession, patrol: Patrol, note: str = "", now: datetime | None = None) -> Patrol:
    """End the patrol (ending it again changes nothing)."""
    if patrol.ended_at is not None:
        return patrol
    patrol.ended_at = max(now or utcnow(), patrol.started_at)
    patrol.note = note.strip()[:MAX_TEXT]
    await _measure(session, patrol)
    return patrol


async def route(session: AsyncSession, patrol: Patrol) -> list[PatrolPoint]:
    stmt = select(PatrolPoint).where(PatrolPoint.patrol_id == patrol.id).order_by(PatrolPoint.at)
    return list((await session.execute(stmt)).scalars())


async def note_finding(
    session: AsyncSession,
    user_id: int,
    *,
    source: str,
    ref: str,
    title: str,
    href: str = "",
    at: datetime | None = None,
) -> PatrolFinding | None:
    """Link a record a module made (``source``, e.g. a report with number ``ref``) to the patrol
    the user was on at ``at`` (now by default). No patrol then: nothing is linked. Linking the
    same record again changes nothing."""
    at = at or utcnow()
    patrol = (
        await session.execute(
            select(Patrol)
            .where(
                Patrol.user_id == user_id,
                Patrol.started_at <= at + CLOCK_SLACK,
                (Patrol.ended_at.is_(None)) | (Patrol.ended_at >= at - CLOCK_SLACK),
            )
            .order_by(Patrol.started_at.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if patrol is None:
        return None
    existing = (
        await session.execute(select(PatrolFinding).where(PatrolFinding.source == source, PatrolFinding.ref == ref))
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    finding = PatrolFinding(patrol_id=patrol.id, source=source[:64], ref=ref[:100], title=title[:200], href=href, at=at)
    session.add(finding)
    await session.flush()
    return finding


async def findings(session: AsyncSession, patrol_ids: Iterable[int]) -> dict[int, list[PatrolFinding]]:
    ids = list(patrol_ids)
    out: dict[int, list[PatrolFinding]] = {i: [] for i in ids}
    if ids:
        rows = await session.execute(
            select(PatrolFinding).where(PatrolFinding.patrol_id.in_(ids)).order_by(PatrolFinding.at)
        )
        for f in rows.scalars():
            out[f.patrol_id].append(f)
    return out


def svg_route(points: Sequence[Any], width: int = 320, height: int = 240, pad: int = 12) -> dict[str, Any]:
    """The route as an SVG polyline in a ``width``×``height`` box, north up, metres to scale (a local
    equirectangular projection is exact enough for a walk through one grid)."""
    if not points:
        return {"points": "", "width": width, "height": height, "start": None, "end": None}
    lat0 = math.radians(sum(p.lat for p in points) / len(points))
    xs = [p.lon * math.cos(lat0) for p in points]
    ys = [p.lat for p in points]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-9
    scale = min(width, height) - 2 * pad
    ox = pad + (width - 2 * pad - (max(xs) - min(xs)) / span * scale) / 2
    oy = pad + (height - 2 * pad - (max(ys) - min(ys)) / span * scale) / 2
    pts = [
        (round(ox + (x - min(xs)) / span * scale, 1), round(oy + (max(ys) - y) / span * scale, 1))
        for x, y in zip(xs, ys, strict=True)
    ]
    return {
        "points": " ".join(f"{x},{y}" for x, y in pts),
        "width": width,
        "height": height,
        "start": pts[0],
        "end": pts[-1],
    }


# ---- household visits -----------------------------------------------------------------------


@dataclass
class ResidentChange:
    """What a visit found different about one resident of the household."""

    resident_id: int
    phone: str = ""  # a new phone number, or "" (unchanged)
    note: str | None = None  # the register's note, replaced; None: unchanged
    moved_out: bool = False


async def household(session: AsyncSession, node_id: int) -> GridNode:
    node = (
        await session.execute(select(GridNode).where(GridNode.id == node_id, GridNode.kind == HOUSEHOLD))
    ).scalar_one_or_none()
    if node is None:
        raise NotFound(lazy("There is no such household here."))
    return node


async def residents_of(session: AsyncSession, node: GridNode) -> list[Resident]:
    stmt = (
        select(Resident).where(Resident.node_id == node.id, Resident.status == RESIDENT_ACTIVE).order_by(Resident.name)
    )
    return list((await session.execute(stmt)).scalars())


async def record_visit(
    session: AsyncSession,
    vault: Vault,
    user_id: int,
    node: GridNode,
    notes: str,
    changes: Sequence[ResidentChange] = (),
    *,
    may_edit: bool,
    at: datetime | None = None,
) -> Visit:
    """Record a visit to household ``node``; apply ``changes`` to its residents' records (audited
    row by row by core, and named in the visit). Changes need ``may_edit`` (the register's edit
    action at the household)."""
    notes = notes.strip()
    if not notes:
        raise InvalidInput(lazy("Write down what you learned on the visit."), field="notes")
    if len(notes) > MAX_TEXT:
        raise InvalidInput(lazy("At most %(n)s characters."), field="notes", n=MAX_TEXT)
    now = utcnow()
    at = at or now
    if at > now + CLOCK_SLACK:
        raise InvalidInput(lazy("A visit cannot be in the future."), field="visited_at")
    wanted = [ch for ch in changes if ch.phone or ch.note is not None or ch.moved_out]
    if wanted and not may_edit:
        raise InvalidInput(lazy("You may not change these residents' records."), field="form")
    by_id = {r.id: r for r in await residents_of(session, node)}
    summary: list[dict[str, Any]] = []
    for ch in wanted:
        resident = by_id.get(ch.resident_id)
        if resident is None:
            raise InvalidInput(lazy("That resident does not live in this household."), field="form")
        what: list[str] = []
        if ch.phone:
            try:
                phone = v.check_phone(ch.phone)
            except v.InvalidValue as exc:
                raise InvalidInput(str(exc), field=f"phone_{resident.id}") from None
            if resident.phone_hash != vault.blind_index(phone, people.PHONE_PURPOSE):
                people.apply_sensitive(resident, vault, people.ResidentInput(name=resident.name, phone=phone))
                what.append("phone")
        if ch.note is not None and ch.note.strip()[:2000] != (resident.note or ""):
            resident.note = ch.note.strip()[:2000]
            what.append("note")
        if ch.moved_out:
            await people.move_out(session, resident, at.date())
            what.append("moved_out")
        if what:
            summary.append({"resident": resident.id, "name": resident.name, "what": what})
    visit = Visit(
        user_id=user_id, household_node_id=node.id, node_path=node.path, visited_at=at, notes=notes, changes=summary
    )
    session.add(visit)
    await session.flush()
    if summary:
        record(session, "field.visit.register_changed", "field_visits", visit.id, {"residents": summary})
    return visit


# ---- daily log ------------------------------------------------------------------------------


async def add_log(
    session: AsyncSession, user_id: int, node: GridNode, body: str, topic: str = "other", day: date | None = None
) -> DailyLog:
    body = body.strip()
    if not body:
        raise InvalidInput(lazy("Write the entry."), field="body")
    if len(body) > MAX_TEXT:
        raise InvalidInput(lazy("At most %(n)s characters."), field="body", n=MAX_TEXT)
    if topic not in TOPICS:
        raise InvalidInput(lazy("Choose a topic from the list."), field="topic")
    today = utcnow().date()
    day = day or today
    if day > today + timedelta(days=1) or day < today - timedelta(days=31):
        raise InvalidInput(lazy("Log entries are for today or the past month."), field="day")
    entry = DailyLog(user_id=user_id, node_id=node.id, node_path=node.path, day=day, topic=topic, body=body)
    session.add(entry)
    await session.flush()
    return entry


async def counts_today(session: AsyncSession, user_id: int, day: date) -> dict[str, int]:
    """What the worker has done today: visits and log entries (for 我的)."""
    start = datetime.combine(day, datetime.min.time()).replace(tzinfo=utcnow().tzinfo)
    visits = await session.scalar(
        select(func.count(Visit.id)).where(Visit.user_id == user_id, Visit.visited_at >= start)
    )
    logs = await session.scalar(select(func.count(DailyLog.id)).where(DailyLog.user_id == user_id, DailyLog.day == day))
    return {"visits": int(visits or 0), "logs": int(logs or 0)}


# ---- visit photos ---------------------------------------------------------------------------

VISIT_FILES = "core.field_visit"  # owner_type of a visit's photos (routes_files.py decides who sees them)
MAX_PHOTOS = 4
MAX_SIDE = 1600


def clean_photo(data: bytes) -> bytes | None:
    """A photo as JPEG, turned upright, at most ``MAX_SIDE`` px, with no metadata (EXIF carries the
    place and the phone); None if it is not a picture Pillow can read."""
    import io

    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as opened:
            image = ImageOps.exif_transpose(opened).convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


async def visit_photos(session: AsyncSession, visit_id: int) -> list[int]:
    from core.services.files.models import StoredFile

    rows = await session.execute(
        select(StoredFile.id)
        .where(StoredFile.owner_type == VISIT_FILES, StoredFile.owner_id == str(visit_id))
        .order_by(StoredFile.id)
    )
    return list(rows.scalars())
