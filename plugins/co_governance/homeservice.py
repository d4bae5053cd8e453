"""家政服务超市 and purchased services: providers with their credentials, offers with prices,
residents' bookings and ratings, purchased-service contracts with their deliverables.

A booking moves requested → confirmed → done (then the resident rates it once) or → cancelled
(by the resident before it is done, or by staff); the table below is the whole state machine.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids import validation
from core.grids.models import GridNode
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.co_governance import numbers
from plugins.co_governance.models import Booking, Contract, Offer, Provider

KINDS = {"company": lazy("Home-service company"), "social_org": lazy("Social organisation")}
OFFER_CATEGORIES = ("保洁", "月嫂", "育儿", "助老", "维修", "助餐", "心理服务", "其他")
REQUESTED, CONFIRMED, DONE, CANCELLED = "requested", "confirmed", "done", "cancelled"
STATES = (REQUESTED, CONFIRMED, DONE, CANCELLED)
STATE_LABELS = {
    REQUESTED: lazy("Awaiting confirmation"),
    CONFIRMED: lazy("Confirmed"),
    DONE: lazy("Service done"),
    CANCELLED: lazy("Cancelled"),
}
# (from, action) → to; "who" says which side may do it.
TRANSITIONS = {
    (REQUESTED, "confirm"): (CONFIRMED, "staff"),
    (CONFIRMED, "done"): (DONE, "staff"),
    (REQUESTED, "cancel"): (CANCELLED, "either"),
    (CONFIRMED, "cancel"): (CANCELLED, "either"),
}


def next_state(state: str, action: str, *, staff: bool) -> str:
    found = TRANSITIONS.get((state, action))
    if found is None or (found[1] == "staff" and not staff):
        raise Conflict(lazy("This booking cannot take that step now."))
    return found[0]


def cents(raw: object, field: str = "price") -> int:
    try:
        value = Decimal(str(raw).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput(lazy("Enter an amount in yuan, e.g. 60 or 59.50."), field=field) from None
    if not value.is_finite() or value < 0 or value > 10_000_000 or value != value.quantize(Decimal("0.01")):
        raise InvalidInput(lazy("Enter an amount in yuan, e.g. 60 or 59.50."), field=field)
    return int(value * 100)


async def add_provider(
    session: AsyncSession,
    *,
    name: str,
    kind: str,
    credit_code: str,
    node: GridNode,
    licence: str = "",
    contact_name: str = "",
    phone: str = "",
) -> Provider:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(lazy("A provider needs a name of at most 100 characters."), field="name")
    if kind not in KINDS:
        raise InvalidInput(lazy("Choose the kind of provider."), field="kind")
    try:
        code = validation.check_credit_code(credit_code or "")
    except validation.InvalidValue:
        raise InvalidInput(lazy("The unified social credit code is not valid."), field="credit_code") from None
    if await session.scalar(select(Provider.id).where(Provider.credit_code == code)):
        raise Conflict(lazy("A provider with this credit code is already listed."))
    provider = Provider(
        name=name,
        kind=kind,
        credit_code=code,
        licence=(licence or "").strip()[:300],
        contact_name=(contact_name or "").strip()[:50],
        phone=(phone or "").strip()[:20],
        node_id=node.id,
        node_path=node.path,
    )
    session.add(provider)
    await session.flush()
    return provider


async def get_provider(session: AsyncSession, provider_id: int) -> Provider:
    found = await session.scalar(select(Provider).where(Provider.id == provider_id))
    if found is None:
        raise NotFound(lazy("There is no provider %(id)s."), id=provider_id)
    return found


async def add_offer(
    session: AsyncSession,
    provider: Provider,
    *,
    title: str,
    category: str,
    price: object,
    unit: str = "次",
    description: str = "",
) -> Offer:
    title = (title or "").strip()
    if not 1 <= len(title) <= 100:
        raise InvalidInput(lazy("An offer needs a title of at most 100 characters."), field="title")
    if category not in OFFER_CATEGORIES:
        raise InvalidInput(lazy("Choose a service category."), field="category")
    offer = Offer(
        provider_id=provider.id,
        title=title,
        category=category,
        price_cents=cents(price),
        unit=(unit or "次").strip()[:20],
        description=(description or "").strip()[:500],
    )
    session.add(offer)
    await session.flush()
    return offer


async def get_offer(session: AsyncSession, offer_id: int) -> Offer:
    found = await session.scalar(select(Offer).where(Offer.id == offer_id))
    if found is None:
        raise NotFound(lazy("There is no offer %(id)s."), id=offer_id)
    return found


async def book(
    session: AsyncSession,
    offer: Offer,
    *,
    user_id: int,
    node: GridNode,
    wanted_on: object,
    note: str = "",
    today: date | None = None,
    at: datetime | None = None,
) -> Booking:
    if not offer.active:
        raise Conflict(lazy("This offer is no longer available."))
    provider = await get_provider(session, offer.provider_id)
    if not provider.active:
        raise Conflict(lazy("This offer is no longer available."))
    try:
        day = wanted_on if isinstance(wanted_on, date) else date.fromisoformat(str(wanted_on).strip())
    except ValueError:
        raise InvalidInput(lazy("Choose the day you want the service."), field="wanted_on") from None
    today = today or datetime.now(numbers.LOCAL).date()
    if day < today or (day - today).days > 90:
        raise InvalidInput(lazy("Choose a day from today to 90 days ahead."), field="wanted_on")
    moment = at or datetime.now(UTC)
    booking = Booking(
        number=await numbers.daily(session, "JZ", moment),
        offer_id=offer.id,
        provider_id=offer.provider_id,
        user_id=user_id,
        node_id=node.id,
        node_path=node.path,
        wanted_on=day,
        note=(note or "").strip()[:500],
        price_cents=offer.price_cents,
        created_at=moment,
    )
    session.add(booking)
    await session.flush()
    return booking


async def get_booking(session: AsyncSession, booking_id: int) -> Booking:
    found = await session.scalar(select(Booking).where(Booking.id == booking_id))
    if found is None:
        raise NotFound(lazy("There is no booking %(id)s."), id=booking_id)
    return found


async def move(session: AsyncSession, booking: Booking, action: str, *, staff: bool) -> Booking:
    booking.state = next_state(booking.state, action, staff=staff)
    if booking.state == DONE:
        booking.done_at = datetime.now(UTC)
    await session.flush()
    return booking


async def rate(session: AsyncSession, booking: Booking, user_id: int, rating: object, comment: str = "") -> Booking:
    if booking.user_id != user_id:
        raise NotFound(lazy("There is no booking %(id)s."), id=booking.id)
    if booking.state != DONE:
        raise Conflict(lazy("A service can be rated once it is done."))
    if booking.rating is not None:
        raise Conflict(lazy("You have already rated this service."))
    try:
        value = int(str(rating).strip())
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise InvalidInput(lazy("Give 1 to 5 stars."), field="rating")
    booking.rating, booking.rating_comment, booking.rated_at = value, (comment or "").strip()[:500], datetime.now(UTC)
    await session.flush()
    return booking


async def add_contract(
    session: AsyncSession,
    provider: Provider,
    *,
    title: str,
    node: GridNode,
    amount: object,
    starts_on: object,
    ends_on: object,
    deliverables: list[str],
) -> Contract:
    title = (title or "").strip()
    if not 1 <= len(title) <= 200:
        raise InvalidInput(lazy("A contract needs a title of at most 200 characters."), field="title")
    try:
        start = date.fromisoformat(str(starts_on).strip())
        end = date.fromisoformat(str(ends_on).strip())
    except ValueError:
        raise InvalidInput(lazy("Give the contract's start and end dates."), field="starts_on") from None
    if end < start:
        raise InvalidInput(lazy("The contract ends after it starts."), field="ends_on")
    items = [d.strip()[:200] for d in deliverables if d.strip()]
    if not items:
        raise InvalidInput(lazy("List at least one deliverable."), field="deliverables")
    contract = Contract(
        provider_id=provider.id,
        title=title,
        node_path=node.path,
        amount_cents=cents(amount, "amount"),
        starts_on=start,
        ends_on=end,
        deliverables=[{"name": d, "done": False} for d in items],
    )
    session.add(contract)
    await session.flush()
    return contract


async def mark_deliverable(session: AsyncSession, contract: Contract, index: int, done: bool) -> Contract:
    items = [dict(d) for d in contract.deliverables]
    if not 0 <= index < len(items):
        raise InvalidInput(lazy("There is no such deliverable."), field="index")
    items[index]["done"] = done
    contract.deliverables = items
    await session.flush()
    return contract
