"""Points pages: a person's balance and history (their own on "我的", anyone's in scope for staff),
staff postings under the district's rules, reversals (never an edit or a delete), and the rules.

A person is in a staff member's scope when their account is linked to a resident record there or
they signed up for an activity there."""

from __future__ import annotations

import secrets
from typing import Any

from litestar import Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import exists, func, or_, select

from core.grids.basedata import Resident
from core.i18n import gettext as _
from core.i18n import lazy
from core.identity.models import User
from core.rbac.scope import in_scope
from core.services import ledger
from core.services.accounts.models import ResidentAccount
from core.services.activities.models import Activity, ActivitySignup
from core.services.errors import ServiceError
from core.services.ledger.models import LedgerAccount, LedgerEntry, LedgerPosting
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import requires, signed_in
from core.web.pagination import paginate
from core.web.render import render
from core.web.routes.api import api_router
from core.web.services.common import Form, errors_of, iso, rollback, text

VIEW = "core.points.view"
POST = "core.points.post"
RULES = "core.admin.tenant"
HISTORY = 30
DIRECTIONS = {"earn": lazy("Earn"), "deduct": lazy("Deduct")}
DONE = {"posted": lazy("The points have been posted."), "reversed": lazy("The posting has been reversed.")}


def _person_scope(prefixes: list[str]) -> Any:
    """Users in these scopes: linked to a resident there, or signed up for an activity there."""
    linked = (
        select(ResidentAccount.user_id)
        .join(Resident, Resident.id == ResidentAccount.resident_id)
        .where(in_scope(Resident.node_path, prefixes))
    )
    joined = (
        select(ActivitySignup.user_id)
        .join(Activity, Activity.id == ActivitySignup.activity_id)
        .where(in_scope(Activity.node_path, prefixes))
    )
    return or_(User.id.in_(linked), User.id.in_(joined))


async def _person(request: Request, user_id: int, action: str) -> User:
    c = ctx(request)
    assert c.db is not None
    stmt = select(User).where(User.id == user_id, _person_scope(c.scope_prefixes(action)))
    found = (await c.db.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFoundException()
    return found


async def _statement(request: Request, user_id: int, before: int | None) -> dict[str, Any]:
    """Every account the person owns, the total, and one page of history across them."""
    c = ctx(request)
    assert c.db is not None
    owned = await ledger.accounts_of(c.db, user_id)
    stmt = (
        select(LedgerEntry, LedgerPosting, LedgerAccount)
        .join(LedgerPosting, LedgerPosting.id == LedgerEntry.posting_id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.owner_user_id == user_id)
        .order_by(LedgerEntry.id.desc())
        .limit(HISTORY + 1)
    )
    if before is not None:
        stmt = stmt.where(LedgerEntry.id < before)
    rows = (await c.db.execute(stmt)).all()
    reversed_ids = set()
    ids = [p.id for _e, p, _a in rows]
    if ids:
        reversed_ids = set(
            (await c.db.execute(select(LedgerPosting.reverses_id).where(LedgerPosting.reverses_id.in_(ids)))).scalars()
        )
    return {
        "accounts": owned,
        "total": ledger.from_units(sum(a.balance for a in owned)),
        "history": [
            {
                "entry_id": e.id,
                "posting_id": p.id,
                "at": e.created_at,
                "amount": ledger.from_units(e.amount),
                "balance_after": ledger.from_units(e.balance_after),
                "account": a.label or a.key,
                "kind": p.kind,
                "memo": p.memo,
                "source": p.source,
                "is_reversal": p.reverses_id is not None,
                "reversed": p.id in reversed_ids,
            }
            for e, p, a in rows[:HISTORY]
        ],
        "more": rows[HISTORY][0].id + 1 if len(rows) > HISTORY else None,
        "from_units": ledger.from_units,
    }


@get("/me/points", guards=[signed_in])
async def my_points(request: Request, rc: Ctx, before: FromQuery[int | None] = None) -> Any:
    assert rc.user is not None
    return await render(request, "core/services/my_points.html", await _statement(request, rc.user.id, before))


@get("/points/", guards=[requires(VIEW, POST)])
async def people(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1, q: FromQuery[str] = "") -> Any:
    action = VIEW if rc.can(VIEW) else POST
    total = (
        select(func.coalesce(func.sum(LedgerAccount.balance), 0))
        .where(LedgerAccount.owner_user_id == User.id)
        .scalar_subquery()
    )
    stmt = select(User).where(_person_scope(rc.scope_prefixes(action))).order_by(User.display_name, User.id)
    q = q.strip()[:50]
    if q:
        stmt = stmt.where(User.display_name.contains(q))
    result = await paginate(db, stmt, page, 30)
    balances = {}
    if result.items:
        rows = await db.execute(select(User.id, total).where(User.id.in_([u.id for u in result.items])))
        balances = {uid: ledger.from_units(units) for uid, units in rows.all()}
    return await render(
        request,
        "core/services/points_people.html",
        {"page": result, "q": q, "balances": balances, "can_rules": rc.can(RULES)},
    )


async def _person_page(
    request: Request, user_id: int, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Any:
    c = ctx(request)
    assert c.db is not None
    action = VIEW if c.can(VIEW) else POST
    person = await _person(request, user_id, action)
    may_post = c.can(POST) and (
        await c.db.scalar(select(exists().where(User.id == user_id, _person_scope(c.scope_prefixes(POST)))))
    )
    done = request.query_params.get("done")
    return await render(
        request,
        "core/services/points_person.html",
        {
            **await _statement(request, user_id, None),
            "person": person,
            "may_post": may_post,
            "rules": await ledger.points_rules(c.db, active_only=True),
            "directions": {k: _(v) for k, v in DIRECTIONS.items()},
            "errors": errors or {},
            "values": values or {"key": secrets.token_urlsafe(12)},
            "message": _(DONE[done]) if done in DONE else None,
        },
        status_code=400 if errors else 200,
    )


@get("/points/people/{user_id:int}", guards=[requires(VIEW, POST)])
async def person_page(request: Request, user_id: FromPath[int]) -> Any:
    return await _person_page(request, user_id)


@post("/points/people/{user_id:int}", guards=[requires(POST)], status_code=200)
async def post_points(request: Request, user_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    """A posting under a rule. The form carries a key made when it was shown: sent twice (a double
    tap, a reload), it posts once."""
    await _person(request, user_id, POST)
    values = {k: text(data, k, 400) for k in ("rule", "amount", "memo", "key")}
    if not values["key"]:
        values["key"] = secrets.token_urlsafe(12)
    try:
        await ledger.post_by_rule(
            db,
            f"staff:{values['key']}",
            rule_code=values["rule"],
            user_id=user_id,
            amount=values["amount"] or "0",
            memo=values["memo"],
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        default = "amount" if isinstance(err, ledger.InsufficientBalance) else "rule"
        return await _person_page(request, user_id, errors_of(err, default), values)
    return Redirect(rc.url(f"/points/people/{user_id}?done=posted"), status_code=303)


@post("/points/postings/{posting_id:int}/reverse", guards=[requires(POST)], status_code=200)
async def reverse(request: Request, posting_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    owner = await db.scalar(
        select(LedgerAccount.owner_user_id)
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerEntry.posting_id == posting_id, LedgerAccount.owner_user_id.is_not(None))
        .limit(1)
    )
    if owner is None:
        raise NotFoundException()
    await _person(request, owner, POST)
    try:
        await ledger.reverse(db, posting_id, f"reverse:{posting_id}", text(data, "reason", 400))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _person_page(request, owner, errors_of(err, "reverse"))
    return Redirect(rc.url(f"/points/people/{owner}?done=reversed"), status_code=303)


async def _rules_page(request: Request, errors: dict[str, str], values: dict[str, str], status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None
    return await render(
        request,
        "core/services/points_rules.html",
        {
            "rules": await ledger.points_rules(c.db),
            "errors": errors,
            "values": values,
            "directions": {k: _(v) for k, v in DIRECTIONS.items()},
            "from_units": ledger.from_units,
        },
        status_code=status,
    )


@get("/points/rules", guards=[requires(RULES)])
async def rules_page(request: Request) -> Any:
    return await _rules_page(request, {}, {"direction": "earn"})


@post("/points/rules", guards=[requires(RULES)], status_code=200)
async def save_rule(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    values = {k: text(data, k, 200) for k in ("code", "title", "direction", "max_amount", "active")}
    try:
        await ledger.save_rule(
            db,
            code=values["code"],
            title=values["title"],
            direction=values["direction"],
            max_amount=values["max_amount"] or "0",
            active=values["active"] != "0",
        )
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _rules_page(request, errors_of(err), values, 400)
    return Redirect(rc.url("/points/rules"), status_code=303)


@get("/me/points", guards=[signed_in], summary="My points: balance, accounts and history (?before=)")
async def api_my_points(request: Request, rc: Ctx, before: FromQuery[int | None] = None) -> dict[str, Any]:
    assert rc.user is not None
    data = await _statement(request, rc.user.id, before)
    return {
        "balance": str(data["total"]),
        "accounts": [
            {"key": a.key, "label": a.label, "balance": str(ledger.from_units(a.balance))} for a in data["accounts"]
        ],
        "history": [
            {
                "posting_id": h["posting_id"],
                "at": iso(h["at"]),
                "amount": str(h["amount"]),
                "balance_after": str(h["balance_after"]),
                "memo": h["memo"],
                "kind": h["kind"],
                "reversal": h["is_reversal"],
                "reversed": h["reversed"],
            }
            for h in data["history"]
        ],
        "next_before": data["more"],
    }


handlers = [api_router(api_my_points), my_points, people, person_page, post_points, reverse, rules_page, save_rule]
