"""Ballot pages. Staff (``core.ballot.manage``, in their part of the tree) open a ballot (a question
or candidates, the electorate — everyone eligible, or the owners of an estate —, the counting rule,
the period, secret or open), enter paper ballots and proxy votes (委托, with the signed proxy
document uploaded), close it and publish the result with the tally and its digest. Voters
(``core.ballot.vote``) vote on the phone, here and in the JSON API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from litestar import Request, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import or_, select

from core.i18n import gettext as _
from core.i18n import lazy
from core.pluginhost import glance
from core.rbac.scope import in_scope
from core.services import ballots
from core.services.ballots.models import BallotElector, BallotElectorMember
from core.services.errors import ServiceError
from core.services.files.storage import UploadError
from core.services.files.uploads import DOCUMENTS, IMAGES
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.guards import check_in_scope, requires
from core.web.pagination import paginate
from core.web.render import render
from core.web.routes.api import api_router
from core.web.services.activities import _ancestors
from core.web.services.common import (
    BadBody,
    Form,
    errors_of,
    integer,
    iso,
    json_object,
    local_datetime,
    node_or_404,
    refuse,
    refuse_error,
    rollback,
    scope_nodes,
    text,
)
from core.web.uploads import save_upload

MANAGE = "core.ballot.manage"
VOTE = "core.ballot.vote"
STATUS = {"draft": lazy("Draft"), "open": lazy("Open"), "closed": lazy("Closed")}
RULES = {
    "simple_majority": lazy("More than half of the votes cast"),
    "majority_present": lazy("Quorum, then more than half of those present"),
    "plurality": lazy("The most votes win (elections)"),
    "owners_278": lazy("Owners: Civil Code art. 278 (area and headcount)"),
}
CHANNELS = {"online": lazy("online"), "paper": lazy("paper"), "proxy": lazy("proxy")}
DONE = {
    "created": lazy("The ballot has been created. Open it when it is ready."),
    "opened": lazy("The ballot is open."),
    "voted": lazy("Your vote has been recorded."),
    "entered": lazy("The paper ballot has been entered."),
    "closed": lazy("The ballot is closed and the result published."),
}


def rules_table(request: Request) -> dict[str, Any]:
    return glance.ballot_rules(request.app.state.plugins)


def _message(request: Request) -> str | None:
    done = request.query_params.get("done")
    return _(DONE[done]) if done in DONE else None


async def _visible_ballot(request: Request, ballot_id: int) -> ballots.Ballot:
    """A voter sees a ballot they are an elector of, or an open-electorate one in their area."""
    c = ctx(request)
    assert c.db is not None and c.user is not None
    ballot = (await c.db.execute(select(ballots.Ballot).where(ballots.Ballot.id == ballot_id))).scalar_one_or_none()
    if ballot is None or ballot.status == ballots.DRAFT:
        raise NotFoundException()
    if c.can(MANAGE, ballot.node_path):
        return ballot
    if await ballots.electors_of(c.db, ballot, c.user.id):
        return ballot
    prefixes = c.scope_prefixes(VOTE)
    in_area = any(ballot.node_path.startswith(p) for p in prefixes) or ballot.node_path in _ancestors(prefixes)
    if ballot.open_electorate and in_area:
        return ballot
    raise NotFoundException()


async def _managed(request: Request, ballot_id: int) -> ballots.Ballot:
    c = ctx(request)
    assert c.db is not None
    ballot = (await c.db.execute(select(ballots.Ballot).where(ballots.Ballot.id == ballot_id))).scalar_one_or_none()
    if ballot is None:
        raise NotFoundException()
    check_in_scope(request, MANAGE, ballot.node_path)
    return ballot


def _result_view(ballot: ballots.Ballot) -> dict[str, Any] | None:
    if not ballot.result:
        return None
    counts, outcome = ballot.result["counts"], ballot.result["outcome"]
    return {"counts": counts, "outcome": outcome, "digest": ballot.result_digest}


# ---- voters ---------------------------------------------------------------------------------


async def my_open_ballots(request: Request) -> list[ballots.Ballot]:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    member_of = select(BallotElectorMember.ballot_id).where(BallotElectorMember.user_id == c.user.id)
    prefixes = c.scope_prefixes(VOTE)
    area = or_(in_scope(ballots.Ballot.node_path, prefixes), ballots.Ballot.node_path.in_(sorted(_ancestors(prefixes))))
    stmt = (
        select(ballots.Ballot)
        .where(
            ballots.Ballot.status.in_((ballots.OPEN, ballots.CLOSED)),
            or_(ballots.Ballot.id.in_(member_of), ballots.Ballot.open_electorate.is_(True) & area),
        )
        .order_by(ballots.Ballot.status.desc(), ballots.Ballot.closes_at.desc())
        .limit(100)
    )
    return list((await c.db.execute(stmt)).scalars())


@get("/me/ballots", guards=[requires(VOTE)])
async def my_ballots(request: Request) -> Any:
    return await render(
        request,
        "core/services/my_ballots.html",
        {"ballots": await my_open_ballots(request), "status": {k: _(v) for k, v in STATUS.items()}},
    )


async def _ballot_page(request: Request, ballot: ballots.Ballot, error: str | None = None, status: int = 200) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    cast, chosen = await ballots.my_vote(c.db, ballot, c.user.id)
    now = datetime.now(UTC)
    closes = ballot.closes_at if ballot.closes_at.tzinfo else ballot.closes_at.replace(tzinfo=UTC)
    opens = ballot.opens_at if ballot.opens_at.tzinfo else ballot.opens_at.replace(tzinfo=UTC)
    may_vote = ballot.status == ballots.OPEN and opens <= now < closes and (cast is None or ballot.changeable)
    return await render(
        request,
        "core/services/ballot.html",
        {
            "b": ballot,
            "options": await ballots.options_of(c.db, ballot.id),
            "cast": cast,
            "chosen": chosen,
            "may_vote": may_vote,
            "result": _result_view(ballot),
            "error": error,
            "message": _message(request),
            "rule_label": _(RULES[ballot.rule]) if ballot.rule in RULES else ballot.rule,
            "status_label": _(STATUS.get(ballot.status, ballot.status)),
            "participation": await ballots.participation(c.db, ballot),
        },
        status_code=status,
    )


@get("/ballots/{ballot_id:int}", guards=[requires(VOTE, MANAGE)])
async def ballot_page(request: Request, ballot_id: FromPath[int]) -> Any:
    return await _ballot_page(request, await _visible_ballot(request, ballot_id))


def _option_ids(values: list[str]) -> list[int]:
    out = []
    for v in values:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return out


@post("/ballots/{ballot_id:int}/vote", guards=[requires(VOTE)], status_code=200)
async def vote(request: Request, ballot_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    ballot = await _visible_ballot(request, ballot_id)
    form = await request.form()
    chosen = _option_ids(form.getall("option") if "option" in form else [])
    try:
        await ballots.cast(db, ballot.id, rc.user.id, chosen, vault=request.app.state.vault)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _ballot_page(request, await _visible_ballot(request, ballot_id), err.translate(_), err.status)
    return Redirect(rc.url(f"/ballots/{ballot_id}?done=voted"), status_code=303)


# ---- staff ----------------------------------------------------------------------------------


@get("/ballots/manage", guards=[requires(MANAGE)])
async def manage_list(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    stmt = (
        select(ballots.Ballot)
        .where(in_scope(ballots.Ballot.node_path, rc.scope_prefixes(MANAGE)))
        .order_by(ballots.Ballot.created_at.desc(), ballots.Ballot.id)
    )
    return await render(
        request,
        "core/services/ballots_manage.html",
        {"page": await paginate(db, stmt, page, 20), "status": {k: _(v) for k, v in STATUS.items()}},
    )


async def _form_page(request: Request, values: dict[str, str], errors: dict[str, str], status: int = 200) -> Any:
    return await render(
        request,
        "core/services/ballot_form.html",
        {
            "values": values,
            "errors": errors,
            "nodes": await scope_nodes(request, MANAGE),
            "rules": [(k, _(RULES[k]) if k in RULES else k) for k in rules_table(request)],
        },
        status_code=status,
    )


@get("/ballots/new", guards=[requires(MANAGE)])
async def new_form(request: Request) -> Any:
    return await _form_page(request, {"kind": "question", "rule": "simple_majority", "electorate": "open"}, {})


@post("/ballots/new", guards=[requires(MANAGE)], status_code=200)
async def new_ballot(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    keys = ("title", "description", "node", "kind", "candidates", "rule", "quorum", "seats", "item",
            "opens_at", "closes_at", "secret", "changeable", "electorate", "eligibility")  # fmt: skip
    values = {k: text(data, k, 4000) for k in keys}
    errors: dict[str, str] = {}
    opens, closes = local_datetime(values["opens_at"]), local_datetime(values["closes_at"])
    if opens is None:
        errors["opens_at"] = _("Give a date and time.")
    if closes is None:
        errors["closes_at"] = _("Give a date and time.")
    node_id = integer(values, "node")
    if node_id is None:
        errors["node"] = _("Choose where the ballot is held.")
    options: Any = ballots.YES_NO_ABSTAIN
    if values["kind"] == "election":
        options = [line.strip() for line in values["candidates"].splitlines() if line.strip()]
        if len(options) < 2:
            errors["candidates"] = _("Give at least two candidates, one a line.")
    params: dict[str, Any] = {}
    if values["rule"] == "majority_present" and values["quorum"]:
        params["quorum"] = values["quorum"]
    if values["rule"] == "plurality":
        params["seats"] = integer(values, "seats") or 1
    if values["rule"] == "owners_278":
        params["item"] = integer(values, "item") or 9
    if errors:
        return await _form_page(request, values, errors, 400)
    try:
        node = await node_or_404(request, node_id, MANAGE)
    except NotFoundException:
        return await _form_page(request, values, {"node": _("Choose where the ballot is held.")}, 400)
    try:
        ballot = await ballots.create(
            db,
            title=values["title"],
            node=node,
            rule=values["rule"],
            opens_at=opens,  # type: ignore[arg-type]
            closes_at=closes,  # type: ignore[arg-type]
            options=options,
            rule_params=params,
            kind="election" if values["kind"] == "election" else "question",
            max_choices=min(params.get("seats", 1), len(options)),
            secret=values["secret"] == "1",
            changeable=values["changeable"] == "1",
            open_electorate=values["electorate"] == "open",
            eligibility_rule=values["eligibility"] or "everyone",
            description=values["description"],
            source="core",
            rules=rules_table(request),
        )
        if values["electorate"] == "owners":
            await ballots.add_electors(db, ballot, await ballots.electorate.owners(db, node.path))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _form_page(request, values, errors_of(err), 400)
    return Redirect(rc.url(f"/ballots/{ballot.id}/staff?done=created"), status_code=303)


async def _staff_page(request: Request, ballot: ballots.Ballot, errors: dict[str, str] | None = None) -> Any:
    c = ctx(request)
    assert c.db is not None
    electors = (
        (
            await c.db.execute(
                select(BallotElector).where(BallotElector.ballot_id == ballot.id).order_by(BallotElector.key).limit(500)
            )
        )
        .scalars()
        .all()
    )
    verified = await ballots.verify(c.db, ballot, rules_table(request)) if ballot.result else None
    return await render(
        request,
        "core/services/ballot_staff.html",
        {
            "b": ballot,
            "options": await ballots.options_of(c.db, ballot.id),
            "electors": electors,
            "participation": await ballots.participation(c.db, ballot),
            "result": _result_view(ballot),
            "verified": verified,
            "errors": errors or {},
            "message": _message(request),
            "rule_label": _(RULES[ballot.rule]) if ballot.rule in RULES else ballot.rule,
            "status_label": _(STATUS.get(ballot.status, ballot.status)),
        },
        status_code=400 if errors else 200,
    )


@get("/ballots/{ballot_id:int}/staff", guards=[requires(MANAGE)])
async def staff_page(request: Request, ballot_id: FromPath[int]) -> Any:
    return await _staff_page(request, await _managed(request, ballot_id))


@post("/ballots/{ballot_id:int}/open", guards=[requires(MANAGE)], status_code=200)
async def open_ballot(request: Request, ballot_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    ballot = await _managed(request, ballot_id)
    try:
        await ballots.open_ballot(db, ballot)
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, ballot_id), errors_of(err))
    return Redirect(rc.url(f"/ballots/{ballot_id}/staff?done=opened"), status_code=303)


@post("/ballots/{ballot_id:int}/paper", guards=[requires(MANAGE)], status_code=200)
async def enter_paper(request: Request, ballot_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    """A paper ballot, or a proxy vote with the signed proxy document (a photo or a PDF)."""
    ballot = await _managed(request, ballot_id)
    form = await request.form()
    elector_id = integer({"e": form.get("elector_id")}, "e")
    chosen = _option_ids(form.getall("option") if "option" in form else [])
    proxy_name = str(form.get("proxy_name") or "").strip()
    upload = form.get("proxy_document")
    document_id = None
    try:
        if elector_id is None:
            return await _staff_page(request, ballot, {"elector_id": _("Choose whose ballot this is.")})
        if proxy_name or (isinstance(upload, UploadFile) and upload.filename):
            if not isinstance(upload, UploadFile) or not upload.filename:
                return await _staff_page(
                    request, ballot, {"proxy": _("A proxy vote needs the proxy's name and the signed proxy document.")}
                )
            stored = await save_upload(
                request, upload, "core.ballot_proxy", ballot.id, allowed_types=IMAGES + DOCUMENTS
            )
            await db.flush()
            document_id = stored.id
        await ballots.enter_paper(
            db,
            ballot.id,
            elector_id,
            chosen,
            proxy_name=proxy_name if document_id or proxy_name else None,
            proxy_document_id=document_id,
            vault=request.app.state.vault,
        )
        await db.commit()
    except UploadError as exc:
        await rollback(request)
        return await _staff_page(request, await _managed(request, ballot_id), {"proxy": str(exc)})
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, ballot_id), errors_of(err))
    return Redirect(rc.url(f"/ballots/{ballot_id}/staff?done=entered"), status_code=303)


@post("/ballots/{ballot_id:int}/close", guards=[requires(MANAGE)], status_code=200)
async def close(request: Request, ballot_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    ballot = await _managed(request, ballot_id)
    try:
        await ballots.close(db, ballot, early=text(data, "reason", 300) or None, rules=rules_table(request))
        await db.commit()
    except ServiceError as err:
        await rollback(request)
        return await _staff_page(request, await _managed(request, ballot_id), errors_of(err, "close"))
    return Redirect(rc.url(f"/ballots/{ballot_id}/staff?done=closed"), status_code=303)


# ---- JSON API -------------------------------------------------------------------------------


async def _ballot_out(request: Request, ballot: ballots.Ballot) -> dict[str, Any]:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    cast, chosen = await ballots.my_vote(c.db, ballot, c.user.id)
    return {
        "id": ballot.id,
        "title": ballot.title,
        "description": ballot.description,
        "status": ballot.status,
        "rule": ballot.rule,
        "secret": ballot.secret,
        "changeable": ballot.changeable,
        "max_choices": ballot.max_choices,
        "opens_at": iso(ballot.opens_at),
        "closes_at": iso(ballot.closes_at),
        "options": [{"id": o.id, "label": o.label} for o in await ballots.options_of(c.db, ballot.id)],
        "my_vote": {"cast_at": iso(cast.changed_at or cast.cast_at), "options": chosen} if cast else None,
        "result": _result_view(ballot),
    }


@get("/ballots", guards=[requires(VOTE)], summary="Ballots I may vote in (open) or see the result of")
async def api_ballots(request: Request) -> dict[str, Any]:
    return {"ballots": [await _ballot_out(request, b) for b in await my_open_ballots(request)]}


@get("/ballots/{ballot_id:int}", guards=[requires(VOTE)], summary="One ballot, my vote and, once closed, the result")
async def api_ballot(request: Request, ballot_id: FromPath[int]) -> Any:
    try:
        ballot = await _visible_ballot(request, ballot_id)
    except NotFoundException:
        return refuse(404, _("There is no such ballot for you."))
    return await _ballot_out(request, ballot)


@post("/ballots/{ballot_id:int}/vote", guards=[requires(VOTE)], status_code=200, summary="Vote: {option_ids: [...]}")
async def api_vote(request: Request, ballot_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None
    try:
        ballot = await _visible_ballot(request, ballot_id)
    except NotFoundException:
        return refuse(404, _("There is no such ballot for you."))
    try:
        body = await json_object(request)
        raw = body.get("option_ids")
        chosen = _option_ids([str(v) for v in raw]) if isinstance(raw, list) else []
        await ballots.cast(db, ballot.id, rc.user.id, chosen, vault=request.app.state.vault)
        await db.commit()
    except BadBody as exc:
        return refuse(400, str(exc))
    except ServiceError as err:
        return refuse_error(err)
    return await _ballot_out(request, ballot)


handlers = [
    api_router(api_ballots, api_ballot, api_vote),
    my_ballots,
    manage_list,
    new_form,
    new_ballot,
    ballot_page,
    vote,
    staff_page,
    open_ballot,
    enter_paper,
    close,
]
