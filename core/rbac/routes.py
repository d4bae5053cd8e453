"""District admin pages for roles and grants (/admin/roles), accounts and their assignments
(/admin/users), and "what can this user do where, and why" (/admin/users/{id}/access).

Forms are parsed and pages rendered here; reads and writes are in core/rbac/admin.py.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select

from core.audit import record
from core.i18n import gettext as _
from core.identity.models import User
from core.rbac import admin as svc
from core.rbac.models import Role, RoleAssignment
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.excel import excel_response
from core.web.forms import Form
from core.web.forms import integer as _int
from core.web.forms import text as _text
from core.web.forms import values as _values
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render, render_string

ROLES = "core.admin.roles"
USERS = "core.admin.users"


def _groups(request: Request) -> list[svc.ActionGroup]:
    c = ctx(request)
    return svc.action_groups(request.app.state.plugins, c.locale, c.enabled)


def _rules(request: Request) -> list[tuple[str, str]]:
    policy = ctx(request).policy
    return list(policy.rules) if policy is not None else []


def _policy_changed(request: Request) -> None:
    # This process sees the new version at once; the others within the tenant cache's TTL.
    request.app.state.tenant_cache.clear()


# ---- roles --------------------------------------------------------------------------------------


async def _roles_page(
    request: Request, form: dict[str, str] | None = None, errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None
    context = {
        "rows": await svc.list_roles(c.db),
        "form": form or {"code": "", "name_zh": "", "name_en": ""},
        "errors": errors or {},
        "deleted": request.query_params.get("deleted"),
    }
    return await render(request, "core/rbac/roles.html", context, status_code=status)


@get("/admin/roles", guards=[requires(ROLES)])
async def roles_page(request: Request) -> Any:
    return await _roles_page(request)


@post("/admin/roles", guards=[requires(ROLES)], status_code=200)
async def create_role(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    form = {k: _text(data, k) for k in ("code", "name_zh", "name_en")}
    role, errors = await svc.create_role(db, form["code"], form["name_zh"], form["name_en"])
    if role is None:
        return await _roles_page(request, form, errors, 400)
    await db.commit()
    return Redirect(rc.url(f"/admin/roles/{role.code}?saved=created"), status_code=303)


async def _role_or_404(request: Request, code: str) -> Role:
    c = ctx(request)
    assert c.db is not None
    role = await svc.get_role(c.db, code)
    if role is None:
        raise NotFoundException()
    return role


MESSAGES = {
    "created": "The role has been created. Tick the actions it may do.",
    "grants": "The grants have been saved; they apply everywhere within a second.",
    "renamed": "The role has been renamed.",
}


async def _role_page(
    request: Request,
    role: Role,
    *,
    alert: str | None = None,
    errors: dict[str, str] | None = None,
    names: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    groups = _groups(request)
    known = svc.known_actions(groups)
    grants = await svc.role_grants(c.db, role.code)
    saved = request.query_params.get("saved")
    context = {
        "role": role,
        "groups": groups,
        "grants": grants,
        "everything": svc.ALL in grants,
        "editable": role.code != svc.SUPER_ROLE,
        "other_grants": sorted(g for g in grants if g not in known and g != svc.ALL),
        "holders": await svc.holders_of(c.db, role.code),
        "message": _(MESSAGES[saved]) if saved in MESSAGES else None,
        "alert": alert,
        "errors": errors or {},
        "names": names or {"name_zh": role.name_zh, "name_en": role.name_en},
    }
    return await render(request, "core/rbac/role.html", context, status_code=status)


@get("/admin/roles/{code:str}", guards=[requires(ROLES)])
async def role_page(request: Request, code: FromPath[str]) -> Any:
    return await _role_page(request, await _role_or_404(request, code))


@post("/admin/roles/{code:str}/grants", guards=[requires(ROLES)], status_code=200)
async def save_grants(request: Request, code: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    role = await _role_or_404(request, code)
    known = svc.known_actions(_groups(request))
    try:
        added, removed = await svc.set_grants(db, rc.tenant.id, role, _values(data, "action"), known)
    except svc.AdminError as exc:
        return await _role_page(request, role, alert=str(exc), status=400)
    if added or removed:
        await db.commit()
        _policy_changed(request)
    return Redirect(rc.url(f"/admin/roles/{role.code}?saved=grants"), status_code=303)


@post("/admin/roles/{code:str}/rename", guards=[requires(ROLES)], status_code=200)
async def rename_role(request: Request, code: FromPath[str], data: Form, db: DbSession, rc: Ctx) -> Any:
    role = await _role_or_404(request, code)
    names = {k: _text(data, k) for k in ("name_zh", "name_en")}
    try:
        errors = await svc.rename_role(db, role, names["name_zh"], names["name_en"])
    except svc.AdminError as exc:
        return await _role_page(request, role, alert=str(exc), status=400)
    if errors:
        return await _role_page(request, role, errors=errors, names=names, status=400)
    await db.commit()
    return Redirect(rc.url(f"/admin/roles/{role.code}?saved=renamed"), status_code=303)


@post("/admin/roles/{code:str}/delete", guards=[requires(ROLES)], status_code=200)
async def delete_role(request: Request, code: FromPath[str], db: DbSession, rc: Ctx) -> Any:
    assert rc.tenant is not None
    role = await _role_or_404(request, code)
    try:
        await svc.delete_role(db, rc.tenant.id, role)
    except svc.AdminError as exc:
        return await _role_page(request, role, alert=str(exc), status=400)
    await db.commit()
    _policy_changed(request)
    return Redirect(rc.url("/admin/roles?" + urlencode({"deleted": role.code})), status_code=303)


# ---- accounts -----------------------------------------------------------------------------------


async def _labels(request: Request, rows: list[RoleAssignment]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Role code → label, node path → names, for showing assignments."""
    c = ctx(request)
    assert c.db is not None
    roles = {r.code: r.label(c.locale) for r in (await c.db.execute(select(Role))).scalars()}
    return roles, await svc.path_names(c.db, {r.node_path for r in rows}, c.locale)


async def _by_user(request: Request, user_ids: list[int]) -> dict[int, list[RoleAssignment]]:
    c = ctx(request)
    assert c.db is not None
    out: dict[int, list[RoleAssignment]] = {}
    if user_ids:
        stmt = select(RoleAssignment).where(RoleAssignment.user_id.in_(user_ids)).order_by(RoleAssignment.node_path)
        for row in (await c.db.execute(stmt)).scalars():
            out.setdefault(row.user_id, []).append(row)
    return out


async def _users_page(
    request: Request,
    q: str,
    page: int,
    form: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    result = await paginate(c.db, svc.users_query(q), page)
    held = await _by_user(request, [u.id for u in result.items])
    roles, paths = await _labels(request, [a for rows in held.values() for a in rows])
    query = urlencode({"q": q} if q else {})
    context = {
        "page": result,
        "q": q,
        "held": held,
        "roles": roles,
        "paths": paths,
        "base": c.url("/admin/users") + "?" + (query + "&" if query else ""),
        "export_url": c.url("/admin/users/export") + ("?" + query if query else ""),
        "form": form or {"username": "", "display_name": ""},
        "errors": errors or {},
    }
    return await render(request, "core/rbac/users.html", context, status_code=status)


@get("/admin/users", guards=[requires(USERS)])
async def users_page(request: Request, q: FromQuery[str | None] = None, page: FromQuery[int] = 1) -> Any:
    return await _users_page(request, (q or "").strip(), page)


@get("/admin/users/export", guards=[requires(USERS)])
async def export_users(request: Request, db: DbSession, q: FromQuery[str | None] = None) -> Any:
    users = list((await db.execute(svc.users_query((q or "").strip()))).scalars())
    held = await _by_user(request, [u.id for u in users])
    roles, paths = await _labels(request, [a for rows in held.values() for a in rows])

    def assignments(user: User) -> str:
        return "; ".join(
            f"{roles.get(a.role_code, a.role_code)} @ {' / '.join(paths[a.node_path])}" for a in held.get(user.id, [])
        )

    rows = [
        (
            u.username,
            u.display_name,
            _("Active") if u.is_active else _("Deactivated"),
            assignments(u),
            u.created_at,
            u.last_login_at,
        )
        for u in users
    ]
    record(db, "user.export", "users", None, {"q": q or "", "rows": len(rows)})
    await db.commit()
    headers = [_("Username"), _("Display name"), _("Status"), _("Roles"), _("Created"), _("Last sign-in")]
    local = [(*r[:4], *(_local(v) for v in r[4:])) for r in rows]
    return excel_response(_("Accounts"), _("Accounts"), headers, local)


def _local(value: Any) -> Any:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo("Asia/Shanghai")) if value is not None else None


@post("/admin/users", guards=[requires(USERS)], status_code=200)
async def create_user(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    form = {k: _text(data, k) for k in ("username", "display_name")}
    password = str(data.get("password", ""))
    user, errors = await svc.create_user(db, form["username"], form["display_name"], password)
    if user is None:
        return await _users_page(request, "", 1, form, errors, 400)
    await db.commit()
    return Redirect(rc.url(f"/admin/users/{user.id}?saved=created"), status_code=303)


async def _user_or_404(request: Request, user_id: int) -> User:
    c = ctx(request)
    assert c.db is not None
    user = await svc.get_user(c.db, user_id)
    if user is None:
        raise NotFoundException()
    return user


USER_MESSAGES = {
    "created": "The account has been created. Give it a role at a node so it can work.",
    "activate": "The account is active again.",
    "deactivate": "The account has been deactivated: it is signed out on its next request.",
    "password": "The password has been reset. Tell the user the new password in person.",
    "assigned": "The assignment has been added; it applies from the user's next request.",
    "unassigned": "The assignment has been removed.",
}


async def _user_page(
    request: Request,
    user: User,
    *,
    q: str = "",
    alert: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Any:
    c = ctx(request)
    assert c.db is not None
    rows = await svc.assignments_of(c.db, user.id)
    roles, paths = await _labels(request, rows)
    nodes = await svc.search_nodes(c.db, q, c.scope_prefixes(ROLES)) if q else []
    saved = request.query_params.get("saved")
    context = {
        "u": user,
        "rows": rows,
        "roles": roles,
        "paths": paths,
        "all_roles": await svc.list_roles(c.db),
        "q": q,
        "nodes": nodes,
        "node_paths": await svc.path_names(c.db, {n.path for n in nodes}, c.locale),
        "message": _(USER_MESSAGES[saved]) if saved in USER_MESSAGES else None,
        "alert": alert,
        "errors": errors or {},
        "is_me": c.user is not None and c.user.id == user.id,
    }
    return await render(request, "core/rbac/user.html", context, status_code=status)


@get("/admin/users/{user_id:int}", guards=[requires(USERS)])
async def user_page(request: Request, user_id: FromPath[int], q: FromQuery[str | None] = None) -> Any:
    return await _user_page(request, await _user_or_404(request, user_id), q=(q or "").strip())


@get("/admin/users/{user_id:int}/nodes", guards=[requires(USERS)])
async def node_options(
    request: Request,
    user_id: FromPath[int],
    db: DbSession,
    rc: Ctx,
    q: FromQuery[str | None] = None,
    purpose: FromQuery[str] = "assign",
) -> Any:
    """The node picker's options (htmx): nodes the admin may assign at, or any node for the checker."""
    await _user_or_404(request, user_id)
    text = (q or "").strip()
    nodes = await svc.search_nodes(db, text, rc.scope_prefixes(ROLES if purpose == "assign" else USERS))
    context = {
        "nodes": nodes,
        "node_paths": await svc.path_names(db, {n.path for n in nodes}, rc.locale),
        "q": text,
        "selected": None,
        "anywhere": purpose == "check",
    }
    html = render_string(request, "core/rbac/_node_options.html", {"c": rc, "locale": rc.locale, **context})
    return Response(html, media_type="text/html")


@post("/admin/users/{user_id:int}/active", guards=[requires(USERS)], status_code=200)
async def set_active(request: Request, user_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    user = await _user_or_404(request, user_id)
    active = _text(data, "active") == "1"
    try:
        svc.set_active(db, user, active, rc.user)
    except svc.AdminError as exc:
        return await _user_page(request, user, alert=str(exc), status=400)
    await db.commit()
    return Redirect(rc.url(f"/admin/users/{user.id}?saved={'activate' if active else 'deactivate'}"), status_code=303)


@post("/admin/users/{user_id:int}/password", guards=[requires(USERS)], status_code=200)
async def reset_password(request: Request, user_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    user = await _user_or_404(request, user_id)
    errors = svc.reset_password(db, user, str(data.get("password", "")))
    if errors:
        return await _user_page(request, user, errors=errors, status=400)
    await db.commit()
    return Redirect(rc.url(f"/admin/users/{user.id}?saved=password"), status_code=303)


@post("/admin/users/{user_id:int}/assignments", guards=[requires(ROLES)], status_code=200)
async def add_assignment(request: Request, user_id: FromPath[int], data: Form, db: DbSession, rc: Ctx) -> Any:
    user = await _user_or_404(request, user_id)
    role = await svc.get_role(db, _text(data, "role"))
    node_id = _int(_text(data, "node"))
    node = await svc.get_node(db, node_id) if node_id is not None else None
    errors = {}
    if role is None:
        errors["role"] = _("Choose a role from the list.")
    if node is None:
        errors["node"] = _("Search for a node and choose one.")
    elif not rc.can(ROLES, node.path):
        errors["node"] = _("You may assign roles only within your own area.")
    if errors:
        return await _user_page(request, user, q=_text(data, "q"), errors=errors, status=400)
    assert role is not None and node is not None
    try:
        await svc.add_assignment(db, user, role, node)
    except svc.AdminError as exc:
        return await _user_page(request, user, alert=str(exc), status=400)
    await db.commit()
    return Redirect(rc.url(f"/admin/users/{user.id}?saved=assigned"), status_code=303)


@post("/admin/users/{user_id:int}/assignments/{assignment_id:int}/delete", guards=[requires(ROLES)], status_code=200)
async def remove_assignment(
    request: Request, user_id: FromPath[int], assignment_id: FromPath[int], db: DbSession, rc: Ctx
) -> Any:
    user = await _user_or_404(request, user_id)
    rows = await svc.assignments_of(db, user.id)
    row = next((r for r in rows if r.id == assignment_id), None)
    if row is None:
        raise NotFoundException()
    if rc.user is not None and rc.user.id == user.id:
        # Keep a lone admin from locking the district out of its own role management.
        rest = svc.as_assignments(r for r in rows if r.id != row.id)
        if not svc.explain(rest, _rules(request), ROLES, None).allowed:
            alert = _("You would lose the right to manage roles: ask another admin to remove this.")
            return await _user_page(request, user, alert=alert, status=400)
    await svc.remove_assignment(db, user, row)
    await db.commit()
    return Redirect(rc.url(f"/admin/users/{user.id}?saved=unassigned"), status_code=303)


# ---- what can they do where, and why ------------------------------------------------------------


@get("/admin/users/{user_id:int}/access", guards=[requires(USERS)])
async def access_page(
    request: Request,
    user_id: FromPath[int],
    db: DbSession,
    rc: Ctx,
    action: FromQuery[str | None] = None,
    node: FromQuery[str | None] = None,
    q: FromQuery[str | None] = None,
    search: FromQuery[str | None] = None,
) -> Any:
    user = await _user_or_404(request, user_id)
    rows = await svc.assignments_of(db, user.id)
    groups = _groups(request)
    known = svc.known_actions(groups)
    rules = _rules(request)
    roles, paths = await _labels(request, rows)
    titles = {name: svc.action_title(a, rc.locale) for name, a in known.items()}
    cards = [
        {"row": r, "actions": svc.actions_granted(rules, r.role_code, list(known)), "path": paths[r.node_path]}
        for r in rows
    ]
    chosen_action = (action or "").strip()
    node_id = _int(node) if node else None
    chosen_node = await svc.get_node(db, node_id) if node_id is not None else None
    text = (q or "").strip()
    nodes = await svc.search_nodes(db, text, rc.scope_prefixes(USERS)) if text else []
    if chosen_node is not None and chosen_node.id not in {n.id for n in nodes}:
        nodes.insert(0, chosen_node)
    node_paths = await svc.path_names(db, {n.path for n in nodes}, rc.locale)
    verdict = None
    error = None
    if chosen_action and not search:  # "Search" only looks for nodes; "Check" answers
        if chosen_action not in known:
            error = _("Choose an action from the list.")
        elif node_id is not None and chosen_node is None:
            error = _("Search for a node and choose one.")
        else:
            where = chosen_node.path if chosen_node is not None else None
            verdict = await _verdict(request, user, svc.explain(svc.as_assignments(rows), rules, chosen_action, where))
            if not user.is_active:
                # The enforcer never sees an inactive user: whatever the grants say, the answer is no.
                verdict = {
                    "allowed": False,
                    "reason": _("Denied: the account is deactivated."),
                    "details": [_("Once reactivated: %(reason)s", reason=verdict["reason"])],
                }
    context = {
        "u": user,
        "cards": cards,
        "roles": roles,
        "titles": titles,
        "groups": groups,
        "action": chosen_action,
        "node": chosen_node,
        "q": text,
        "nodes": nodes,
        "node_paths": node_paths,
        "verdict": verdict,
        "error": error,
    }
    return await render(request, "core/rbac/access.html", context, status_code=400 if error else 200)


async def _verdict(request: Request, user: User, e: svc.Explanation) -> dict[str, Any]:
    """The explanation as sentences a district admin reads."""
    c = ctx(request)
    assert c.db is not None
    roles = {r.code: r.label(c.locale) for r in (await c.db.execute(select(Role))).scalars()}
    paths = [e.node_path] if e.node_path else []
    paths += [a.path for a in ([e.assignment] if e.assignment else [])] + [a.path for a in e.elsewhere]
    names = await svc.path_names(c.db, paths, c.locale)
    known = svc.known_actions(_groups(request))
    act = f"{svc.action_title(known[e.action], c.locale)} ({e.action})" if e.action in known else e.action
    where = " / ".join(names[e.node_path]) if e.node_path else _("anywhere in the district")
    details: list[str] = []
    if e.allowed:
        assert e.assignment is not None and e.grant is not None
        grant = _("all actions") if e.grant == svc.ALL else e.grant
        reason = _(
            "Allowed: %(user)s holds %(role)s at %(node)s, which covers %(where)s, and %(role)s is granted %(grant)s.",
            user=user.display_name,
            role=roles.get(e.assignment.role, e.assignment.role),
            node=" / ".join(names[e.assignment.path]),
            where=where,
            grant=grant,
        )
    else:
        reason = _("Denied: no assignment covering %(where)s grants %(action)s.", where=where, action=act)
        for a in e.elsewhere:
            details.append(
                _(
                    "%(role)s at %(node)s grants it, but that does not cover %(where)s.",
                    role=roles.get(a.role, a.role),
                    node=" / ".join(names[a.path]),
                    where=where,
                )
            )
        if not e.elsewhere:
            granting = [roles.get(r, r) for r in e.roles_granting]
            if granting:
                details.append(_("Roles granted this action: %(roles)s.", roles=", ".join(granting)))
            else:
                details.append(_("No role is granted this action."))
    return {"allowed": e.allowed, "reason": reason, "details": details}


handlers = [
    roles_page,
    create_role,
    role_page,
    save_grants,
    rename_role,
    delete_role,
    users_page,
    export_users,
    create_user,
    user_page,
    node_options,
    set_active,
    reset_password,
    add_assignment,
    remove_assignment,
    access_page,
]
