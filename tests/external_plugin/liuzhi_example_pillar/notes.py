"""Use cases on notes: list a page, validate and add one, add the demo notes once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from liuzhi.api import Paginated, paginate, text, translator
from liuzhi_example_pillar.models import TITLE_MAX, ExampleNote

_ = translator("example_pillar").gettext  # the plugin's own catalogue first

DEMO_NOTES = (
    ("楼道堆物清理", "3号楼2单元楼道的杂物已通知住户周末前清理。"),
    ("周三议事会", "下周三晚七点在社区活动室召开居民议事会。"),
)


async def page_of_notes(session: AsyncSession, page: int = 1) -> Paginated:
    # The session is bound to the tenant: the ORM adds tenant_id to this query by itself.
    stmt = select(ExampleNote).order_by(ExampleNote.created_at.desc(), ExampleNote.id.desc())
    return await paginate(session, stmt, page, per_page=20)


async def count_notes(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(ExampleNote)) or 0)


def validate(data: dict[str, Any]) -> tuple[dict[str, str], dict[str, str]]:
    """Clean form values and the errors to show beside each field."""
    values = {"title": text(data, "title"), "body": text(data, "body")}
    errors = {}
    if not values["title"]:
        errors["title"] = _("Give the note a title.")
    elif len(values["title"]) > TITLE_MAX:
        errors["title"] = _("The title may have at most %(n)s characters.", n=TITLE_MAX)
    return values, errors


def add_note(session: AsyncSession, title: str, body: str, author_id: int | None) -> ExampleNote:
    note = ExampleNote(title=title, body=body, author_id=author_id)
    session.add(note)
    return note


async def add_demo_notes(session: AsyncSession) -> int:
    """Idempotent: a demo note whose title exists already is not added again."""
    have = set((await session.execute(select(ExampleNote.title))).scalars())
    added = 0
    for title, body in DEMO_NOTES:
        if title not in have:
            add_note(session, title, body, None)
            added += 1
    return added
