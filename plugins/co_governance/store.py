"""雷锋超市: a catalogue with stock and point prices; a volunteer redeems points for an item
(reserve: stock and points are taken at once; then staff hand it over with a record, or the
reservation is cancelled and both come back by a ledger reversal).

Neither stock nor a balance goes below zero, also when two app processes redeem the last item or
one volunteer redeems twice at once: stock moves by one conditional UPDATE (``stock >= qty``) with
a CHECK behind it, points by the ledger's conditional UPDATE; both run in one savepoint, so a
refusal of either leaves nothing written. A request key makes a retried redemption return the
first one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services import ledger
from core.services._common import actor_user_id, atomic
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from plugins.co_governance import numbers
from plugins.co_governance.models import Redemption, StoreItem, Volunteer
from plugins.co_governance.volunteers import SOURCE, points_account_key

TILL = "co_governance:store:redeemed"
RESERVED, HANDED_OVER, CANCELLED = "reserved", "handed_over", "cancelled"
STATES = (RESERVED, HANDED_OVER, CANCELLED)
STATE_LABELS = {RESERVED: lazy("Reserved"), HANDED_OVER: lazy("Handed over"), CANCELLED: lazy("Cancelled")}
MAX_QUANTITY = 10


def _positive(raw: object, field: str, upper: int) -> int:
    try:
        value = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidInput(lazy("Enter a whole number."), field=field) from None
    if not 0 <= value <= upper:
        raise InvalidInput(lazy("Enter a number from 0 to %(max)s."), field=field, max=upper)
    return value


async def add_item(
    session: AsyncSession, *, node: GridNode, name: str, price: object, stock: object, description: str = ""
) -> StoreItem:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise InvalidInput(lazy("An item needs a name of at most 100 characters."), field="name")
    price_value = _positive(price, "price", 100000)
    if price_value < 1:
        raise InvalidInput(lazy("The price is at least 1 point."), field="price")
    item = StoreItem(
        name=name,
        price=price_value,
        stock=_positive(stock, "stock", 100000),
        description=(description or "").strip()[:500],
        node_id=node.id,
        node_path=node.path,
    )
    session.add(item)
    await session.flush()
    return item


async def get_item(session: AsyncSession, item_id: int) -> StoreItem:
    found = await session.scalar(select(StoreItem).where(StoreItem.id == item_id))
    if found is None:
        raise NotFound(lazy("There is no item %(id)s."), id=item_id)
    return found


async def restock(session: AsyncSession, item: StoreItem, added: object) -> StoreItem:
    amount = _positive(added, "added", 100000)
    if amount < 1:
        raise InvalidInput(lazy("Add at least one."), field="added")
    await session.execute(
        update(StoreItem)
        .where(StoreItem.id == item.id)
        .values(stock=StoreItem.stock + amount)
        .execution_options(synchronize_session=False)
    )
    await session.refresh(item, ["stock"])
    return item


async def redeem(
    session: AsyncSession,
    item_id: int,
    volunteer: Volunteer,
    *,
    quantity: int = 1,
    request_key: str | None = None,
    at: datetime | None = None,
) -> Redemption:
    """Reserve ``quantity`` of an item for ``volunteer``, paying with points. Raises ``Conflict``
    (out of stock), ``ledger.InsufficientBalance`` (not enough points) — nothing written then."""
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(lazy("Redeem 1 to %(max)s at a time."), field="quantity", max=MAX_QUANTITY)
    key = (request_key or "").strip()[:100] or None
    if key:
        done = await session.scalar(select(Redemption).where(Redemption.request_key == key))
        if done is not None:
            if done.volunteer_id != volunteer.id or done.item_id != item_id:
                raise Conflict(lazy("This request key was already used for another redemption."))
            return done
    if volunteer.status != "active":
        raise Conflict(lazy("This volunteer is suspended."))
    item = await get_item(session, item_id)
    if not item.active:
        raise Conflict(lazy("This item is no longer offered."))
    moment = at or datetime.now(UTC)
    cost = item.price * quantity
    try:
        async with atomic(session):
            taken = await session.execute(
                update(StoreItem)
                .where(StoreItem.id == item.id, StoreItem.active.is_(True), StoreItem.stock >= quantity)
                .values(stock=StoreItem.stock - quantity)
                .returning(StoreItem.stock)
                .execution_options(synchronize_session=False)
            )
            if taken.scalar_one_or_none() is None:
                raise Conflict(lazy("%(item)s is out of stock."), item=item.name)
            number = await numbers.daily(session, "LF", moment)
            red = Redemption(
                number=number,
                request_key=key or number,
                item_id=item.id,
                item_name=item.name,
                volunteer_id=volunteer.id,
                quantity=quantity,
                points=cost,
                node_path=item.node_path,
                reserved_at=moment,
            )
            session.add(red)
            await session.flush()
            mine = await ledger.open_account(
                session, points_account_key(volunteer.id), owner_user_id=volunteer.user_id, label="志愿服务积分"
            )
            till = await ledger.open_account(session, TILL, label="雷锋超市兑换")
            posting = await ledger.transfer(
                session,
                f"cg:redeem:{red.id}",
                mine,
                till,
                Decimal(cost),
                kind="redeem",
                memo=f"{item.name} × {quantity}",
                source=SOURCE,
            )
            red.posting_id = posting.id
            await session.flush()
    except IntegrityError:
        if key:  # the same request from a second process won the race: answer with its redemption
            done = await session.scalar(select(Redemption).where(Redemption.request_key == key))
            if done is not None:
                return done
        raise
    await session.refresh(item, ["stock"])
    return red


async def get_redemption(session: AsyncSession, redemption_id: int) -> Redemption:
    found = await session.scalar(select(Redemption).where(Redemption.id == redemption_id))
    if found is None:
        raise NotFound(lazy("There is no redemption %(id)s."), id=redemption_id)
    return found


async def hand_over(session: AsyncSession, red: Redemption, note: str = "", at: datetime | None = None) -> Redemption:
    """Staff give the item to the volunteer: the fulfilment record (who, when)."""
    if red.state != RESERVED:
        raise Conflict(lazy("Only a reserved item can be handed over."))
    red.state, red.handed_over_at, red.handed_over_by = HANDED_OVER, at or datetime.now(UTC), actor_user_id(session)
    red.note = (note or "").strip()[:300]
    await session.flush()
    return red


async def cancel(session: AsyncSession, red: Redemption, reason: str) -> Redemption:
    """Give stock and points back (a reversal of the posting, not an edit)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(lazy("Say why the reservation is cancelled."), field="reason")
    if red.state != RESERVED:
        raise Conflict(lazy("Only a reserved item can be cancelled."))
    async with atomic(session):
        if red.posting_id is not None:
            await ledger.reverse(session, red.posting_id, f"cg:redeem:{red.id}:cancel", reason)
        await session.execute(
            update(StoreItem)
            .where(StoreItem.id == red.item_id)
            .values(stock=StoreItem.stock + red.quantity)
            .execution_options(synchronize_session=False)
        )
        red.state, red.cancelled_at, red.note = CANCELLED, datetime.now(UTC), reason[:300]
        await session.flush()
    return red
