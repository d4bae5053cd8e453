"""District admin services for roles, grants, accounts and assignments, and the "why" of a decision.

Routes (core/rbac/routes.py) parse forms and render; everything that reads or writes roles, grants,
users and assignments is here, in the request's tenant-bound session (the caller commits).
``explain`` is pure: it answers exactly what ``TenantPolicy.allows`` answers, and says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from casbin.util import key_match
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.grids.models import GridNode
from core.i18n import current_locale
from core.i18n import gettext as _
from core.identity.models import User
from core.identity.passwords import MIN_LENGTH, hash_password
from core.identity.sessions import end_sessions
from core.pluginhost.manifest import Action
from core.rbac.defaults import CORE_ACTIONS
from core.rbac.enforcer import Assignment
from core.rbac.models import Role, RoleAssignment, RolePermission
from core.rbac.scope import in_scope
from core.tenancy.service import bump_policy

ROLE_CODE = re.compile(r"^[a-z0-9_]{1,64}$")
USERNAME = re.compile(r"^[a-z0-9_.-]{1,64}$")
ALL = "*"
SUPER_ROLE = "district_admin"  # holds "*"; its grants are not edited in the UI
NAME_MAX = 100
NODE_SEARCH_LIMIT = 20


class AdminError(ValueError):
    """A user-facing reason (already translated) why an admin change was refused."""


# ---- the actions core and plugins register ------------------------------------------------------


@dataclass
class ActionGroup:
    key: str  # "core" or the plugin's name
    title: str
    pillar: str
    enabled: bool  # the plugin is on in this district (core always is)
    actions: list[Action] = field(default_factory=list)


def action_title(action: Action, locale: str) -> str:
    return action.title_en if locale.startswith("en") and action.title_en else action.title_zh


def action_groups(host: Any, locale: str, enabled: Iterable[str]) -> list[ActionGroup]:
    """Core's actions first, then each installed plugin's, in the host's order."""
    on = set(enabled)
    groups = [ActionGroup("core", _("Core"), "", True, list(CORE_ACTIONS))]
    for name in host.names:
        manifest = host.manifests.get(name)
        if manifest is None or not manifest.actions:
            continue
        groups.append(ActionGroup(name, manifest.title(locale), manifest.pillar, name in on, list(manifest.actions)))
    return groups


def known_actions(groups: Sequence[ActionGroup]) -> dict[str, Action]:
    return {a.name: a for g in groups for a in g.actions}


# ---- roles --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRow:
    role: Role
    holders: int  # assignments of this role
    grants: int  # rules of this role ("*" counts as one)
    everything: bool


async def list_roles(session: AsyncSession) -> list[RoleRow]:
    roles = (await session.execute(select(Role).order_by(Role.builtin.desc(), Role.code))).scalars().all()
    holders = dict(
        (await session.execute(select(RoleAssignment.role_code, func.count()).group_by(RoleAssignment.role_code))).all()
    )
    rules: dict[str, set[str]] = {}
    for code, action in await session.execute(select(RolePermission.role_code, RolePermission.action)):
        rules.setdefault(code, set()).add(action)
    return [
        RoleRow(r, int(holders.get(r.code, 0)), len(rules.get(r.code, ())), ALL in rules.get(r.code, ())) for r in roles
    ]


async def get_role(session: AsyncSession, code: str) -> Role | None:
    return (await session.execute(select(Role).where(Role.code == code))).scalar_one_or_none()


def check_role_names(name_zh: str, name_en: str) -> dict[str, str]:
    errors = {}
    if not name_zh:
        errors["name_zh"] = _("The Chinese name is required.")
    elif len(name_zh) > NAME_MAX:
        errors["name_zh"] = _("At most %(hi)s characters.", hi=NAME_MAX)
    if len(name_en) > NAME_MAX:
        errors["name_en"] = _("At most %(hi)s characters.", hi=NAME_MAX)
    return errors


async def create_role(
    session: AsyncSession, code: str, name_zh: str, name_en: str
) -> tuple[Role | None, dict[str, str]]:
    """A tenant-specific role with no grants yet; returns (role, {}) or (None, errors by field)."""
    errors = check_role_names(name_zh, name_en)
    if not ROLE_CODE.match(code):
        errors["code"] = _("Use 1–64 lower-case letters, digits and _.")
    elif await get_role(session, code) is not None:
        errors["code"] = _("A role with the code %(code)s exists already.", code=code)
    if errors:
        return None, errors
    role = Role(code=code, name_zh=name_zh, name_en=name_en, builtin=False)
    session.add(role)
    await session.flush()
    record(session, "role.create", "roles", code, {"name_zh": name_zh, "name_en": name_en})
    return role, {}


async def rename_role(session: AsyncSession, role: Role, name_zh: str, name_en: str) -> dict[str, str]:
    if role.builtin:
        raise AdminError(_("Built-in roles keep their names."))
    errors = check_role_names(name_zh, name_en)
    if not errors:
        role.name_zh, role.name_en = name_zh, name_en
    return errors


async def holders_of(session: AsyncSession, code: str) -> int:
    stmt = select(func.count()).select_from(RoleAssignment).where(RoleAssignment.role_code == code)
    return int(await session.scalar(stmt) or 0)


async def delete_role(session: AsyncSession, tenant_id: int, role: Role) -> None:
    if role.builtin:
        raise AdminError(_("Built-in roles cannot be deleted."))
    n = await holders_of(session, role.code)
    if n:
        raise AdminError(
            _(
                "%(role)s is still assigned %(n)s times: remove those assignments first.",
                role=role.label(current_locale()),
                n=n,
            )
        )
    for row in (await session.execute(select(RolePermission).where(RolePermission.role_code == role.code))).scalars():
        await session.delete(row)
    await session.delete(role)
    record(session, "role.delete", "roles", role.code, {"name_zh": role.name_zh})
    await bump_policy(session, tenant_id)


async def role_grants(session: AsyncSession, code: str) -> set[str]:
    stmt = select(RolePermission.action).where(RolePermission.role_code == code)
    return set((await session.execute(stmt)).scalars())


async def set_grants(
    session: AsyncSession, tenant_id: int, role: Role, wanted: Iterable[str], known: Iterable[str]
) -> tuple[list[str], list[str]]:
    """Make the role's grants among ``known`` actions equal ``wanted``; other rules are left alone.

    Writes only the difference, bumps the policy version in the same transaction (every process
    reloads within the tenant cache's TTL) and records one "role.grants" entry. Returns (added, removed).
    """
    if role.code == SUPER_ROLE:
        raise AdminError(_("The district admin role holds all actions; its grants cannot be edited."))
    known_set = set(known)
    want = set(wanted) & known_set
    have = await role_grants(session, role.code)
    added = sorted(want - have)
    removed = sorted((have & known_set) - want)
    if not added and not removed:
        return [], []
    for action in added:
        session.add(RolePermission(role_code=role.code, action=action))
    if removed:
        stmt = select(RolePermission).where(RolePermission.role_code == role.code, RolePermission.action.in_(removed))
        for row in (await session.execute(stmt)).scalars():
            await session.delete(row)
    await bump_policy(session, tenant_id)
    record(session, "role.grants", "roles", role.code, {"added": added, "removed": removed})
    return added, removed


# ---- accounts -----------------------------------------------------------------------------------


def check_new_user(username: str, display_name: str, password: str) -> dict[str, str]:
    errors = {}
    if not USERNAME.match(username):
        errors["username"] = _("Use 1–64 lower-case letters, digits and . _ -")
    if not display_name:
        errors["display_name"] = _("The display name is required.")
    elif len(display_name) > NAME_MAX:
        errors["display_name"] = _("At most %(hi)s characters.", hi=NAME_MAX)
    errors.update(check_password(password))
    return errors


def check_password(password: str) -> dict[str, str]:
    if len(password) < MIN_LENGTH:
        return {"password": _("The password must have at least %(n)s characters.", n=MIN_LENGTH)}
    return {}


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    # The session is bound to the tenant: another district's user id is simply not found.
    return (await session.execute(select(User).where(User.id == user_id))).scalar_one_or_none()


def users_query(q: str = "") -> Any:
    stmt = select(User).order_by(User.username)
    if q:
        stmt = stmt.where(
            or_(User.username.icontains(q, autoescape=True), User.display_name.icontains(q, autoescape=True))
        )
    return stmt


async def create_user(
    session: AsyncSession, username: str, display_name: str, password: str
) -> tuple[User | None, dict[str, str]]:
    errors = check_new_user(username, display_name, password)
    if not errors.get("username"):
        taken = (await session.execute(select(User.id).where(User.username == username))).first()
        if taken:
            errors["username"] = _("The username %(name)s is taken.", name=username)
    if errors:
        return None, errors
    user = User(username=username, display_name=display_name, password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    record(session, "user.create", "users", user.id, {"username": username})
    return user, {}


def set_active(session: AsyncSession, user: User, active: bool, me: User | None) -> bool:
    """Deactivate or reactivate; the session middleware refuses an inactive user on the next request."""
    if not active and me is not None and me.id == user.id:
        raise AdminError(_("You cannot deactivate your own account."))
    if user.is_active == active:
        return False
    user.is_active = active
    if not active:
        end_sessions(user)  # reactivating later must not revive old sessions
    record(session, "user.activate" if active else "user.deactivate", "users", user.id, {"username": user.username})
    return True


def reset_password(session: AsyncSession, user: User, password: str) -> dict[str, str]:
    errors = check_password(password)
    if not errors:
        user.password_hash = hash_password(password)
        end_sessions(user)
        record(session, "user.password_reset", "users", user.id, {"username": user.username})
    return errors


# ---- nodes and assignments ----------------------------------------------------------------------


def path_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p.isdigit()]


async def path_names(session: AsyncSession, paths: Iterable[str], locale: str) -> dict[str, list[str]]:
    """Each materialised path → the names of its nodes from the root down (one query for all)."""
    paths = list(paths)
    ids = {i for p in paths for i in path_ids(p)}
    names: dict[int, str] = {}
    if ids:
        stmt = select(GridNode).where(GridNode.id.in_(ids))
        names = {n.id: n.label(locale) for n in (await session.execute(stmt)).scalars()}
    return {p: [names.get(i, f"#{i}") for i in path_ids(p)] for p in paths}


async def search_nodes(session: AsyncSession, q: str, prefixes: list[str], limit: int = NODE_SEARCH_LIMIT) -> list[Any]:
    """Nodes whose name, English name or code contains ``q``, within ``prefixes``, shallowest first."""
    stmt = select(GridNode).where(in_scope(GridNode.path, prefixes))
    if q:
        stmt = stmt.where(
            or_(
                GridNode.name.icontains(q, autoescape=True),
                GridNode.name_en.icontains(q, autoescape=True),
                GridNode.code.icontains(q, autoescape=True),
            )
        )
    stmt = stmt.order_by(GridNode.depth, GridNode.code).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def get_node(session: AsyncSession, node_id: int) -> GridNode | None:
    return (await session.execute(select(GridNode).where(GridNode.id == node_id))).scalar_one_or_none()


async def assignments_of(session: AsyncSession, user_id: int) -> list[RoleAssignment]:
    stmt = select(RoleAssignment).where(RoleAssignment.user_id == user_id).order_by(RoleAssignment.node_path)
    return list((await session.execute(stmt)).scalars())


async def add_assignment(session: AsyncSession, user: User, role: Role, node: GridNode) -> RoleAssignment:
    exists = (
        await session.execute(
            select(RoleAssignment.id).where(
                RoleAssignment.user_id == user.id,
                RoleAssignment.role_code == role.code,
                RoleAssignment.node_id == node.id,
            )
        )
    ).first()
    if exists:
        raise AdminError(_("%(user)s already holds this role at this node.", user=user.display_name))
    row = RoleAssignment(user_id=user.id, role_code=role.code, node_id=node.id, node_path=node.path)
    session.add(row)
    await session.flush()
    record(
        session,
        "role.assign",
        "users",
        user.id,
        {"username": user.username, "role": role.code, "node": node.code},
    )
    return row


async def remove_assignment(session: AsyncSession, user: User, row: RoleAssignment) -> None:
    await session.delete(row)
    end_sessions(user)  # a revoked role ends the sessions that were opened with it
    record(
        session,
        "role.unassign",
        "users",
        user.id,
        {"username": user.username, "role": row.role_code, "node_id": row.node_id},
    )


def as_assignments(rows: Iterable[RoleAssignment]) -> tuple[Assignment, ...]:
    return tuple(Assignment(r.role_code, r.node_path, r.node_id) for r in rows)


# ---- what can they do where, and why ------------------------------------------------------------


def grants_of(rules: Iterable[tuple[str, str]], role: str) -> set[str]:
    return {pattern for r, pattern in rules if r == role}


def actions_granted(rules: Iterable[tuple[str, str]], role: str, actions: Iterable[str]) -> list[str] | None:
    """The known actions ``role`` is granted, in the given order; None means every action ("*")."""
    patterns = grants_of(rules, role)
    if ALL in patterns:
        return None
    return [a for a in actions if any(key_match(a, p) for p in patterns)]


@dataclass(frozen=True)
class Explanation:
    allowed: bool
    action: str
    node_path: str | None  # None: "anywhere in the district" (menus, landing pages)
    assignment: Assignment | None = None  # the assignment that allows it …
    grant: str | None = None  # … and its role's rule that matches the action
    roles_granting: tuple[str, ...] = ()  # every role whose rules match the action
    elsewhere: tuple[Assignment, ...] = ()  # the user's assignments that grant it but miss the node


def explain(
    assignments: Iterable[Assignment], rules: Iterable[tuple[str, str]], action: str, node_path: str | None
) -> Explanation:
    """Allowed iff some assignment covers ``node_path`` (prefix) with a role granted ``action``.

    Same semantics as the enforcer's matcher: ``scopedRole(sub, role, path) && keyMatch(act, rule)``.
    """
    path = node_path or None
    matching: dict[str, list[str]] = {}
    for role, pattern in set(rules):
        if key_match(action, pattern):
            matching.setdefault(role, []).append(pattern)
    granting = [a for a in assignments if a.role in matching]
    covering = [a for a in granting if path is None or path.startswith(a.path)]
    roles = tuple(sorted(matching))
    if covering:
        # The widest covering assignment reads simplest; an exact grant before a wildcard.
        best = min(covering, key=lambda a: (len(a.path), a.role, a.path))
        grant = min(matching[best.role], key=lambda p: (p != action, p))
        return Explanation(True, action, path, best, grant, roles)
    return Explanation(False, action, path, None, None, roles, tuple(sorted(set(granting), key=lambda a: a.path)))
