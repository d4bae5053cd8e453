"""Staff pages: the overview, matters (三方联动 / 四议两公开), owners' assemblies, meetings,
committees and covenants. Lists are filtered in SQL by the user's scope; an object outside it
answers 404. Each write commits or, refused, rolls back and shows why."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.i18n import translator
from core.rbac.scope import in_scope
from core.services import accounts, notices
from core.services._common import now
from core.services.errors import ServiceError
from core.services.files.storage import UploadError
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.forms import Form
from core.web.guards import requires, signed_in
from core.web.pagination import paginate
from core.web.render import render
from core.web.uploads import save_upload
from plugins.self_governance import assemblies, committees, covenants, matters, meetings
from plugins.self_governance import procedures as p
from plugins.self_governance.actions import ASSEMBLY, COMMITTEE, COVENANT, MEETING, RAISE, VET, VIEW
from plugins.self_governance.models import Assembly, Matter, Meeting
from plugins.self_governance.routes.common import (
    BASE,
    LOCAL,
    integer,
    local_date,
    local_time,
    message,
    node,
    node_in_scope,
    nodes_for,
    require_scope,
    rollback,
    rules,
    text,
)

_ = translator("self_governance").gettext

PLACES = ("community", "estate")
PROXY_DOCUMENT = "self_governance.proxy"  # a signed 授权委托书, seen by staff of the estate only
Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def _done(request: Request, path: str) -> Redirect:
    return Redirect(ctx(request).url(path), status_code=303)


# ---- overview ----------------------------------------------------------------------------------


@get(f"{BASE}/", guards=[requires(VIEW)])
async def overview(request: Request, db: DbSession, rc: Ctx) -> Any:
    prefixes = rc.scope_prefixes(VIEW)
    stages = await matters.open_by_stage(db, prefixes)
    running = await assemblies.running(db, prefixes)
    live = [(a, await assemblies.overview(db, a)) for a in running[:10]]
    due = await committees.due_for_renewal(db, prefixes, rules(request), now().date())
    upcoming = list(
        (
            await db.execute(
                select(Meeting)
                .where(in_scope(Meeting.node_path, prefixes), Meeting.status == meetings.SCHEDULED)
                .order_by(Meeting.starts_at)
                .limit(10)
            )
        ).scalars()
    )
    return await render(
        request,
        "self_governance/overview.html",
        {"stages": stages, "live": live, "due": due, "upcoming": upcoming, "phase": assemblies.phase},
    )


# ---- matters -----------------------------------------------------------------------------------


@get(f"{BASE}/matters/", guards=[requires(VIEW)])
async def matter_list(
    request: Request, db: DbSession, rc: Ctx, status: FromQuery[str] = "open", page: FromQuery[int] = 1
) -> Any:
    stmt = select(Matter).where(in_scope(Matter.node_path, rc.scope_prefixes(VIEW)))
    if status in p.STATUSES:
        stmt = stmt.where(Matter.status == status)
    result = await paginate(db, stmt.order_by(Matter.updated_at.desc(), Matter.id.desc()), page)
    return await _matter_list(request, result, status, {}, {})


async def _matter_list(
    request: Request, page: Any, status: str, values: dict[str, str], errors: dict[str, str], code: int = 200
) -> Any:
    return await render(
        request,
        "self_governance/matters.html",
        {
            "page": page,
            "rows": page.items,
            "status": status,
            "steps": p.PROCEDURES,
            "places": await nodes_for(request, RAISE, PLACES),
            "values": values,
            "errors": errors,
            "base": ctx(request).url(f"{BASE}/matters/?status={status}&"),
        },
        status_code=code,
    )


@post(f"{BASE}/matters/", guards=[requires(RAISE)])
async def matter_create(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    values = {k: text(data, k) for k in ("title", "description", "procedure", "node_id", "event_number")}
    place = await node_in_scope(request, RAISE, integer(data, "node_id"), PLACES)
    event_number = values["event_number"][:64] or None  # a 服务智治 event the matter grew out of
    errors: dict[str, str] = {}
    if place is None:
        errors["node_id"] = _("Choose the community or estate the matter is for.")
    else:
        try:
            matter = await matters.raise_matter(
                db,
                title=values["title"],
                description=values["description"],
                node=place,
                procedure=values["procedure"] or p.THREE_PARTY,
                source="event" if event_number else "staff",
                source_ref=event_number,
                by_name=rc.user.display_name if rc.user else "",
            )
        except ServiceError as err:
            await rollback(request)
            errors[getattr(err, "field", None) or "title"] = message(err)
    if errors:
        stmt = select(Matter).where(in_scope(Matter.node_path, rc.scope_prefixes(VIEW)), Matter.status == p.OPEN)
        page = await paginate(db, stmt.order_by(Matter.updated_at.desc()), 1)
        return await _matter_list(request, page, "open", values, errors, 400)
    await db.commit()
    return _done(request, f"{BASE}/matters/{matter.id}")


async def _matter(request: Request, matter_id: int) -> Matter:
    c = ctx(request)
    assert c.db is not None
    try:
        matter = await matters.get(c.db, matter_id)
    except ServiceError:
        require_scope(request, VIEW, "")
        raise
    mine = c.user is not None and matter.raised_by == c.user.id
    if not mine:
        require_scope(request, VIEW, matter.node_path)
    return matter


def _allowed(request: Request, matter: Matter) -> list[str]:
    c = ctx(request)
    pos = matters.position(matter)
    moves = []
    for move in (p.ADVANCE, p.SEND_BACK, p.PROGRESS, p.DROP, p.RESUBMIT):
        try:
            p.apply(pos, move, note="x", progress=0)
        except p.TransitionError:
            continue
        action = p.needed_action(pos, move)
        if action is None:
            if c.user is not None and (matter.raised_by == c.user.id or c.can(p.ORGANISE, matter.node_path)):
                moves.append(move)
        elif c.can(action, matter.node_path):
            moves.append(move)
    return moves


@get(f"{BASE}/matters/{{matter_id:int}}", guards=[signed_in])
async def matter_detail(request: Request, matter_id: FromPath[int]) -> Any:
    return await _matter_page(request, await _matter(request, matter_id))


async def _matter_page(request: Request, matter: Matter, error: str = "", code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    return await render(
        request,
        "self_governance/matter.html",
        {
            "m": matter,
            "steps": p.PROCEDURES[matter.procedure],
            "current": p.current(matters.position(matter)),
            "history": await matters.history(c.db, matter.id),
            "moves": _allowed(request, matter),
            "error": error,
            "place": await node(request, matter.node_id),
        },
        status_code=code,
    )


@post(f"{BASE}/matters/{{matter_id:int}}/act", guards=[signed_in])
async def matter_act(request: Request, matter_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    matter = await _matter(request, matter_id)
    move = text(data, "move", 20)
    if move not in _allowed(request, matter):
        return await _matter_page(request, matter, _("You may not do that at this step."), 403)
    place = await node(request, matter.node_id)
    assert place is not None
    progress = integer(data, "progress") if move == p.PROGRESS else None
    try:
        await matters.act(
            db,
            matter,
            move,
            node=place,
            note=text(data, "note", 4000),
            progress=progress,
            by_name=rc.user.display_name if rc.user else "",
        )
    except ServiceError as err:
        await rollback(request)
        return await _matter_page(request, await _matter(request, matter_id), message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/matters/{matter_id}")


# ---- owners' assemblies ------------------------------------------------------------------------


def _assemblies_in_scope(request: Request) -> Any:
    prefixes = ctx(request).scope_prefixes(VIEW)
    return select(Assembly).where(in_scope(Assembly.node_path, prefixes)).order_by(Assembly.opens_at.desc())


@get(f"{BASE}/assemblies/", guards=[requires(VIEW)])
async def assembly_list(request: Request, db: DbSession, page: FromQuery[int] = 1) -> Any:
    return await _assembly_list(request, await paginate(db, _assemblies_in_scope(request), page), {}, {})


async def _assembly_list(
    request: Request, page: Any, values: dict[str, str], errors: dict[str, str], code: int = 200
) -> Any:
    r = rules(request)
    start = (now() + timedelta(days=r.notice_days, hours=1)).astimezone(LOCAL)
    return await render(
        request,
        "self_governance/assemblies.html",
        {
            "page": page,
            "rows": page.items,
            "estates": await nodes_for(request, ASSEMBLY, ("estate",)),
            "categories": assemblies.CATEGORIES,
            "values": values
            or {
                "opens_at": start.strftime("%Y-%m-%dT09:00"),
                "closes_at": (start + timedelta(days=r.vote_days)).strftime("%Y-%m-%dT18:00"),
            },
            "errors": errors,
            "notice_days": r.notice_days,
            "phase": assemblies.phase,
            "base": ctx(request).url(f"{BASE}/assemblies/?"),
        },
        status_code=code,
    )


def _items(data: dict[str, Any]) -> list[tuple[str, int]]:
    out = []
    for i in range(1, 6):
        title = text(data, f"item_title_{i}", 300)
        category = integer(data, f"item_category_{i}")
        if title:
            out.append((title, category or 0))
    return out


@post(f"{BASE}/assemblies/", guards=[requires(ASSEMBLY)])
async def assembly_create(request: Request, data: Form, db: DbSession) -> Any:
    values = {k: text(data, k) for k in data if k != "_csrf_token"}
    estate = await node_in_scope(request, ASSEMBLY, integer(data, "node_id"), ("estate",))
    opens_at, closes_at = local_time(values.get("opens_at", "")), local_time(values.get("closes_at", ""))
    errors: dict[str, str] = {}
    if estate is None:
        errors["node_id"] = _("Choose the estate whose owners vote.")
    if opens_at is None:
        errors["opens_at"] = _("Give the date and time voting opens.")
    if closes_at is None:
        errors["closes_at"] = _("Give the date and time voting closes.")
    if not errors:
        assert estate is not None and opens_at is not None and closes_at is not None
        try:
            created = await assemblies.create(
                db,
                rules(request),
                node=estate,
                title=values.get("title", ""),
                description=values.get("description", ""),
                items=_items(data),
                opens_at=opens_at,
                closes_at=closes_at,
                extraordinary=bool(data.get("extraordinary")),
            )
        except ServiceError as err:
            await rollback(request)
            errors[getattr(err, "field", None) or "title"] = message(err)
    if errors:
        return await _assembly_list(request, await paginate(db, _assemblies_in_scope(request), 1), values, errors, 400)
    await db.commit()
    return _done(request, f"{BASE}/assemblies/{created.id}")


T = TypeVar("T")


async def _scoped(request: Request, get: Callable[[Any, int], Awaitable[T]], object_id: int, action: str) -> T:
    """Load one object and check the user's scope at its node; out of scope (or unknown) is 404."""
    c = ctx(request)
    assert c.db is not None
    try:
        found = await get(c.db, object_id)
    except ServiceError:
        require_scope(request, action, "")
        raise
    require_scope(request, action, found.node_path)  # type: ignore[attr-defined]
    return found


async def _assembly(request: Request, assembly_id: int, action: str = VIEW) -> Assembly:
    return await _scoped(request, assemblies.get, assembly_id, action)


async def _committee_sees_choices(request: Request, assembly: Assembly) -> bool:
    """How each owner voted: only to a member of the estate's current owners' committee, and only
    when the assembly was held under open votes (the tenant's rule at the time)."""
    c = ctx(request)
    if not assembly.open_votes or c.user is None or c.db is None:
        return False
    resident = await accounts.linked_resident(c.db, c.user.id)
    if resident is None:
        return False
    return any(x.node_id == assembly.node_id for x in await committees.of_member_resident(c.db, resident.id))


@get(f"{BASE}/assemblies/{{assembly_id:int}}", guards=[requires(VIEW)])
async def assembly_detail(request: Request, assembly_id: FromPath[int]) -> Any:
    return await _assembly_page(request, await _assembly(request, assembly_id))


@get(f"{BASE}/assemblies/{{assembly_id:int}}/live", guards=[requires(VIEW)])
async def assembly_live(request: Request, assembly_id: FromPath[int], db: DbSession) -> Any:
    """The participation figures alone, for the page's htmx poll."""
    a = await _assembly(request, assembly_id)
    return await render(
        request,
        "self_governance/_participation.html",
        {"a": a, "views": await assemblies.overview(db, a), "phase": assemblies.phase(a)},
        block=None,
    )


async def _assembly_page(request: Request, a: Assembly, error: str = "", code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    owners = await assemblies.electors(c.db, a)
    choices = await assemblies.choices_by_owner(c.db, a) if await _committee_sees_choices(request, a) else None
    return await render(
        request,
        "self_governance/assembly.html",
        {
            "a": a,
            "views": await assemblies.overview(c.db, a),
            "owners": owners,
            "voted": sum(1 for _e, v in owners if v),
            "phase": assemblies.phase(a),
            "categories": assemblies.CATEGORIES,
            "special": assemblies.SPECIAL,
            "may_manage": c.can(ASSEMBLY, a.node_path),
            "choices": choices,
            "error": error,
            "place": await node(request, a.node_id),
        },
        status_code=code,
    )


@post(f"{BASE}/assemblies/{{assembly_id:int}}/paper", guards=[requires(ASSEMBLY)], request_max_body_size=10_000_000)
async def assembly_paper(request: Request, assembly_id: FromPath[int], data: Multipart, db: DbSession) -> Any:
    """Staff enter an owner's paper ballot, or a proxy vote with the signed proxy document."""
    a = await _assembly(request, assembly_id, ASSEMBLY)
    choices = {k.removeprefix("item_"): str(v) for k, v in data.items() if k.startswith("item_") and v}
    proxy_name = text(data, "proxy_name", 100) or None
    upload = data.get("proxy_document")
    document_id = None
    try:
        if isinstance(upload, UploadFile) and upload.filename:
            document_id = (await save_upload(request, upload, PROXY_DOCUMENT, a.id)).id
        await assemblies.enter_paper(
            db, a, text(data, "elector", 200), choices, proxy_name=proxy_name, proxy_document_id=document_id
        )
    except (ServiceError, UploadError) as err:
        await rollback(request)
        msg = message(err) if isinstance(err, ServiceError) else str(err)
        return await _assembly_page(request, await _assembly(request, assembly_id), msg, 400)
    await db.commit()
    return _done(request, f"{BASE}/assemblies/{assembly_id}?entered=1")


@post(f"{BASE}/assemblies/{{assembly_id:int}}/close", guards=[requires(ASSEMBLY)])
async def assembly_close(request: Request, assembly_id: FromPath[int], data: Form, db: DbSession) -> Any:
    a = await _assembly(request, assembly_id, ASSEMBLY)
    try:
        early = text(data, "reason", 300) or None
        if assemblies.phase(a) != "closing" and not early:
            return await _assembly_page(request, a, _("Voting is still open: give a reason to close it early."), 400)
        await assemblies.close(db, a, early=early)
    except ServiceError as err:
        await rollback(request)
        return await _assembly_page(request, await _assembly(request, assembly_id), message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/assemblies/{assembly_id}")


# ---- meetings ----------------------------------------------------------------------------------


def _meetings_in_scope(request: Request) -> Any:
    prefixes = ctx(request).scope_prefixes(VIEW)
    return select(Meeting).where(in_scope(Meeting.node_path, prefixes)).order_by(Meeting.starts_at.desc())


@get(f"{BASE}/meetings/", guards=[requires(VIEW)])
async def meeting_list(request: Request, db: DbSession, page: FromQuery[int] = 1) -> Any:
    return await _meeting_list(request, await paginate(db, _meetings_in_scope(request), page), {}, {})


async def _meeting_list(
    request: Request, page: Any, values: dict[str, str], errors: dict[str, str], code: int = 200
) -> Any:
    return await render(
        request,
        "self_governance/meetings.html",
        {
            "page": page,
            "rows": page.items,
            "kinds": meetings.KINDS,
            "places": await nodes_for(request, MEETING, ("community", "grid", "estate", "building")),
            "values": values,
            "errors": errors,
            "base": ctx(request).url(f"{BASE}/meetings/?"),
        },
        status_code=code,
    )


@post(f"{BASE}/meetings/", guards=[requires(MEETING)])
async def meeting_create(request: Request, data: Form, db: DbSession) -> Any:
    values = {k: text(data, k) for k in ("kind", "title", "node_id", "starts_at", "place", "basis")}
    place = await node_in_scope(request, MEETING, integer(data, "node_id"), ("community", "grid", "estate", "building"))
    starts_at = local_time(values["starts_at"])
    errors: dict[str, str] = {}
    if place is None:
        errors["node_id"] = _("Choose where the meeting is held.")
    if starts_at is None:
        errors["starts_at"] = _("Give the date and time of the meeting.")
    if not errors:
        assert place is not None and starts_at is not None
        try:
            m = await meetings.schedule(
                db,
                kind=values["kind"],
                node=place,
                title=values["title"],
                starts_at=starts_at,
                place=values["place"],
                basis=values["basis"] or "adults",
            )
        except ServiceError as err:
            await rollback(request)
            errors[getattr(err, "field", None) or "title"] = message(err)
    if errors:
        return await _meeting_list(request, await paginate(db, _meetings_in_scope(request), 1), values, errors, 400)
    await db.commit()
    return _done(request, f"{BASE}/meetings/{m.id}")


async def _meeting(request: Request, meeting_id: int, action: str = VIEW) -> Meeting:
    return await _scoped(request, meetings.get, meeting_id, action)


@get(f"{BASE}/meetings/{{meeting_id:int}}", guards=[requires(VIEW)])
async def meeting_detail(request: Request, meeting_id: FromPath[int]) -> Any:
    return await _meeting_page(request, await _meeting(request, meeting_id))


async def _meeting_page(request: Request, m: Meeting, error: str = "", code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    return await render(
        request,
        "self_governance/meeting.html",
        {
            "m": m,
            "kinds": meetings.KINDS,
            "attendance": await meetings.attendance(c.db, m, rules(request)),
            "people": await meetings.attendees(c.db, m.id),
            "motions": await meetings.motions(c.db, m.id),
            "may_manage": c.can(MEETING, m.node_path) and m.status == meetings.SCHEDULED,
            "error": error,
        },
        status_code=code,
    )


@post(f"{BASE}/meetings/{{meeting_id:int}}/roll", guards=[requires(MEETING)])
async def meeting_roll(request: Request, meeting_id: FromPath[int], db: DbSession) -> Any:
    m = await _meeting(request, meeting_id, MEETING)
    form = await request.form()
    present = {int(v) for v in form.getall("present") if str(v).isdigit()}
    try:
        await meetings.mark_all(db, m, present)
    except ServiceError as err:
        await rollback(request)
        return await _meeting_page(request, m, message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/meetings/{meeting_id}")


@post(f"{BASE}/meetings/{{meeting_id:int}}/motions", guards=[requires(MEETING)])
async def meeting_motion(request: Request, meeting_id: FromPath[int], data: Form, db: DbSession) -> Any:
    m = await _meeting(request, meeting_id, MEETING)
    counts = [integer(data, k) for k in ("yes", "no", "abstain")]
    if any(n is None for n in counts):
        return await _meeting_page(request, m, _("Give the number of votes for, against and abstaining."), 400)
    try:
        await meetings.motion(
            db, m, rules(request), title=text(data, "title", 300), yes=counts[0], no=counts[1], abstain=counts[2]
        )  # type: ignore[arg-type]
    except ServiceError as err:
        await rollback(request)
        return await _meeting_page(request, m, message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/meetings/{meeting_id}")


@post(f"{BASE}/meetings/{{meeting_id:int}}/conclude", guards=[requires(MEETING)])
async def meeting_conclude(request: Request, meeting_id: FromPath[int], data: Form, db: DbSession) -> Any:
    m = await _meeting(request, meeting_id, MEETING)
    try:
        await meetings.conclude(db, m, rules(request), text(data, "minutes"))
    except ServiceError as err:
        await rollback(request)
        return await _meeting_page(request, await _meeting(request, meeting_id), message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/meetings/{meeting_id}")


# ---- committees and covenants ------------------------------------------------------------------


@get(f"{BASE}/committees/", guards=[requires(VIEW)])
async def committee_list(request: Request) -> Any:
    return await _committee_list(request, {}, {})


async def _committee_list(request: Request, values: dict[str, str], errors: dict[str, str], code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    r = rules(request)
    today = now().date()
    rows = []
    for com in await committees.current(c.db, c.scope_prefixes(VIEW)):
        rows.append((com, committees.standing(com, await committees.members(c.db, com.id), r, today)))
    return await render(
        request,
        "self_governance/committees.html",
        {"rows": rows, "estates": await nodes_for(request, COMMITTEE, ("estate",)), "values": values, "errors": errors},
        status_code=code,
    )


@post(f"{BASE}/committees/", guards=[requires(COMMITTEE)])
async def committee_create(request: Request, data: Form, db: DbSession) -> Any:
    values = {k: text(data, k) for k in ("name", "node_id", "elected_on", "term_start", "term_end")}
    estate = await node_in_scope(request, COMMITTEE, integer(data, "node_id"), ("estate",))
    dates = {k: local_date(values[k]) for k in ("elected_on", "term_start", "term_end")}
    errors = {k: _("Give a date.") for k, v in dates.items() if v is None}
    if estate is None:
        errors["node_id"] = _("Choose the estate.")
    if not errors:
        assert estate is not None
        try:
            com = await committees.form(db, node=estate, name=values["name"], **dates)
        except ServiceError as err:
            await rollback(request)
            errors[getattr(err, "field", None) or "name"] = message(err)
    if errors:
        return await _committee_list(request, values, errors, 400)
    await db.commit()
    return _done(request, f"{BASE}/committees/{com.id}")


async def _committee(request: Request, committee_id: int, action: str = VIEW) -> Any:
    return await _scoped(request, committees.get, committee_id, action)


@get(f"{BASE}/committees/{{committee_id:int}}", guards=[requires(VIEW)])
async def committee_detail(request: Request, committee_id: FromPath[int]) -> Any:
    return await _committee_page(request, await _committee(request, committee_id))


async def _committee_page(request: Request, com: Any, error: str = "", code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    people = await committees.members(c.db, com.id)
    return await render(
        request,
        "self_governance/committee.html",
        {
            "com": com,
            "people": people,
            "st": committees.standing(com, people, rules(request), now().date()),
            "posts": committees.POSTS,
            "may_manage": c.can(COMMITTEE, com.node_path),
            "may_vet": c.can(VET, com.node_path),
            "error": error,
        },
        status_code=code,
    )


@post(f"{BASE}/committees/{{committee_id:int}}/members", guards=[requires(COMMITTEE)])
async def committee_member(request: Request, committee_id: FromPath[int], data: Form, db: DbSession) -> Any:
    com = await _committee(request, committee_id, COMMITTEE)
    try:
        await committees.add_member(
            db,
            com,
            name=text(data, "name", 100),
            post=text(data, "post", 20),
            party_member=bool(data.get("party_member")),
        )
    except ServiceError as err:
        await rollback(request)
        return await _committee_page(request, com, message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/committees/{committee_id}")


@post(f"{BASE}/committees/{{committee_id:int}}/vet", guards=[requires(VET)])
async def committee_vet(request: Request, committee_id: FromPath[int], data: Form, db: DbSession) -> Any:
    com = await _committee(request, committee_id, VET)
    member = next((m for m in await committees.members(db, com.id) if m.id == integer(data, "member_id")), None)
    if member is None:
        return await _committee_page(request, com, _("That person is not on this committee."), 404)
    try:
        await committees.vet(db, member, text(data, "decision", 10) == "approve", text(data, "note", 300))
    except ServiceError as err:
        await rollback(request)
        return await _committee_page(request, com, message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/committees/{committee_id}")


@post(f"{BASE}/committees/{{committee_id:int}}/file", guards=[requires(COMMITTEE)])
async def committee_file(request: Request, committee_id: FromPath[int], data: Form, db: DbSession) -> Any:
    com = await _committee(request, committee_id, COMMITTEE)
    filed_on = local_date(text(data, "filed_on", 20))
    if filed_on is None:
        return await _committee_page(request, com, _("Give a date."), 400)
    try:
        await committees.file(db, com, filed_on, text(data, "filed_with", 200))
    except ServiceError as err:
        await rollback(request)
        return await _committee_page(request, com, message(err), 400)
    await db.commit()
    return _done(request, f"{BASE}/committees/{committee_id}")


@get(f"{BASE}/covenants/", guards=[requires(VIEW)])
async def covenant_list(request: Request) -> Any:
    return await _covenant_list(request, {}, {})


async def _covenant_list(request: Request, values: dict[str, str], errors: dict[str, str], code: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    return await render(
        request,
        "self_governance/covenants.html",
        {
            "rows": await covenants.listing(c.db, c.scope_prefixes(VIEW)),
            "kinds": covenants.KINDS,
            "places": await nodes_for(request, COVENANT, PLACES),
            "values": values,
            "errors": errors,
        },
        status_code=code,
    )


@post(f"{BASE}/covenants/", guards=[requires(COVENANT)])
async def covenant_create(request: Request, data: Form, db: DbSession) -> Any:
    values = {k: text(data, k) for k in ("kind", "title", "body", "node_id", "adopted_on", "ballot_id", "meeting_id")}
    place = await node_in_scope(request, COVENANT, integer(data, "node_id"), PLACES)
    adopted_on = local_date(values["adopted_on"])
    errors: dict[str, str] = {}
    if place is None:
        errors["node_id"] = _("Choose the community or estate the matter is for.")
    if adopted_on is None:
        errors["adopted_on"] = _("Give a date.")
    if not errors:
        assert place is not None
        try:
            await covenants.file(
                db,
                node=place,
                kind=values["kind"],
                title=values["title"],
                body=values["body"],
                adopted_on=adopted_on,
                ballot_id=integer(data, "ballot_id"),
                meeting_id=integer(data, "meeting_id"),
            )
        except ServiceError as err:
            await rollback(request)
            errors[getattr(err, "field", None) or "title"] = message(err)
    if errors:
        return await _covenant_list(request, values, errors, 400)
    await db.commit()
    return _done(request, f"{BASE}/covenants/")


# ---- the notice board --------------------------------------------------------------------------


@get(f"{BASE}/board/{{node_id:int}}", guards=[signed_in])
async def board(request: Request, node_id: FromPath[int], db: DbSession) -> Any:
    """The 公开栏 of a community or estate: what is on notice there now (public by nature)."""
    place = await node(request, node_id)
    if place is None or place.kind not in ("community", "grid", "estate"):
        from litestar.exceptions import NotFoundException

        raise NotFoundException()
    return await render(
        request, "self_governance/board.html", {"place": place, "items": await notices.board(db, place)}
    )


handlers = [
    overview,
    matter_list,
    matter_create,
    matter_detail,
    matter_act,
    assembly_list,
    assembly_create,
    assembly_detail,
    assembly_live,
    assembly_paper,
    assembly_close,
    meeting_list,
    meeting_create,
    meeting_detail,
    meeting_roll,
    meeting_motion,
    meeting_conclude,
    committee_list,
    committee_create,
    committee_detail,
    committee_member,
    committee_vet,
    committee_file,
    covenant_list,
    covenant_create,
    board,
]
