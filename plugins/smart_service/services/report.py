"""Reporting an event: checks, its number, the 受理 deadline and the first timeline line."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id, utcnow
from core.db.context import Actor
from core.grids import validation
from core.grids.models import GridNode
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import (
    STAGE_OF,
    State,
    lazy,
)
from plugins.smart_service.models import (
    MAX_DESCRIPTION,
    SOURCES,
    URGENCIES,
    Category,
    Event,
    EventTransition,
)
from plugins.smart_service.services.common import (
    NUMBER_PREFIX,
    PHONE_PURPOSE,
    TOP_DOWN_SOURCES,
    InvalidInput,
    _actor_name,
    _announce,
    _category,
    _check_photos,
    _limit,
)
from plugins.smart_service.services.numbers import next_number


async def report_event(
    session: AsyncSession,
    *,
    title: str,
    category_code: str,
    node_id: int,
    source: str,
    actor: Actor | None = None,
    description: str = "",
    lon: float | Decimal | None = None,
    lat: float | Decimal | None = None,
    address: str = "",
    urgency: int | None = None,
    photos: Iterable[int] = (),
    reporter_resident_id: int | None = None,
    reporter_name: str = "",
    reporter_phone: str | None = None,
    vault: Any = None,
    level: int | None = None,
    now: datetime | None = None,
    app_state: Any = None,
    enabled: Iterable[str] | None = None,
    prefix: str = NUMBER_PREFIX,
    node: Any = None,
    category: Category | None = None,
    calendar: sla.Calendar | None = None,
    flush: bool = True,
) -> Event:
    """Create an event in ``reported`` with its number, the 受理 deadline and the first timeline line.

    ``node_id`` is where it happened (the lowest grid node containing it). ``level`` defaults to the
    community (3), or the command centre (1) for hotline and superior sources. A reporter's phone
    is stored encrypted with ``vault`` (``request.app.state.vault``) and shown masked.

    What the caller has already loaded is passed down rather than read again: ``node`` (the node
    itself: a GridNode or a cached ``core.grids.locate.Area``), ``category`` (the row for
    ``category_code``) and ``calendar`` (the tenant's working calendar). ``flush=False`` leaves the
    rows to the caller's next flush (its commit): one flush for all it writes with the report.
    """
    now = now or utcnow()
    title, description = _texts(title, description, source)
    if category is None or category.code != category_code:
        category = await _category(session, category_code)
    if category is None or not category.active:
        raise InvalidInput(lazy("Choose a category"))
    if node is None or node.id != node_id:
        node = (await session.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()
    if node is None:
        raise InvalidInput(lazy("Choose where the event happened"))
    lon_d, lat_d = _coordinates(lon, lat)
    urgency = category.urgency if urgency is None else int(urgency)
    if urgency not in URGENCIES:
        raise InvalidInput(lazy("Urgency is 1 (normal), 2 (urgent) or 3 (critical)"))
    if level is not None and level not in (1, 2, 3):
        raise InvalidInput(lazy("The handling level is 1, 2 or 3"))
    photo_ids = await _check_photos(session, photos)
    phone_enc, phone_masked = _phone(reporter_phone, vault)

    calendar = calendar or await sla.load_calendar(session)
    number = await next_number(session, now, prefix, calendar)
    event = Event(
        id=new_id(),
        number=number,
        title=title,
        description=description,
        category_code=category.code,
        source=source,
        urgency=urgency,
        reporter_user_id=actor.id if actor is not None and actor.kind == "user" else None,
        reporter_resident_id=reporter_resident_id,
        reporter_name=(reporter_name or "").strip()[:100],
        reporter_phone_enc=phone_enc,
        reporter_phone_masked=phone_masked,
        lon=lon_d,
        lat=lat_d,
        address=(address or "").strip()[:300],
        node_id=node.id,
        node_path=node.path,
        state=State.REPORTED.value,
        level=level or (1 if source in TOP_DOWN_SOURCES else 3),
        stage=STAGE_OF[State.REPORTED],
        stage_started_at=now,
        clock_seq=1,
        due_at=sla.add_working_hours(now, _limit(category, STAGE_OF[State.REPORTED], urgency), calendar),
        created_at=now,
        updated_at=now,
        version=1,  # what the insert sets (version_id_col), known before any flush
    )
    session.add(event)
    session.add(
        EventTransition(
            event_id=event.id,
            from_state=None,
            to_state=event.state,
            action="report",
            actor_user_id=event.reporter_user_id,
            actor_name=await _actor_name(session, actor) or event.reporter_name,
            at=now,
            photos=photo_ids,
            data={"source": source, "number": number},
        )
    )
    if flush:
        await session.flush()
    await _announce(session, app_state, enabled, "report", event, actor, {"from": None})
    return event


def _texts(title: str, description: str, source: str) -> tuple[str, str]:
    """The title and description as stored (trimmed), or the reason they are refused."""
    title = (title or "").strip()
    if not title:
        raise InvalidInput(lazy("Give the event a title"))
    if len(title) > 200:
        raise InvalidInput(lazy("The title is too long (at most %(max)s characters)"), max=200)
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(lazy("The description is too long (at most %(max)s characters)"), max=MAX_DESCRIPTION)
    if source not in SOURCES:
        raise InvalidInput(lazy("Unknown source of the report: %(source)s"), source=source)
    return title, description


def _coordinates(lon: Any, lat: Any) -> tuple[Decimal | None, Decimal | None]:
    if lon is None and lat is None:
        return None, None
    try:
        lon_f, lat_f = float(lon), float(lat)
    except (TypeError, ValueError):
        raise InvalidInput(lazy("Give both longitude and latitude, or neither")) from None
    if not (-180 <= lon_f <= 180 and -90 <= lat_f <= 90) or math.isnan(lon_f) or math.isnan(lat_f):
        raise InvalidInput(lazy("The location is not on the map"))
    return Decimal(f"{lon_f:.6f}"), Decimal(f"{lat_f:.6f}")


def _phone(raw: str | None, vault: Any) -> tuple[bytes | None, str | None]:
    if not raw or not raw.strip():
        return None, None
    try:
        value = validation.check_phone(raw)
        masked = validation.mask_phone(value)
    except validation.InvalidValue:
        value = re.sub(r"[\s-]", "", raw.strip())
        if not re.fullmatch(r"\+?\d{5,20}", value):
            raise InvalidInput(lazy("The phone number is not valid")) from None
        masked = "*" * (len(value) - 4) + value[-4:]
    if vault is None:
        raise ValueError("a vault is needed to store a reporter's phone")
    return vault.encrypt(value, PHONE_PURPOSE.encode()), masked
