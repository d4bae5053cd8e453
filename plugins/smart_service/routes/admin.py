"""Configuration pages (smart_service.config.edit): event categories with their time limits, the
working calendar (hours, holidays and 调休 working days), handling units and the dispatch catalogue
(category × area → unit). Each page is a list with one create/edit form; a refused form comes back
with a message beside each wrong field and nothing saved.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import text
from core.web.guards import requires
from core.web.render import render
from plugins.smart_service import sla
from plugins.smart_service.lifecycle import STAGES
from plugins.smart_service.models import (
    KINDS,
    LEVELS,
    URGENCIES,
    CalendarDay,
    Category,
    DispatchRule,
    HandlingUnit,
    WorkCalendar,
)

EDIT = "smart_service.config.edit"
BASE = "/smart-service/admin"
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
MAX_LIMIT_HOURS = 24 * 365
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
STAGE_LABELS = {
    "accept": "Accept",
    "dispatch": "Dispatch",
    "sign": "Sign for",
    "handle": "Handle",
    "inspect": "Inspect",
}

Errors = dict[str, str]


MAX_COARSEN_M = 5000


def _checked(form: Any, name: str) -> bool:
    return str(form.get(name) or "") in ("1", "on", "true")


def _hours(form: Any, name: str, errors: Errors) -> float | None:
    raw = text(form, name, 20)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= MAX_LIMIT_HOURS:
        errors[name] = _("Give a number of working hours above 0")
        return None
    return value


def _id(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


async def _node_by_code(session: Any, code: str) -> GridNode | None:
    if not code:
        return None
    return (await session.execute(select(GridNode).where(GridNode.code == code))).scalar_one_or_none()


# ---- categories --------------------------------------------------------------------------------


async def _categories_page(
    request: Request, row: Category | None, values: dict[str, Any], errors: Errors, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    rows = (
        (
            await c.db.execute(
                select(Category).order_by(Category.parent_code.is_not(None), Category.position, Category.code)
            )
        )
        .scalars()
        .all()
    )
    return await render(
        request,
        "smart_service/admin_categories.html",
        {
            "rows": rows,
            "parents": [r for r in rows if r.parent_code is None and (row is None or r.code != row.code)],
            "row": row,
            "v": values,
            "errors": errors,
            "stages": [(s, STAGE_LABELS[s]) for s in STAGES],
            "kinds": KINDS,
            "urgencies": URGENCIES,
            "base": BASE,
        },
        status_code=status,
    )


def _category_values(row: Category | None) -> dict[str, Any]:
    if row is None:
        return {"kind": "event", "urgency": 1, "active": True, "position": 0, "public": True, "public_location_m": 0}
    values: dict[str, Any] = {
        "code": row.code,
        "parent_code": row.parent_code or "",
        "kind": row.kind,
        "name_zh": row.name_zh,
        "name_en": row.name_en,
        "urgency": row.urgency,
        "position": row.position,
        "active": row.active,
        "public": row.public,
        "public_location_m": row.public_location_m,
    }
    for stage in STAGES:
        values[f"limit_{stage}"] = (row.time_limits or {}).get(stage, "")
        values[f"urgent_{stage}"] = (row.urgent_time_limits or {}).get(stage, "")
        values[f"critical_{stage}"] = (row.critical_time_limits or {}).get(stage, "")
    return values


@get(f"{BASE}/categories", guards=[requires(EDIT)])
async def categories(request: Request, db: DbSession, edit: FromQuery[int | None] = None) -> Any:
    row = None
    if edit is not None:
        row = (await db.execute(select(Category).where(Category.id == edit))).scalar_one_or_none()
        if row is None:
            raise NotFoundException()
    return await _categories_page(request, row, _category_values(row), {})


@dataclass
class _CategoryForm:
    """A posted category: what the form shows again, its errors, and what a save writes."""

    values: dict[str, Any]
    errors: Errors
    position: int = 0
    limits: dict[str, dict[str, float]] = field(default_factory=dict)  # "limit"/"urgent"/"critical" → stage → hours


def _read_category(form: Any) -> _CategoryForm:
    """The form's fields, checked on their own (no database)."""
    fields = ("code", "parent_code", "kind", "name_zh", "name_en", "urgency", "position")
    values: dict[str, Any] = {k: text(form, k, 100) for k in fields}
    values["active"] = _checked(form, "active")
    values["public"] = _checked(form, "public")
    values["public_location_m"] = text(form, "public_location_m", 10) or "0"
    errors: Errors = {}
    if not values["public_location_m"].isdigit() or int(values["public_location_m"]) > MAX_COARSEN_M:
        errors["public_location_m"] = _("Give whole metres from 0 to %(max)s", max=MAX_COARSEN_M)
    if values["kind"] not in KINDS:
        errors["kind"] = _("Choose component or event")
    if not values["name_zh"]:
        errors["name_zh"] = _("Give the name")
    if not values["urgency"].isdigit() or int(values["urgency"]) not in URGENCIES:
        errors["urgency"] = _("Choose the urgency")
    out = _CategoryForm(values, errors)
    out.position = int(values["position"]) if values["position"].lstrip("-").isdigit() else 0
    for prefix in ("limit", "urgent", "critical"):
        target = out.limits.setdefault(prefix, {})
        for stage in STAGES:
            name = f"{prefix}_{stage}"
            values[name] = text(form, name, 20)
            hours = _hours(form, name, errors)
            if hours is not None:
                target[stage] = hours
    return out


async def _check_category(db: AsyncSession, row: Category | None, posted: _CategoryForm) -> None:
    """What only the database can tell: a new code not taken, the parent an existing class."""
    values, errors = posted.values, posted.errors
    code = values["code"]
    if row is None:
        if not CODE.match(code):
            errors["code"] = _("Use 1 to 32 letters, digits, - or _")
        elif (await db.execute(select(Category.id).where(Category.code == code))).first():
            errors["code"] = _("This code is taken")
    parent = values["parent_code"] or None
    if parent is not None:
        found = (await db.execute(select(Category).where(Category.code == parent))).scalar_one_or_none()
        if found is None or found.parent_code is not None or parent == code:
            errors["parent_code"] = _("Choose a class, or none")


def _write_category(row: Category, posted: _CategoryForm) -> None:
    values = posted.values
    row.parent_code = values["parent_code"] or None
    row.kind = values["kind"]
    row.name_zh, row.name_en = values["name_zh"], values["name_en"]
    row.urgency, row.position, row.active = int(values["urgency"]), posted.position, values["active"]
    row.time_limits = posted.limits["limit"]
    row.urgent_time_limits = posted.limits["urgent"]
    row.critical_time_limits = posted.limits["critical"]
    row.public, row.public_location_m = values["public"], int(values["public_location_m"])


@post(f"{BASE}/categories", guards=[requires(EDIT)], status_code=200)
async def save_category(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    row_id = _id(form.get("id"))
    row = None
    if row_id is not None:
        row = (await db.execute(select(Category).where(Category.id == row_id))).scalar_one_or_none()
        if row is None:
            raise NotFoundException()
    posted = _read_category(form)
    if row is not None:
        posted.values["code"] = row.code  # a code events refer to stays as it is
    await _check_category(db, row, posted)
    if posted.errors:
        return await _categories_page(request, row, posted.values, posted.errors, 422)
    if row is None:
        row = Category(id=new_id(), code=posted.values["code"])
        db.add(row)
    _write_category(row, posted)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/categories"), status_code=303)


# ---- working calendar --------------------------------------------------------------------------


async def _calendar_page(request: Request, values: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    days = (await c.db.execute(select(CalendarDay).order_by(CalendarDay.day.desc()))).scalars().all()
    return await render(
        request,
        "smart_service/admin_calendar.html",
        {"v": values, "errors": errors, "days": days, "weekday_names": WEEKDAYS, "base": BASE},
        status_code=status,
    )


async def _calendar_values(session: Any) -> dict[str, Any]:
    row = (await session.execute(select(WorkCalendar).limit(1))).scalar_one_or_none()
    periods = row.periods if row is not None else [list(p) for p in sla.DEFAULT_PERIODS]
    return {
        "timezone": row.timezone if row is not None else sla.DEFAULT_TIMEZONE,
        "periods": ", ".join(f"{a}-{b}" for a, b in periods),
        "weekdays": list(row.weekdays if row is not None else sla.DEFAULT_WEEKDAYS),
        "day": "",
        "note": "",
        "working": False,
    }


@get(f"{BASE}/calendar", guards=[requires(EDIT)])
async def calendar(request: Request, db: DbSession) -> Any:
    return await _calendar_page(request, await _calendar_values(db), {})


def _parse_periods(text: str) -> list[list[str]]:
    out = []
    for part in re.split(r"[,，;\s]+", text.strip()):
        if not part:
            continue
        start, sep, end = part.partition("-")
        if not sep:
            raise sla.CalendarError(part)
        out.append([sla.parse_time(start).strftime("%H:%M"), sla.parse_time(end).strftime("%H:%M")])
    return out


@post(f"{BASE}/calendar", guards=[requires(EDIT)], status_code=200)
async def save_calendar(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    values = await _calendar_values(db)
    values["timezone"] = text(form, "timezone", 64) or sla.DEFAULT_TIMEZONE
    values["periods"] = text(form, "periods", 200)
    values["weekdays"] = sorted({int(d) for d in form.getall("weekdays", []) if str(d).isdigit() and int(d) < 7})
    errors: Errors = {}
    periods: list[list[str]] = []
    try:
        periods = _parse_periods(values["periods"])
        if not periods:
            raise sla.CalendarError("empty")
        sla.make_calendar(values["timezone"], periods, values["weekdays"])
    except sla.CalendarError:
        errors["periods"] = _("Write the working hours as 08:30-12:00, 13:30-17:30, in order and not overlapping")
    if not values["weekdays"]:
        errors["weekdays"] = _("Choose at least one working weekday")
    try:
        sla.make_calendar(values["timezone"])
    except sla.CalendarError:
        errors["timezone"] = _("Unknown time zone")
    if errors:
        return await _calendar_page(request, values, errors, 422)
    row = (await db.execute(select(WorkCalendar).limit(1))).scalar_one_or_none()
    if row is None:
        row = WorkCalendar(id=new_id())
        db.add(row)
    row.timezone, row.periods, row.weekdays = values["timezone"], periods, values["weekdays"]
    await db.commit()
    return Redirect(rc.url(f"{BASE}/calendar"), status_code=303)


@post(f"{BASE}/calendar/days", guards=[requires(EDIT)], status_code=200)
async def add_day(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    values = await _calendar_values(db)
    values.update(day=text(form, "day", 10), note=text(form, "note", 100), working=_checked(form, "working"))
    errors: Errors = {}
    day = None
    try:
        day = date.fromisoformat(values["day"])
    except ValueError:
        errors["day"] = _("Give the date as YYYY-MM-DD")
    if day is not None and (await db.execute(select(CalendarDay.id).where(CalendarDay.day == day))).first():
        errors["day"] = _("This day is in the calendar already")
    if errors:
        return await _calendar_page(request, values, errors, 422)
    db.add(CalendarDay(id=new_id(), day=day, working=values["working"], note=values["note"]))
    await db.commit()
    return Redirect(rc.url(f"{BASE}/calendar"), status_code=303)


@post(f"{BASE}/calendar/days/{{day_id:int}}/delete", guards=[requires(EDIT)], status_code=200)
async def delete_day(db: DbSession, rc: Ctx, day_id: FromPath[int]) -> Any:
    row = (await db.execute(select(CalendarDay).where(CalendarDay.id == day_id))).scalar_one_or_none()
    if row is None:
        raise NotFoundException()
    await db.delete(row)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/calendar"), status_code=303)


# ---- handling units ----------------------------------------------------------------------------


async def _units_page(
    request: Request, row: HandlingUnit | None, values: dict[str, Any], errors: Errors, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    rows = (await c.db.execute(select(HandlingUnit).order_by(HandlingUnit.level, HandlingUnit.code))).scalars().all()
    node_ids = {r.node_id for r in rows if r.node_id}
    nodes = (await c.db.execute(select(GridNode).where(GridNode.id.in_(node_ids)))).scalars().all() if node_ids else []
    return await render(
        request,
        "smart_service/admin_units.html",
        {
            "rows": rows,
            "nodes": {n.id: n for n in nodes},
            "row": row,
            "v": values,
            "errors": errors,
            "levels": LEVELS,
            "base": BASE,
        },
        status_code=status,
    )


@get(f"{BASE}/units", guards=[requires(EDIT)])
async def units(request: Request, db: DbSession, edit: FromQuery[int | None] = None) -> Any:
    row, values = None, {"level": 3, "active": True}
    if edit is not None:
        row = (await db.execute(select(HandlingUnit).where(HandlingUnit.id == edit))).scalar_one_or_none()
        if row is None:
            raise NotFoundException()
        node = (
            (await db.execute(select(GridNode).where(GridNode.id == row.node_id))).scalar_one_or_none()
            if row.node_id
            else None
        )
        values = {
            "code": row.code,
            "name": row.name,
            "name_en": row.name_en,
            "level": row.level,
            "node": node.code if node else "",
            "active": row.active,
        }
    return await _units_page(request, row, values, {})


@post(f"{BASE}/units", guards=[requires(EDIT)], status_code=200)
async def save_unit(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    row_id = _id(form.get("id"))
    row = None
    if row_id is not None:
        row = (await db.execute(select(HandlingUnit).where(HandlingUnit.id == row_id))).scalar_one_or_none()
        if row is None:
            raise NotFoundException()
    values: dict[str, Any] = {
        k: text(form, k, 64 if k in ("code", "node") else 100) for k in ("code", "name", "name_en", "level", "node")
    }
    values["active"] = _checked(form, "active")
    errors: Errors = {}
    if not CODE.match(values["code"]):
        errors["code"] = _("Use 1 to 32 letters, digits, - or _")
    else:
        taken = (await db.execute(select(HandlingUnit.id).where(HandlingUnit.code == values["code"]))).scalar()
        if taken is not None and (row is None or taken != row.id):
            errors["code"] = _("This code is taken")
    if not values["name"]:
        errors["name"] = _("Give the name")
    if not values["level"].isdigit() or int(values["level"]) not in LEVELS:
        errors["level"] = _("Choose the level")
    node = await _node_by_code(db, values["node"])
    if values["node"] and node is None:
        errors["node"] = _("No grid node has this code")
    if errors:
        return await _units_page(request, row, values, errors, 422)
    if row is None:
        row = HandlingUnit(id=new_id())
        db.add(row)
    row.code, row.name, row.name_en = values["code"], values["name"], values["name_en"]
    row.level, row.active = int(values["level"]), values["active"]
    row.node_id, row.node_path = (node.id, node.path) if node else (None, None)
    await db.commit()
    return Redirect(rc.url(f"{BASE}/units"), status_code=303)


# ---- dispatch catalogue ------------------------------------------------------------------------


async def _dispatch_page(request: Request, values: dict[str, Any], errors: Errors, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    rules = (
        (await c.db.execute(select(DispatchRule).order_by(DispatchRule.node_path, DispatchRule.category_code)))
        .scalars()
        .all()
    )
    unit_rows = (
        (await c.db.execute(select(HandlingUnit).order_by(HandlingUnit.level, HandlingUnit.code))).scalars().all()
    )
    cats = (await c.db.execute(select(Category).order_by(Category.code))).scalars().all()
    node_ids = {r.node_id for r in rules}
    nodes = (await c.db.execute(select(GridNode).where(GridNode.id.in_(node_ids)))).scalars().all() if node_ids else []
    return await render(
        request,
        "smart_service/admin_dispatch.html",
        {
            "rules": rules,
            "units": unit_rows,
            "unit_by_id": {u.id: u for u in unit_rows},
            "categories": cats,
            "category_by_code": {x.code: x for x in cats},
            "nodes": {n.id: n for n in nodes},
            "v": values,
            "errors": errors,
            "base": BASE,
        },
        status_code=status,
    )


@get(f"{BASE}/dispatch", guards=[requires(EDIT)])
async def dispatch_rules(request: Request) -> Any:
    return await _dispatch_page(request, {"category": "", "node": "", "unit": ""}, {})


@post(f"{BASE}/dispatch", guards=[requires(EDIT)], status_code=200)
async def add_rule(request: Request, db: DbSession, rc: Ctx) -> Any:
    form = await request.form()
    values = {"category": text(form, "category", 32), "node": text(form, "node", 64), "unit": text(form, "unit", 20)}
    errors: Errors = {}
    if (
        values["category"]
        and not (await db.execute(select(Category.id).where(Category.code == values["category"]))).first()
    ):
        errors["category"] = _("Choose a category, or any")
    node = await _node_by_code(db, values["node"])
    if node is None:
        errors["node"] = _("No grid node has this code")
    unit_id = _id(values["unit"])
    unit = (
        (await db.execute(select(HandlingUnit).where(HandlingUnit.id == unit_id))).scalar_one_or_none()
        if unit_id
        else None
    )
    if unit is None:
        errors["unit"] = _("Choose a handling unit")
    if errors:
        return await _dispatch_page(request, values, errors, 422)
    assert node is not None and unit is not None
    db.add(
        DispatchRule(
            id=new_id(), category_code=values["category"] or None, node_id=node.id, node_path=node.path, unit_id=unit.id
        )
    )
    await db.commit()
    return Redirect(rc.url(f"{BASE}/dispatch"), status_code=303)


@post(f"{BASE}/dispatch/{{rule_id:int}}/toggle", guards=[requires(EDIT)], status_code=200)
async def toggle_rule(db: DbSession, rc: Ctx, rule_id: FromPath[int]) -> Any:
    """Rules are switched off rather than deleted: past dispatches keep what they followed."""
    row = (await db.execute(select(DispatchRule).where(DispatchRule.id == rule_id))).scalar_one_or_none()
    if row is None:
        raise NotFoundException()
    row.active = not row.active
    await db.commit()
    return Redirect(rc.url(f"{BASE}/dispatch"), status_code=303)


handlers = [
    categories,
    save_category,
    calendar,
    save_calendar,
    add_day,
    delete_day,
    units,
    save_unit,
    dispatch_rules,
    add_rule,
    toggle_rule,
]
