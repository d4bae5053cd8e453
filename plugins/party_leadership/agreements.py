"""共建协议: agreements between a community and a unit — terms, period, the signed PDF — what each
side did under them, and the reminder before one ends: a periodic job (core.services.jobs) that
reminds the community's party staff once per agreement end date, even when several processes run
it at the same moment (a conditional UPDATE claims each reminder).

The reminder job runs when a reminder falls due, not hourly in every district: after a run its slot
(core.services.jobs.slots) moves to the district midnight that starts the next agreement's reminder
period, a day ahead at most; a new agreement whose reminder comes earlier brings it forward once it
commits (and core wakes the job when the plugin's settings, the reminder period, change)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.pluginhost.manifest import Notification
from core.rbac.models import RoleAssignment
from core.services.errors import InvalidInput, NotFound, lazy
from core.services.jobs import slots
from core.services.notifications import notify
from plugins.party_leadership import rules
from plugins.party_leadership.members import _clean, get_unit
from plugins.party_leadership.models import Agreement, AgreementAction
from plugins.party_leadership.settings import NAME, settings_of

REMIND_JOB = f"{NAME}.agreement_reminders"
REMINDED_ROLES = ("party_admin", "community_secretary")  # who hears that an agreement ends
ZONE = ZoneInfo("Asia/Shanghai")  # reminder days are the district's days
SOON = timedelta(seconds=60)
IDLE = timedelta(days=1)  # a district with no reminder coming is still looked at daily


async def create(
    session: AsyncSession,
    node: GridNode,
    *,
    unit_id: int,
    title: str,
    terms: str,
    starts_on: date,
    ends_on: date,
    signed_file_id: int | None = None,
) -> Agreement:
    unit = await get_unit(session, unit_id)
    if not unit.node_path.startswith(node.path):  # a community's own unit, or one in a sub-district's area
        raise InvalidInput(lazy("Choose a unit that reported to this community."), field="unit_id")
    if ends_on <= starts_on:
        raise InvalidInput(lazy("An agreement ends after it starts."), field="ends_on")
    agreement = Agreement(
        node_id=node.id,
        node_path=node.path,
        unit_id=unit_id,
        title=_clean(title, "title", 200),
        terms=_clean(terms, "terms", 8000),
        starts_on=starts_on,
        ends_on=ends_on,
        signed_file_id=signed_file_id,
    )
    session.add(agreement)
    await session.flush()
    remind_days = settings_of(await _settings(session)).agreement_remind_days
    slots.wake_after_commit(session, REMIND_JOB, reminder_from(ends_on, remind_days))
    return agreement


async def get(session: AsyncSession, agreement_id: int) -> Agreement:
    row = (await session.execute(select(Agreement).where(Agreement.id == agreement_id))).scalar_one_or_none()
    if row is None:
        raise NotFound(lazy("There is no such agreement."))
    return row


async def record_action(
    session: AsyncSession, agreement: Agreement, *, side: str, done_on: date, description: str
) -> AgreementAction:
    if side not in ("community", "unit"):
        raise InvalidInput(lazy("Say which side did it."), field="side")
    if done_on < agreement.starts_on:
        raise InvalidInput(lazy("The date is before the agreement started."), field="done_on")
    row = AgreementAction(
        agreement_id=agreement.id, side=side, done_on=done_on, description=_clean(description, "description", 500)
    )
    session.add(row)
    await session.flush()
    return row


async def actions(session: AsyncSession, agreement_id: int) -> list[AgreementAction]:
    stmt = select(AgreementAction).where(AgreementAction.agreement_id == agreement_id).order_by(AgreementAction.done_on)
    return list((await session.execute(stmt)).scalars())


async def terminate(session: AsyncSession, agreement: Agreement, on: date) -> None:
    if on < agreement.starts_on:
        raise InvalidInput(lazy("The date is before the agreement started."), field="terminated_on")
    agreement.terminated_on = on
    await session.flush()


async def remind_expiring(session: AsyncSession, app_state: Any, today: date, remind_days: int) -> list[int]:
    """Remind once for each agreement that ends within ``remind_days`` and has not been reminded
    for this end date. Returns the ids this call reminded (another process's claims are skipped)."""
    horizon = today + timedelta(days=remind_days)
    due = (
        await session.execute(
            select(Agreement.id, Agreement.ends_on).where(
                Agreement.ends_on >= today,
                Agreement.ends_on <= horizon,
                Agreement.terminated_on.is_(None),
                or_(Agreement.reminded_for.is_(None), Agreement.reminded_for != Agreement.ends_on),
            )
        )
    ).all()
    reminded: list[int] = []
    for agreement_id, ends_on in due:
        claimed = await session.execute(
            update(Agreement)
            .where(
                Agreement.id == agreement_id,
                or_(Agreement.reminded_for.is_(None), Agreement.reminded_for != ends_on),
            )
            .values(reminded_for=ends_on)
            .execution_options(synchronize_session=False)
        )
        if claimed.rowcount != 1:
            continue  # another process reminded it
        agreement = await get(session, agreement_id)
        await session.refresh(agreement)
        unit = await get_unit(session, agreement.unit_id)
        for user_id in await _reminded_users(session, agreement.node_path):
            await notify(
                app_state,
                session,
                Notification(
                    session.sync_session.info["tenant_id"],
                    user_id,
                    f"共建协议即将到期：{agreement.title}",
                    f"与{unit.name}的共建协议将于 {agreement.ends_on.isoformat()} 到期，请商议续签。",
                    f"/party/agreements/{agreement.id}",
                ),
                enabled=(NAME,),
            )
        reminded.append(agreement_id)
    return reminded


async def _reminded_users(session: AsyncSession, node_path: str) -> list[int]:
    """Party staff whose scope covers the community (its own, or any ancestor's)."""
    ancestors = [node_path[: i + 1] for i, ch in enumerate(node_path) if ch == "/" and i > 0]
    stmt = (
        select(RoleAssignment.user_id)
        .where(RoleAssignment.role_code.in_(REMINDED_ROLES), RoleAssignment.node_path.in_(ancestors))
        .distinct()
    )
    return sorted(set((await session.execute(stmt)).scalars()))


def reminder_from(ends_on: date, remind_days: int) -> datetime:
    """When an agreement's reminder falls due: the district midnight ``remind_days`` before it ends."""
    return datetime.combine(ends_on - timedelta(days=remind_days), time(), ZONE).astimezone(UTC)


async def next_reminder(session: AsyncSession, today: date, remind_days: int) -> datetime | None:
    """When the next reminder not yet given falls due (None: no agreement left to remind)."""
    first = await session.scalar(
        select(func.min(Agreement.ends_on)).where(
            Agreement.ends_on >= today,
            Agreement.terminated_on.is_(None),
            or_(Agreement.reminded_for.is_(None), Agreement.reminded_for != Agreement.ends_on),
        )
    )
    return None if first is None else reminder_from(first, remind_days)


async def _settings(session: AsyncSession) -> Any:
    from core.tenancy.models import TenantPlugin

    return await session.scalar(select(TenantPlugin.settings).where(TenantPlugin.plugin == NAME))


async def reminder_job(ctx: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """The periodic job: reminders for the job's tenant, with the tenant's reminder period, then wait
    for the next one. ``payload["now"]`` (ISO) or ``payload["today"]`` stands in for the clock."""
    settings = settings_of(await _settings(ctx.session))
    now = datetime.fromisoformat(payload["now"]) if payload.get("now") else datetime.now(UTC)
    today = date.fromisoformat(payload["today"]) if payload.get("today") else now.astimezone(ZONE).date()
    await slots.hold(ctx.session, ctx.tenant_id, REMIND_JOB)
    ids = await remind_expiring(ctx.session, ctx, today, settings.agreement_remind_days)
    upcoming = await next_reminder(ctx.session, today, settings.agreement_remind_days)
    await slots.settle(ctx.session, ctx.tenant_id, REMIND_JOB, upcoming, now=now, soon=SOON, idle=IDLE)
    return {"reminded": len(ids)}


def rules_today() -> date:
    return datetime.now(ZONE).date()


def state_of(agreement: Agreement, today: date, remind_days: int) -> str:
    return rules.agreement_state(agreement.starts_on, agreement.ends_on, agreement.terminated_on, today, remind_days)
