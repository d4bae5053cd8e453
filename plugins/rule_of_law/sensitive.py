"""特殊人群 registers and 心理咨询 notes: their own actions, and every read in the audit log.

The registers (社区矫正对象, 安置帮教对象, 社区戒毒康复人员, 严重精神障碍患者, 重点青少年) open only to
holders of ``rule_of_law.special.view`` in scope; each list and each person opened is one
``rule_of_law.sensitive.read`` entry in core's audit log, which the district admin reads on the
pillar's access-log page. Details and visit notes are encrypted with core's vault.
Counselling notes (精神卫生法 第23条) open only to the appointment's counsellor — not even to the
district admin — and each read is logged the same way.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit.log import record
from core.audit.models import AuditEntry
from core.rbac.scope import in_scope
from plugins.rule_of_law.common import InvalidInput, NotFound, clean, lazy, local_day
from plugins.rule_of_law.models import Appointment, SpecialPerson, SpecialVisit

SPECIAL_VIEW = "rule_of_law.special.view"
SPECIAL_EDIT = "rule_of_law.special.edit"
READ_ACTION = "rule_of_law.sensitive.read"
CATEGORIES = ("corrections", "released", "rehabilitation", "mental_health", "youth")
CATEGORY_LABELS = {
    "corrections": lazy("Community corrections"),
    "released": lazy("Released prisoners (resettlement)"),
    "rehabilitation": lazy("Community drug rehabilitation"),
    "mental_health": lazy("Serious mental disorders"),
    "youth": lazy("Youth at risk"),
}


def _context(kind: str, row_id: int) -> bytes:
    return f"rule_of_law:{kind}:{row_id}".encode()


def log_read(session: AsyncSession, what: str, object_type: str, object_id: Any, detail: dict[str, Any]) -> None:
    record(session, READ_ACTION, object_type, object_id, {"what": what, **detail})


async def register(session: AsyncSession, prefixes: list[str], category: str) -> list[SpecialPerson]:
    if category not in CATEGORIES:
        raise NotFound(lazy("There is no such register."))
    stmt = (
        select(SpecialPerson)
        .where(
            SpecialPerson.category == category,
            SpecialPerson.active.is_(True),
            in_scope(SpecialPerson.node_path, prefixes),
        )
        .order_by(SpecialPerson.next_visit_on, SpecialPerson.name)
    )
    people = list((await session.execute(stmt)).scalars())
    log_read(session, "register", "rl_special_people", None, {"category": category, "rows": len(people)})
    return people


async def add_person(
    session: AsyncSession,
    vault: Any,
    *,
    category: str,
    name: str,
    node: Any,
    details: str,
    every_days: int,
    today: date,
) -> SpecialPerson:
    if category not in CATEGORIES:
        raise InvalidInput(lazy("Choose a register."), field="category")
    if not 1 <= every_days <= 365:
        raise InvalidInput(lazy("Visit every 1 to 365 days."), field="every_days")
    person = SpecialPerson(
        category=category,
        name=clean(name, 100, "name"),
        node_id=node.id,
        node_path=node.path,
        visit_every_days=every_days,
        next_visit_on=today + timedelta(days=every_days),
    )
    session.add(person)
    await session.flush()
    text = clean(details, 2000, "details", required=False)
    person.details_enc = vault.encrypt(text, _context("person", person.id)) if text else None
    await session.flush()
    return person


async def open_person(
    session: AsyncSession, vault: Any, person_id: int
) -> tuple[SpecialPerson, str, list[tuple[SpecialVisit, str]]]:
    """One person with decrypted details and visits; logged. Scope is the caller's check."""
    person = (await session.execute(select(SpecialPerson).where(SpecialPerson.id == person_id))).scalar_one_or_none()
    if person is None:
        raise NotFound(lazy("There is no such person on the registers."))
    details = vault.decrypt(person.details_enc, _context("person", person.id)) if person.details_enc else ""
    visits = list(
        (
            await session.execute(
                select(SpecialVisit).where(SpecialVisit.person_id == person.id).order_by(SpecialVisit.visited_on.desc())
            )
        ).scalars()
    )
    shown = [(v, vault.decrypt(v.note_enc, _context("visit", v.id)) if v.note_enc else "") for v in visits]
    return person, details, shown


async def record_visit(
    session: AsyncSession, vault: Any, person: SpecialPerson, user_id: int | None, note: str, visited_on: date
) -> SpecialVisit:
    text = clean(note, 2000, "note")
    visit = SpecialVisit(person_id=person.id, visited_on=visited_on, user_id=user_id)
    session.add(visit)
    await session.flush()
    visit.note_enc = vault.encrypt(text, _context("visit", visit.id))
    person.next_visit_on = visited_on + timedelta(days=person.visit_every_days)
    await session.flush()
    return visit


def visit_due(person: SpecialPerson, today: date) -> bool:
    return person.next_visit_on is not None and person.next_visit_on <= today


async def access_log(session: AsyncSession, page_size: int = 200) -> list[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.action == READ_ACTION).order_by(AuditEntry.at.desc()).limit(page_size)
    return list((await session.execute(stmt)).scalars())


# ---- counselling notes ------------------------------------------------------------------------


def may_read_notes(appointment: Appointment, user_id: int | None) -> bool:
    return user_id is not None and appointment.counsellor_user_id == user_id


async def read_notes(session: AsyncSession, vault: Any, appointment: Appointment, user_id: int | None) -> str:
    if not may_read_notes(appointment, user_id):
        raise NotFound(lazy("There is no such appointment."))
    log_read(session, "counselling_notes", "rl_appointments", appointment.id, {})
    return vault.decrypt(appointment.notes_enc, _context("notes", appointment.id)) if appointment.notes_enc else ""


async def write_notes(
    session: AsyncSession, vault: Any, appointment: Appointment, user_id: int | None, notes: str
) -> None:
    if not may_read_notes(appointment, user_id):
        raise NotFound(lazy("There is no such appointment."))
    text = clean(notes, 4000, "notes")
    appointment.notes_enc = vault.encrypt(text, _context("notes", appointment.id))
    appointment.state = "done"
    await session.flush()


def today_of(now: datetime | None = None) -> date:
    return local_day(now)
