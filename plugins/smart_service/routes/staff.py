"""Staff pages: the event inbox, an event's page with the actions allowed now, and the live board.

Scope ("小事不出网格、大事不出社区"): lists are filtered in SQL by the user's ``smart_service.view``
prefixes; an event outside them answers 404. Every action posts the version the user saw, so a
change made meanwhile by someone else is refused instead of overwritten. Each committed change
is announced (services → on_event), and the plugin's on_event tells the tenant's boards.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, ServerSentEvent
from sqlalchemy import and_, or_, select

from core.db.base import utcnow
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.i18n import lazy
from core.identity.models import User
from core.rbac.models import RoleAssignment
from core.rbac.scope import in_scope
from core.services.files.storage import UploadError
from core.web.context import ctx
from core.web.guards import check_in_scope, requires
from core.web.pagination import COUNT_CAP, paginate
from core.web.render import is_htmx, render, render_string
from plugins.smart_service import board, lifecycle, photos, referrals, services
from plugins.smart_service.lifecycle import ACTION_LABELS, STAGE_OF, STATE_LABELS, State, TransitionError
from plugins.smart_service.models import LEVELS, OPEN_STATES, Category, Event, HandlingUnit

VIEW = "smart_service.view"
REFER = "smart_service.event.refer"
PER_PAGE = 50
NO_STORE = {"Cache-Control": "no-store"}
# Not offered as staff buttons: 我也遇到 and 评价 belong to residents' pages.
NOT_STAFF = frozenset({"me_too", "rate", "handle_on_spot"})  # 自处置 has its own one-step form
LEVEL_LABELS = {1: lazy("District command centre"), 2: lazy("Sub-district / department"), 3: lazy("Community")}
URGENCY_LABELS = {1: lazy("Normal"), 2: lazy("Urgent"), 3: lazy("Critical")}


# ---- the inbox ---------------------------------------------------------------------------------


@dataclass
class Filters:
    state: str = ""  # "" = open events, "all", or one state
    category: str = ""
    level: int | None = None
    overdue: bool = False
    mine: bool = False
    pending: bool = False  # a request (extension, parking) waits for approval
    q: str = ""

    def query(self) -> str:
        """The filters as a query string (for the pager), ending in '&'."""
        from urllib.parse import urlencode

        pairs = {
            "state": self.state,
            "category": self.category,
            "level": self.level or "",
            "overdue": "1" if self.overdue else "",
            "mine": "1" if self.mine else "",
            "pending": "1" if self.pending else "",
            "q": self.q,
        }
        text = urlencode({k: v for k, v in pairs.items() if v})
        return f"?{text}&" if text else "?"


def _filters(
    state: str | None,
    category: str | None,
    level: str | None,
    overdue: str | None,
    mine: str | None,
    q: str | None,
    pending: str | None = None,
) -> Filters:
    f = Filters(
        state=(state or "").strip(),
        category=(category or "").strip(),
        overdue=bool(overdue),
        mine=bool(mine),
        pending=bool(pending),
        q=(q or "").strip()[:100],
    )
    if f.state not in ("", "all") and f.state not in {s.value for s in State}:
        f.state = ""
    if level and level.strip().isdigit() and int(level) in LEVELS:
        f.level = int(level)
    return f


def _inbox_statement(c: Any, f: Filters, now: datetime) -> Any:
    stmt = select(Event).where(in_scope(Event.node_path, c.scope_prefixes(VIEW)))
    if f.state == "":
        stmt = stmt.where(Event.state.in_(OPEN_STATES))  # the partial index's predicate
    elif f.state != "all":
        stmt = stmt.where(Event.state == f.state)
    if f.category:
        subclasses = select(Category.code).where(Category.parent_code == f.category)
        stmt = stmt.where(or_(Event.category_code == f.category, Event.category_code.in_(subclasses)))
    if f.level is not None:
        stmt = stmt.where(Event.level == f.level)
    if f.overdue:
        stmt = stmt.where(Event.state.in_([s.value for s in STAGE_OF]), Event.due_at < now)
    if f.mine:
        stmt = stmt.where(Event.assignee_user_id == c.user.id)
    if f.pending:
        stmt = stmt.where(Event.pending.is_not(None))
    if f.q:
        stmt = stmt.where(
            or_(
                Event.number.contains(f.q, autoescape=True),
                Event.title.contains(f.q, autoescape=True),
                Event.address.contains(f.q, autoescape=True),
            )
        )
    # Soonest deadline first; events without one (final, parked) last, newest first. NULLS LAST on
    # the column itself (not ``due_at IS NULL`` first) lets ix_ss_events_open_due give the order.
    return stmt.order_by(Event.due_at.asc().nulls_last(), Event.created_at.desc(), Event.id.desc())


async def _labels(session: Any, events: list[Event], locale: str) -> dict[str, dict[Any, str]]:
    """Category and unit names for a page of events (two small queries, not one per row)."""
    codes = {e.category_code for e in events}
    units = {e.handling_unit_id for e in events if e.handling_unit_id}
    cats = (await session.execute(select(Category).where(Category.code.in_(codes)))).scalars() if codes else []
    unit_rows = (
        (await session.execute(select(HandlingUnit).where(HandlingUnit.id.in_(units)))).scalars() if units else []
    )
    return {"category": {x.code: x.label(locale) for x in cats}, "unit": {u.id: u.label(locale) for u in unit_rows}}


def _is_overdue(event: Event, now: datetime) -> bool:
    return event.due_at is not None and event.state in {s.value for s in STAGE_OF} and event.due_at < now


@get(["/smart-service/", "/smart-service/events"], guards=[requires(VIEW)])
async def inbox(
    request: Request,
    state_: Annotated[str | None, QueryParameter(name="state")] = None,  # "state" is litestar's reserved name
    category: FromQuery[str | None] = None,
    level: FromQuery[str | None] = None,
    overdue: FromQuery[str | None] = None,
    mine: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    pending: FromQuery[str | None] = None,
    page: FromQuery[int] = 1,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    now = utcnow()
    f = _filters(state_, category, level, overdue, mine, q, pending)
    result = await paginate(c.db, _inbox_statement(c, f, now), page, PER_PAGE, cap=COUNT_CAP)
    categories = (
        (
            await c.db.execute(
                select(Category).where(Category.parent_code.is_(None)).order_by(Category.position, Category.code)
            )
        )
        .scalars()
        .all()
    )
    return await render(
        request,
        "smart_service/inbox.html",
        {
            "page": result,
            "f": f,
            "now": now,
            "labels": await _labels(c.db, list(result.items), c.locale),
            "overdue_ids": {e.id for e in result.items if _is_overdue(e, now)},
            "categories": categories,
            "states": [(s.value, STATE_LABELS[s]) for s in State],
            "level_labels": LEVEL_LABELS,
            "state_labels": {s.value: label for s, label in STATE_LABELS.items()},
            "hotline": c.plugin_settings.get("smart_service", {}).get("hotline", "12345"),
        },
        headers=NO_STORE,
    )


# ---- one event ---------------------------------------------------------------------------------


@dataclass
class ActionForm:
    action: str
    label: str
    needs: frozenset[str]
    dispatch: bool = False
    danger: bool = False


DANGER = frozenset({"reject", "return", "rework", "merge", "reject_extension", "reject_park", "supervise"})


def _forms(c: Any, event: Event) -> list[ActionForm]:
    """Exactly the actions this user may do to this event now."""
    out = []
    for action in services.allowed_actions(event):
        if action in NOT_STAFF:
            continue
        rule = lifecycle.TABLE[(State(event.state), action)]
        if not c.can(rule.permission, event.node_path):
            continue
        if rule.assignee_only and event.assignee_user_id is not None and event.assignee_user_id != c.user.id:
            continue
        out.append(
            ActionForm(
                action,
                ACTION_LABELS[action],
                rule.needs,
                dispatch=action in ("dispatch", "redispatch"),
                danger=action in DANGER,
            )
        )
    return out


async def _load(request: Request, event_id: int) -> Event:
    c = ctx(request)
    assert c.db is not None
    try:
        event = await services.get_event(c.db, event_id)
    except services.EventNotFound:
        raise NotFoundException() from None
    check_in_scope(request, VIEW, event.node_path)
    return event


async def _dispatch_choices(session: Any, event: Event, locale: str) -> dict[str, Any]:
    units = (
        await session.execute(
            select(HandlingUnit).where(HandlingUnit.active.is_(True)).order_by(HandlingUnit.level, HandlingUnit.name)
        )
    ).scalars()
    # People whose role covers the event's place (their assignment is at it or above it).
    people = (
        await session.execute(
            select(User)
            .join(
                RoleAssignment,
                and_(RoleAssignment.tenant_id == User.tenant_id, RoleAssignment.user_id == User.id),
            )
            .where(
                RoleAssignment.node_path.in_(services.ancestor_paths(event.node_path)),
                RoleAssignment.role_code.in_(
                    ("grid_worker", "grid_leader", "community_worker", "community_secretary", "subdistrict_officer")
                ),
                User.is_active.is_(True),
            )
            .order_by(User.display_name)
            .distinct()
        )
    ).scalars()
    default = None
    try:
        target = await services.dispatch_target(session, event)
        default = target.unit.id if target is not None else None
    except Exception:  # a broken catalogue must not hide the page; the form still works
        default = None
    return {"units": [(u.id, u.label(locale), u.level) for u in units], "people": list(people), "default_unit": default}


async def _panel_context(
    request: Request, event: Event, *, error: str | None = None, done: str | None = None
) -> dict[str, Any]:
    c = ctx(request)
    assert c.db is not None
    lines = await services.timeline(c.db, event.id)
    category = (await c.db.execute(select(Category).where(Category.code == event.category_code))).scalar_one_or_none()
    unit = await c.db.get(HandlingUnit, (event.tenant_id, event.handling_unit_id)) if event.handling_unit_id else None
    assignee = await c.db.get(User, (event.tenant_id, event.assignee_user_id)) if event.assignee_user_id else None
    supervisor = (
        await c.db.get(HandlingUnit, (event.tenant_id, event.supervisor_unit_id)) if event.supervisor_unit_id else None
    )
    node = (await c.db.execute(select(GridNode).where(GridNode.id == event.node_id))).scalar_one_or_none()
    merged_into = None
    if event.merged_into_id:
        merged_into = (await c.db.execute(select(Event).where(Event.id == event.merged_into_id))).scalar_one_or_none()
    forms = _forms(c, event)
    now = utcnow()
    mediation_on = referrals.PEER in c.enabled
    referred = await referrals.referral_pending(c.db, event.id)
    # Before: the report's photos and any "before" photos; after: what handling showed (in timeline order).
    ids = [p for t in lines for p in (t.photos or [])]
    kinds = {pid: photos.kind_of(row) for pid, row in (await photos.photos_by_id(c.db, ids)).items()}
    before = [p for p in ids if kinds.get(p) in ("report", "before")]
    after = [p for p in ids if kinds.get(p) == "after"]
    return {
        "event": event,
        "category": category.label(c.locale) if category else event.category_code,
        "unit": unit.label(c.locale) if unit else None,
        "supervisor": supervisor.label(c.locale) if supervisor else None,
        "assignee": assignee.display_name if assignee else None,
        "node": node.name if node else "",
        "merged_into": merged_into,
        "timeline": lines,
        "before": before,
        "after": after,
        "thumbs": await photos.thumbnails(c.db, ids),
        "forms": forms,
        "choices": await _dispatch_choices(c.db, event, c.locale) if any(f.dispatch for f in forms) else None,
        "state_labels": {s.value: label for s, label in STATE_LABELS.items()},
        "action_labels": ACTION_LABELS,
        "level_labels": LEVEL_LABELS,
        "urgency_labels": URGENCY_LABELS,
        "overdue": _is_overdue(event, now),
        "photo_accept": photos.ACCEPT,
        "error": error,
        "done": done,
        "links": await referrals.links_of(c.db, event.id),
        "mediation_on": mediation_on,
        "referred": referred,
        "may_publish": c.can(services.PUBLISH, event.node_path),
        "may_refer": mediation_on and not referred and referrals.may_refer(event) and c.can(REFER, event.node_path),
        **await _work_order(c, event),
    }


async def _work_order(c: Any, event: Event) -> dict[str, Any]:
    """The outside order (12345, 上级交办) the event came from, what went back, and whether this
    user may reply to it."""
    from plugins.smart_service import workorders

    order = await workorders.order_of(c.db, event.id)
    if order is None:
        return {"order": None}
    return {
        "order": order,
        "order_messages": await workorders.messages(c.db, event.id),
        "may_reply": c.can("smart_service.intake") or c.can(lifecycle.DISPATCH, event.node_path),
    }


@get("/smart-service/events/{event_id:int}", guards=[requires(VIEW)])
async def event_page(request: Request, event_id: FromPath[int]) -> Any:
    event = await _load(request, event_id)
    return await render(request, "smart_service/event.html", await _panel_context(request, event), headers=NO_STORE)


def _uploads(form: Any) -> list[UploadFile]:
    return [u for u in form.getall("photos", []) if isinstance(u, UploadFile) and u.filename]


async def _store_after_photos(request: Request, event: Event, uploads: list[UploadFile]) -> list[int]:
    """ "After" photos for 反馈 (photos.py: content checked, EXIF applied, metadata stripped, thumbnails)."""
    c = ctx(request)
    assert c.db is not None and c.tenant is not None and c.user is not None
    if not uploads:
        return []
    stored = await photos.store_photos(
        request, c.db, c.tenant.id, uploads, event_id=event.id, kind="after", uploaded_by=c.user.id
    )
    return [row.id for row in stored]


def _number(value: Any) -> float | None:
    try:
        return float(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


@post("/smart-service/events/{event_id:int}/act", guards=[requires(VIEW)], status_code=200)
async def act(request: Request, event_id: FromPath[int]) -> Any:  # noqa: C901 (to split: #8)
    c = ctx(request)
    assert c.db is not None and c.tenant is not None and c.user is not None and c.actor is not None
    event = await _load(request, event_id)
    form = await request.form()
    action = str(form.get("action") or "")
    data: dict[str, Any] = {}
    error: str | None = None
    status = 200
    try:
        if action in NOT_STAFF or action not in ACTION_LABELS:
            raise lifecycle.IllegalTransition(lazy("Unknown action %(action)s"), action=action)
        if action in ("dispatch", "redispatch"):
            data["unit_id"] = _int(form.get("unit_id"))
            data["assignee_user_id"] = _int(form.get("assignee_user_id"))
        elif action == "request_extension":
            data["hours"] = _number(form.get("hours"))
        elif action == "merge":
            number = str(form.get("into") or "").strip()
            if not number:
                raise lifecycle.MissingInput(lazy("Choose the event to merge this one into"))
            try:
                target = await services.get_by_number(c.db, number)
            except services.EventNotFound:
                target = None
            if target is None or not c.can(VIEW, target.node_path):
                raise services.InvalidInput(lazy("The event to merge into was not found"))
            data["into"] = target.id
        elif action == "revisit" and _int(form.get("rating")) is not None:
            data["rating"] = _int(form.get("rating"))
        photo_ids: list[int] = []
        if action == "feedback":
            photo_ids = await _store_after_photos(request, event, _uploads(form))
        await services.transition(
            c.db,
            event,
            action,
            c.actor,
            note=str(form.get("note") or ""),
            photos=photo_ids,
            version=_int(form.get("version")),
            can=c.can,
            app_state=request.app.state,
            enabled=c.enabled,
            **{k: v for k, v in data.items() if v is not None},
        )
        await c.db.commit()
    except services.StaleEvent as exc:
        error, status = exc.translated(_), 409
    except TransitionError as exc:
        error, status = exc.translated(_), 422
    except UploadError as exc:
        error, status = str(exc), (413 if exc.status == 413 else 422)
    if error is not None:
        await c.db.rollback()
        await c.db.refresh(c.user)  # the rollback expired everything the session held; the layout reads it
        event = await services.get_event(c.db, event_id)  # as it is now, for the page
    elif not is_htmx(request):  # boards hear of it from on_event once the commit is announced
        return Redirect(c.url(f"/smart-service/events/{event.id}"), status_code=303)
    done = None if error else _("Done: %(action)s", action=_(ACTION_LABELS[action]))
    context = await _panel_context(request, event, error=error, done=done)
    if is_htmx(request):
        # htmx swaps only 2xx answers: the panel carries the message either way.
        html = render_string(request, "smart_service/_event_panel.html", {**context, "c": c})
        return Response(html, media_type="text/html", headers=NO_STORE)
    return await render(request, "smart_service/event.html", context, status_code=status, headers=NO_STORE)


@post("/smart-service/events/{event_id:int}/refer-mediation", guards=[requires(REFER)], status_code=200)
async def refer_mediation(request: Request, event_id: FromPath[int]) -> Any:
    """转人民调解: only while the mediation pillar is on (404 otherwise); rule_of_law opens the case."""
    c = ctx(request)
    assert c.db is not None and c.actor is not None and c.user is not None
    if referrals.PEER not in c.enabled:
        raise NotFoundException()
    event = await _load(request, event_id)
    check_in_scope(request, REFER, event.node_path)
    form = await request.form()
    try:
        await referrals.refer_to_mediation(c.db, event, c.actor, str(form.get("note") or ""), request.app.state)
        await c.db.commit()
    except TransitionError as exc:
        await c.db.rollback()
        await c.db.refresh(c.user)
        event = await services.get_event(c.db, event_id)
        context = await _panel_context(request, event, error=exc.translated(_))
        return await render(request, "smart_service/event.html", context, status_code=409, headers=NO_STORE)
    return Redirect(c.url(f"/smart-service/events/{event.id}"), status_code=303)


@post("/smart-service/events/{event_id:int}/public-note", guards=[requires(services.PUBLISH)], status_code=200)
async def public_note(request: Request, event_id: FromPath[int]) -> Any:
    """The status note for residents: the only note Open311 and residents' pages show."""
    c = ctx(request)
    assert c.db is not None and c.actor is not None and c.user is not None
    event = await _load(request, event_id)
    form = await request.form()
    try:
        await services.publish_note(
            c.db, event, c.actor, str(form.get("public_note") or ""), can=c.can, app_state=request.app.state
        )
        await c.db.commit()
    except TransitionError as exc:
        await c.db.rollback()
        await c.db.refresh(c.user)
        event = await services.get_event(c.db, event_id)
        context = await _panel_context(request, event, error=exc.translated(_))
        return await render(request, "smart_service/event.html", context, status_code=422, headers=NO_STORE)
    return Redirect(c.url(f"/smart-service/events/{event.id}"), status_code=303)


# ---- the live board ----------------------------------------------------------------------------


@get("/smart-service/board", guards=[requires(VIEW)])
async def board_page(request: Request) -> Any:
    c = ctx(request)
    assert c.db is not None
    cols = await board.columns(c.db, c.scope_prefixes(VIEW))
    return await render(request, "smart_service/board.html", {"columns": cols}, headers=NO_STORE)


@get("/smart-service/board/columns/{key:str}", guards=[requires(VIEW)])
async def board_column(request: Request, key: FromPath[str]) -> Response[str]:
    c = ctx(request)
    assert c.db is not None
    if key not in board.BY_KEY:
        raise NotFoundException()
    col = await board.column(c.db, key, c.scope_prefixes(VIEW))
    html = render_string(request, "smart_service/_board_column.html", {"col": col, "c": c, "now": utcnow()})
    return Response(html, media_type="text/html", headers=NO_STORE)


@get("/smart-service/board/stream", guards=[requires(VIEW)])
async def board_stream(request: Request) -> ServerSentEvent:
    c = ctx(request)
    assert c.tenant is not None and c.db is not None
    tenant_id = c.tenant.id
    await c.db.close()  # the stream may stay open for hours: hold no database connection
    return ServerSentEvent(
        board.stream(request.app.state.channels, tenant_id),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


handlers = [refer_mediation, public_note, inbox, event_page, act, board_page, board_column, board_stream]
