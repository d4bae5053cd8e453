"""The territory tree's rules: node kinds, adding, editing, moving and deleting nodes, boundaries,
and the read models of a node page (ancestors, staff, counts).

Rules (the kinds page explains them to admins too):
- A kind's ``level`` is how deep it sits (0 = the district). A child's kind must sit below its
  parent: ``level ≥ max(parent's depth, parent kind's level) + 1``. Levels may be skipped (a
  village may hold households directly, a small estate may have no units), never reversed, so a
  node never sits deeper than its kind's level and a unit never hangs under a household.
- Node codes: a–z, 0–9 and "-", unique in the district, at most 64 characters. A kind's code is
  fixed once created (nodes refer to it); its names and level may change.
- Moving a subtree rewrites ``path``/``depth`` of every node in it and ``node_path`` of every row
  that copies it, set-based, in the caller's transaction (the caller commits once).

Functions work on the request's tenant-bound session: the ORM adds the tenant filter to every
SELECT and UPDATE here. Failures raise ``TreeError`` holding English source sentences by form
field; ``Problem.text()`` translates them when shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import String, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.db.base import Base, is_tenant_scoped, new_id
from core.grids.basedata import Household, Organisation, Residence, Resident
from core.grids.models import GridNode, NodeKind
from core.i18n import current_locale, gettext, lazy
from core.identity.models import User
from core.rbac.models import Role, RoleAssignment
from core.rbac.scope import in_scope
from core.rbac.subjects import expire_subjects

CODE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
CODE_MAX = 64
NAME_MAX = 100
KIND_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
KIND_CODE_MAX = 32
KIND_NAME_MAX = 50
LEVEL_MAX = 20
# Rows that copy a node's path for scope filters: a move rewrites each of them. Core's own …
CORE_DENORMALISED = (RoleAssignment, Household, Resident, Organisation)
# Roles that are not staff: residents are not listed on a node page.
NOT_STAFF = frozenset({"resident"})


@dataclass(frozen=True)
class Problem:
    message: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        return gettext(self.message, **self.params)


class TreeError(ValueError):
    """What is wrong, by form field ("" for the form as a whole)."""

    def __init__(self, problems: dict[str, Problem]) -> None:
        super().__init__("; ".join(p.message % p.params if p.params else p.message for p in problems.values()))
        self.problems = problems

    @classmethod
    def one(cls, field_name: str, message: str, **params: Any) -> TreeError:
        return cls({field_name: Problem(message, params)})

    def texts(self) -> dict[str, str]:
        return {k: p.text() for k, p in self.problems.items()}


# ---- kinds --------------------------------------------------------------------------------------


async def all_kinds(session: AsyncSession) -> list[NodeKind]:
    return list((await session.execute(select(NodeKind).order_by(NodeKind.level, NodeKind.code))).scalars())


async def kinds_by_code(session: AsyncSession) -> dict[str, NodeKind]:
    return {k.code: k for k in await all_kinds(session)}


def kind_label(kinds: dict[str, NodeKind], code: str, locale: str) -> str:
    k = kinds.get(code)
    if k is None:
        return code
    return k.name_en if locale.startswith("en") and k.name_en else k.name_zh


def denormalised_models() -> list[Any]:
    """… and every other tenant table with a ``node_path`` column, plugins' included (found in the
    mapped models, so core needs no import of a plugin): the convention for a table that copies a
    node's path is to call the column ``node_path``."""
    found = {m.class_ for m in Base.registry.mappers if is_tenant_scoped(m.class_) and "node_path" in m.columns}
    return [*CORE_DENORMALISED, *sorted(found - set(CORE_DENORMALISED), key=lambda cls: cls.__tablename__)]


def _name(k: NodeKind) -> str:
    return k.name_en if current_locale() == "en" and k.name_en else k.name_zh


def min_child_level(parent: GridNode, kinds: dict[str, NodeKind]) -> int:
    own = kinds.get(parent.kind)
    return max(parent.depth, own.level if own else parent.depth) + 1


def child_kinds(parent: GridNode, kinds: dict[str, NodeKind]) -> list[NodeKind]:
    lowest = min_child_level(parent, kinds)
    return [k for k in kinds.values() if k.level >= lowest]


async def kind_usage(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(GridNode.kind, func.count()).group_by(GridNode.kind))
    return {kind: int(n) for kind, n in rows}


def _check_kind_fields(name_zh: str, name_en: str, level: str) -> tuple[int, dict[str, Problem]]:
    problems: dict[str, Problem] = {}
    if not name_zh:
        problems["name_zh"] = Problem(lazy("The Chinese name is required."))
    elif len(name_zh) > KIND_NAME_MAX:
        problems["name_zh"] = Problem(lazy("At most %(hi)s characters."), {"hi": KIND_NAME_MAX})
    if len(name_en) > KIND_NAME_MAX:
        problems["name_en"] = Problem(lazy("At most %(hi)s characters."), {"hi": KIND_NAME_MAX})
    value = int(level) if re.fullmatch(r"-?\d{1,3}", level) else -1
    if not 0 <= value <= LEVEL_MAX:
        problems["level"] = Problem(lazy("The level is a whole number from 0 to %(hi)s."), {"hi": LEVEL_MAX})
    return value, problems


async def create_kind(session: AsyncSession, code: str, name_zh: str, name_en: str, level: str) -> NodeKind:
    value, problems = _check_kind_fields(name_zh, name_en, level)
    if not code:
        problems["code"] = Problem(lazy("The code is required."))
    elif len(code) > KIND_CODE_MAX or not KIND_CODE.match(code):
        problems["code"] = Problem(
            lazy("Use a–z, 0–9 and _ (starting with a letter), at most %(hi)s characters."), {"hi": KIND_CODE_MAX}
        )
    elif (await session.execute(select(NodeKind.id).where(NodeKind.code == code))).first():
        problems["code"] = Problem(lazy("A kind with this code exists already."))
    if problems:
        raise TreeError(problems)
    kind = NodeKind(code=code, name_zh=name_zh, name_en=name_en, level=value)
    session.add(kind)
    await session.flush()
    return kind


async def update_kind(session: AsyncSession, kind: NodeKind, name_zh: str, name_en: str, level: str) -> None:
    value, problems = _check_kind_fields(name_zh, name_en, level)
    if not problems and value != kind.level:
        deepest = await session.scalar(select(func.max(GridNode.depth)).where(GridNode.kind == kind.code))
        if deepest is not None and value < deepest:
            problems["level"] = Problem(
                lazy("Nodes of this kind sit at depth %(depth)s: the level cannot be less than that."),
                {"depth": deepest},
            )
    if problems:
        raise TreeError(problems)
    kind.name_zh, kind.name_en, kind.level = name_zh, name_en, value
    await session.flush()


async def delete_kind(session: AsyncSession, kind: NodeKind) -> None:
    used = int(await session.scalar(select(func.count()).where(GridNode.kind == kind.code)) or 0)
    if used:
        raise TreeError.one("", lazy("%(n)s nodes are of this kind, so it cannot be deleted."), n=used)
    await session.delete(kind)
    await session.flush()


# ---- nodes --------------------------------------------------------------------------------------


def _check_node_fields(code: str, name: str, name_en: str) -> dict[str, Problem]:
    problems: dict[str, Problem] = {}
    if not code:
        problems["code"] = Problem(lazy("The code is required."))
    elif len(code) > CODE_MAX or not CODE.match(code):
        problems["code"] = Problem(
            lazy("Use a–z, 0–9 and - (not starting with -), at most %(hi)s characters."), {"hi": CODE_MAX}
        )
    if not name:
        problems["name"] = Problem(lazy("The name is required."))
    elif len(name) > NAME_MAX:
        problems["name"] = Problem(lazy("At most %(hi)s characters."), {"hi": NAME_MAX})
    if len(name_en) > NAME_MAX:
        problems["name_en"] = Problem(lazy("At most %(hi)s characters."), {"hi": NAME_MAX})
    return problems


async def _code_taken(session: AsyncSession, code: str, other_than: int | None = None) -> bool:
    stmt = select(GridNode.id).where(GridNode.code == code)
    if other_than is not None:
        stmt = stmt.where(GridNode.id != other_than)
    return (await session.execute(stmt)).first() is not None


def _kind_problem(kind: str, lowest: int, highest: int | None, kinds: dict[str, NodeKind]) -> Problem | None:
    k = kinds.get(kind)
    if k is None:
        return Problem(lazy("Choose a kind from the list."))
    if k.level < lowest or (highest is not None and k.level > highest):
        return Problem(
            lazy("A %(kind)s (level %(level)s) cannot sit here: choose a kind of level %(lo)s or deeper."),
            {"kind": _name(k), "level": k.level, "lo": lowest},
        )
    return None


async def create_node(
    session: AsyncSession, parent: GridNode, *, code: str, kind: str, name: str, name_en: str = ""
) -> GridNode:
    kinds = await kinds_by_code(session)
    return await _create(session, parent, code, kind, name, name_en, min_child_level(parent, kinds), kinds)


async def create_root(session: AsyncSession, *, code: str, kind: str, name: str, name_en: str = "") -> GridNode:
    """A new top-level node (a district's root): the same rules as ``create_node``, any kind."""
    return await _create(session, None, code, kind, name, name_en, 0, await kinds_by_code(session))


async def _create(
    session: AsyncSession,
    parent: GridNode | None,
    code: str,
    kind: str,
    name: str,
    name_en: str,
    lowest: int,
    kinds: dict[str, NodeKind],
) -> GridNode:
    problems = _check_node_fields(code, name, name_en)
    if "code" not in problems and await _code_taken(session, code):
        problems["code"] = Problem(lazy("Another node has the code %(code)s already."), {"code": code})
    bad_kind = _kind_problem(kind, lowest, None, kinds)
    if bad_kind:
        problems["kind"] = bad_kind
    if problems:
        raise TreeError(problems)
    node = GridNode(
        code=code,
        kind=kind,
        name=name,
        name_en=name_en,
        parent_id=parent.id if parent is not None else None,
        depth=parent.depth + 1 if parent is not None else 0,
    )
    node.id = new_id()  # the path contains the id, so it is needed before the insert
    node.path = f"{parent.path if parent is not None else '/'}{node.id}/"
    session.add(node)
    await session.flush()
    return node


async def update_node(
    session: AsyncSession, node: GridNode, *, code: str, kind: str, name: str, name_en: str = ""
) -> None:
    kinds = await kinds_by_code(session)
    problems = _check_node_fields(code, name, name_en)
    if "code" not in problems and code != node.code and await _code_taken(session, code, node.id):
        problems["code"] = Problem(lazy("Another node has the code %(code)s already."), {"code": code})
    if kind != node.kind:
        parent = await session.get(GridNode, (node.tenant_id, node.parent_id)) if node.parent_id else None
        lowest = min_child_level(parent, kinds) if parent is not None else node.depth
        # …and above every child, so the tree keeps its order.
        child_levels = [
            kinds[k].level
            for k in (await session.execute(select(GridNode.kind).where(GridNode.parent_id == node.id))).scalars()
            if k in kinds
        ]
        bad_kind = _kind_problem(kind, lowest, min(child_levels) - 1 if child_levels else None, kinds)
        if bad_kind:
            problems["kind"] = bad_kind
    if problems:
        raise TreeError(problems)
    node.code, node.kind, node.name, node.name_en = code, kind, name, name_en
    await session.flush()


async def delete_blockers(session: AsyncSession, node: GridNode) -> list[Problem]:
    """Why ``node`` cannot be deleted (empty: it can)."""
    out: list[Problem] = []
    if node.parent_id is None:
        out.append(Problem(lazy("It is the top of the tree.")))

    async def count(model: Any, column: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(model).where(column == node.id)) or 0)

    checks = (
        (GridNode, GridNode.parent_id, lazy("It has %(n)s sub-areas: move or delete them first.")),
        (Resident, Resident.node_id, lazy("%(n)s residents live here.")),
        (Residence, Residence.node_id, lazy("%(n)s residence records (人房关系) point here.")),
        (Household, Household.node_id, lazy("It has household data (floor area, owners).")),
        (Organisation, Organisation.node_id, lazy("%(n)s organisations belong here.")),
        (RoleAssignment, RoleAssignment.node_id, lazy("%(n)s staff role assignments are made here.")),
    )
    for model, column, message in checks:
        n = await count(model, column)
        if n:
            out.append(Problem(message, {"n": n}))
    return out


async def delete_node(session: AsyncSession, node: GridNode) -> None:
    """Delete a leaf that nothing refers to. Plugins' rows pointing here make the flush fail
    (their foreign keys): the caller turns that IntegrityError into a message."""
    blockers = await delete_blockers(session, node)
    if blockers:
        raise TreeError({f"blocker{i}": p for i, p in enumerate(blockers)})
    await session.delete(node)
    await session.flush()


async def move_subtree(session: AsyncSession, node: GridNode, new_parent: GridNode) -> dict[str, int]:
    """Hang ``node`` (and everything under it) under ``new_parent``; returns rows rewritten by table."""
    # Lock both rows and read their current paths (PostgreSQL; SQLite serialises writers anyway),
    # so two moves at once cannot build on a stale path.
    await session.execute(
        select(GridNode)
        .where(GridNode.id.in_([node.id, new_parent.id]))
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if node.parent_id is None:
        raise TreeError.one("parent", lazy("The top of the tree cannot be moved."))
    if new_parent.path.startswith(node.path):
        raise TreeError.one("parent", lazy("A node cannot move under itself or one of its own sub-areas."))
    if new_parent.id == node.parent_id:
        raise TreeError.one("parent", lazy("It is there already."))
    kinds = await kinds_by_code(session)
    shift = new_parent.depth + 1 - node.depth
    bad_kind = _kind_problem(node.kind, min_child_level(new_parent, kinds), None, kinds)
    if bad_kind and node.kind in kinds:
        raise TreeError({"parent": bad_kind})
    if shift > 0:  # deeper: every kind in the subtree must still fit its level
        deepest = await session.execute(
            select(GridNode.kind, func.max(GridNode.depth))
            .where(GridNode.path.startswith(node.path, autoescape=True))
            .group_by(GridNode.kind)
        )
        for kind, depth in deepest:
            k = kinds.get(kind)
            if k is not None and depth + shift > k.level:
                raise TreeError.one(
                    "parent",
                    lazy("Too deep: its %(kind)s nodes would sit at depth %(depth)s, below their level %(level)s."),
                    kind=_name(k),
                    depth=depth + shift,
                    level=k.level,
                )

    old, new = node.path, f"{new_parent.path}{node.id}/"
    cut = len(old) + 1  # substr is 1-based: keep what follows the old prefix

    def rewritten(column: Any) -> Any:
        return literal(new, String) + func.substr(column, cut, type_=String)

    counts: dict[str, int] = {}
    result = await session.execute(
        update(GridNode)
        .where(GridNode.path.startswith(old, autoescape=True))
        .values(path=rewritten(GridNode.path), depth=GridNode.depth + shift)
        .execution_options(synchronize_session=False)
    )
    counts[GridNode.__tablename__] = result.rowcount or 0
    await session.execute(
        update(GridNode)
        .where(GridNode.id == node.id)
        .values(parent_id=new_parent.id)
        .execution_options(synchronize_session=False)
    )
    for model in denormalised_models():
        result = await session.execute(
            update(model)
            .where(model.node_path.startswith(old, autoescape=True))
            .values(node_path=rewritten(model.node_path))
            .execution_options(synchronize_session=False)
        )
        counts[model.__tablename__] = result.rowcount or 0
    # Bulk UPDATEs bypass the flush watch too: paths (and any assignments under them) moved, so
    # what is cached of the tenant (subjects, located areas) expires.
    await expire_subjects(session, node.tenant_id)
    # Bulk UPDATEs bypass the flush-time audit: one named entry says what happened.
    record(session, "grid.move", "grid_nodes", node.id, {"from": old, "to": new, "rows": counts})
    await session.refresh(node)
    return counts


async def set_boundary(session: AsyncSession, node: GridNode, geometry: dict[str, Any] | None) -> None:
    node.boundary = geometry
    await session.flush()


# ---- read models of a node page -----------------------------------------------------------------


def ancestor_ids(node: GridNode) -> list[int]:
    return [int(x) for x in node.path.strip("/").split("/") if x]


async def ancestors(session: AsyncSession, node: GridNode) -> list[GridNode]:
    """From the root down to the parent of ``node``."""
    ids = ancestor_ids(node)[:-1]
    if not ids:
        return []
    rows = (await session.execute(select(GridNode).where(GridNode.id.in_(ids)))).scalars()
    return sorted(rows, key=lambda n: n.depth)


async def child_counts(session: AsyncSession, parent_ids: list[int]) -> dict[int, int]:
    """How many direct children each of ``parent_ids`` has (one GROUP BY)."""
    if not parent_ids:
        return {}
    rows = await session.execute(
        select(GridNode.parent_id, func.count()).where(GridNode.parent_id.in_(parent_ids)).group_by(GridNode.parent_id)
    )
    return {int(pid): int(n) for pid, n in rows}


async def subnode_counts(session: AsyncSession, node: GridNode) -> dict[str, int]:
    """Nodes under ``node`` (not itself) by kind."""
    rows = await session.execute(
        select(GridNode.kind, func.count())
        .where(GridNode.path.startswith(node.path, autoescape=True), GridNode.id != node.id)
        .group_by(GridNode.kind)
    )
    return {kind: int(n) for kind, n in rows}


async def grouped_count(session: AsyncSession, column: Any, path_column: Any, path: str) -> dict[str, int]:
    """Rows under ``path`` grouped by ``column`` (one GROUP BY)."""
    rows = await session.execute(select(column, func.count()).where(in_scope(path_column, [path])).group_by(column))
    return {str(key): int(n) for key, n in rows}


async def staff(session: AsyncSession, node: GridNode) -> list[dict[str, Any]]:
    """Who covers ``node``: active users with a role at it or above it, nearest first."""
    rows = await session.execute(
        select(
            User.display_name,
            RoleAssignment.role_code,
            Role.name_zh,
            Role.name_en,
            GridNode.id,
            GridNode.name,
            GridNode.name_en,
            GridNode.depth,
        )
        .join(User, User.id == RoleAssignment.user_id)
        .join(GridNode, GridNode.id == RoleAssignment.node_id)
        .outerjoin(Role, Role.code == RoleAssignment.role_code)
        .where(
            RoleAssignment.node_id.in_(ancestor_ids(node)),
            RoleAssignment.role_code.not_in(NOT_STAFF),
            User.is_active.is_(True),
        )
        .order_by(GridNode.depth.desc(), RoleAssignment.role_code, User.display_name)
        .limit(500)
    )
    return [
        {
            "name": r[0],
            "role_code": r[1],
            "role_zh": r[2] or r[1],
            "role_en": r[3] or r[2] or r[1],
            "node_id": r[4],
            "node_name": r[5],
            "node_name_en": r[6],
            "here": r[4] == node.id,
        }
        for r in rows
    ]
