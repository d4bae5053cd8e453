"""Public notices (公示 / 公开栏): put an item on notice at a node for a period, show a node's
board, record objections (异议) raised in the period and answer them, withdraw a notice.

Owns ``notices`` and ``notice_objections``. A notice that shows people's personal data names
them (``persons``) and the consent purpose: publishing refuses without each one's current
consent, and the board re-checks on every read, so a withdrawal takes the notice down at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.grids.models import GridNode
from core.services import consent
from core.services._common import actor_user_id, announce, aware, now
from core.services.errors import Conflict, InvalidInput, NotFound, lazy
from core.services.notices.models import (
    OBJECTION_ANSWERED,
    OBJECTION_OPEN,
    PUBLISHED,
    WITHDRAWN,
    Notice,
    NoticeObjection,
)

OBJECTION_CHANNELS = ("online", "in_person", "phone", "letter")


async def publish(
    session: AsyncSession,
    *,
    title: str,
    body: str,
    node: GridNode,
    starts_at: datetime,
    ends_at: datetime,
    kind: str = "",
    source: str = "",
    subject: tuple[str, str] | None = None,
    persons: Sequence[consent.Person] = (),
    consent_purpose: str | None = None,
) -> Notice:
    """Put an item on notice at ``node`` from ``starts_at`` to ``ends_at``. ``subject`` is what it is
    about (``("civic_virtue.shortlist", "12")``); ``persons`` whose data it shows must each have a
    current consent to ``consent_purpose`` (``ConsentMissing`` otherwise: nothing is published)."""
    title = title.strip()
    if not title or len(title) > 300:
        raise InvalidInput(lazy("A notice needs a title of at most 300 characters."), field="title")
    if aware(ends_at) <= aware(starts_at):
        raise InvalidInput(lazy("A notice period ends after it starts."), field="ends_at")
    if persons and not consent_purpose:
        raise InvalidInput(lazy("Name the consent purpose under which these people's data is shown."))
    for person in persons:
        await consent.require(session, person, consent_purpose or "")
    notice = Notice(
        source=source,
        kind=kind,
        title=title,
        body=body,
        node_id=node.id,
        node_path=node.path,
        subject_type=subject[0] if subject else None,
        subject_id=str(subject[1]) if subject else None,
        starts_at=starts_at,
        ends_at=ends_at,
        consent_purpose=consent_purpose,
        persons=[list(p) for p in persons],
        published_by=actor_user_id(session),
    )
    session.add(notice)
    await session.flush()
    await announce(
        session,
        "notice.published",
        {
            "notice_id": notice.id,
            "source": source,
            "kind": kind,
            "node_path": node.path,
            "subject": list(subject or ()),
        },
    )
    return notice


async def get(session: AsyncSession, notice_id: int) -> Notice:
    found = (await session.execute(select(Notice).where(Notice.id == notice_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no notice %(id)s."), id=notice_id)
    return found


async def board(
    session: AsyncSession,
    node: GridNode,
    *,
    at: datetime | None = None,
    include_ancestors: bool = True,
    limit: int = 50,
) -> list[Notice]:
    """What the 公开栏 of ``node`` shows now: notices in their period at the node and below it (and
    those of the nodes above it, which concern it too), without any whose people withdrew consent."""
    moment = at or now()
    paths = [node.path]
    if include_ancestors:
        parts = [p for p in node.path.split("/") if p]
        paths += ["/" + "/".join(parts[:i]) + "/" for i in range(1, len(parts))]
    stmt = (
        select(Notice)
        .where(
            Notice.status == PUBLISHED,
            Notice.starts_at <= moment,
            Notice.ends_at > moment,
            Notice.node_path.startswith(node.path, autoescape=True) | Notice.node_path.in_(paths),
        )
        .order_by(Notice.starts_at.desc(), Notice.id.desc())
        .limit(limit)
    )
    shown = list((await session.execute(stmt)).scalars())
    return [n for n in shown if await _consent_holds(session, n)]


async def _consent_holds(session: AsyncSession, notice: Notice) -> bool:
    if not notice.persons:
        return True
    people = {(str(k), int(i)) for k, i in notice.persons}
    return await consent.consenting(session, people, notice.consent_purpose or "") == people


async def is_shown(session: AsyncSession, notice: Notice, *, at: datetime | None = None) -> bool:
    """Whether the public may see ``notice`` now (in its period, not withdrawn, consents in force)."""
    moment = at or now()
    return (
        notice.status == PUBLISHED
        and aware(notice.starts_at) <= moment < aware(notice.ends_at)
        and await _consent_holds(session, notice)
    )


async def of_subject(session: AsyncSession, subject: tuple[str, str]) -> list[Notice]:
    """Every notice about ``subject`` (staff view: periods past and present)."""
    stmt = (
        select(Notice)
        .where(Notice.subject_type == subject[0], Notice.subject_id == str(subject[1]))
        .order_by(Notice.starts_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def withdraw(session: AsyncSession, notice: Notice, reason: str) -> Notice:
    if not reason.strip():
        raise InvalidInput(lazy("Say why the notice is withdrawn."), field="reason")
    if notice.status == WITHDRAWN:
        raise Conflict(lazy("The notice is already withdrawn."))
    notice.status, notice.withdrawn_at, notice.withdrawn_reason = WITHDRAWN, now(), reason.strip()[:300]
    await session.flush()
    await announce(session, "notice.withdrawn", {"notice_id": notice.id, "source": notice.source})
    return notice


async def object_to(
    session: AsyncSession,
    notice_id: int,
    body: str,
    *,
    user_id: int | None = None,
    name: str = "",
    channel: str = "online",
    at: datetime | None = None,
) -> NoticeObjection:
    """Raise an objection (异议) during the notice period: a resident online (``user_id``), or staff
    recording one made in person, by phone or by letter (``name``, ``channel``)."""
    moment = at or now()
    notice = await get(session, notice_id)
    if channel not in OBJECTION_CHANNELS:
        raise InvalidInput(lazy("Unknown channel %(channel)s."), field="channel", channel=channel)
    if not body.strip():
        raise InvalidInput(lazy("Write what the objection is."), field="body")
    if notice.status != PUBLISHED or not aware(notice.starts_at) <= moment < aware(notice.ends_at):
        raise Conflict(lazy("Objections are taken only while the notice is up."))
    if user_id is None and not name.strip():
        raise InvalidInput(lazy("Record who raised the objection."), field="name")
    objection = NoticeObjection(
        notice_id=notice.id,
        raised_by=user_id,
        name=name.strip()[:100],
        channel=channel,
        body=body.strip(),
        raised_at=moment,
        recorded_by=actor_user_id(session),
    )
    session.add(objection)
    await session.flush()
    await announce(
        session,
        "notice.objection_raised",
        {"notice_id": notice.id, "objection_id": objection.id, "source": notice.source},
    )
    return objection


async def answer(session: AsyncSession, objection_id: int, text: str) -> NoticeObjection:
    """Answer an objection (staff); the person who raised it is told through ``on_event``."""
    objection = (
        await session.execute(select(NoticeObjection).where(NoticeObjection.id == objection_id))
    ).scalar_one_or_none()
    if objection is None:
        raise NotFound(lazy("There is no objection %(id)s."), id=objection_id)
    if not text.strip():
        raise InvalidInput(lazy("Write the answer."), field="answer")
    if objection.status == OBJECTION_ANSWERED:
        raise Conflict(lazy("This objection has been answered."))
    objection.answer, objection.answered_at = text.strip(), now()
    objection.answered_by, objection.status = actor_user_id(session), OBJECTION_ANSWERED
    await session.flush()
    notice = await get(session, objection.notice_id)
    await announce(
        session,
        "notice.objection_answered",
        {
            "notice_id": notice.id,
            "objection_id": objection.id,
            "raised_by": objection.raised_by,
            "source": notice.source,
        },
    )
    return objection


async def objections(session: AsyncSession, notice_id: int) -> list[NoticeObjection]:
    stmt = select(NoticeObjection).where(NoticeObjection.notice_id == notice_id).order_by(NoticeObjection.raised_at)
    return list((await session.execute(stmt)).scalars())


async def open_objections(session: AsyncSession, notice_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(NoticeObjection)
        .where(NoticeObjection.notice_id == notice_id, NoticeObjection.status == OBJECTION_OPEN)
    )
    return int(await session.scalar(stmt) or 0)
