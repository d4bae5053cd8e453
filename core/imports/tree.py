"""Importing the territory tree: rows of code / parent code / kind / name [/ English name].

Rules (the same for the preview and the job):
- Rows may come in any order: a child placed above its parent is imported after it (a
  topological pass over the file; see ``order_rows``). The parent may also exist already.
- A code is the node's identity. A code already in the district with the same values is
  "unchanged"; with another name or English name it is "updated". A different parent or kind is
  refused: moving a subtree rewrites paths below it, which is the tree editor's "move".
- Codes, names and kind levels follow the tree editor (``core.grids.tree``): a child's kind sits
  below its parent's. A code repeated in the file is refused on the later row.
- New nodes go only under nodes inside the importer's area for ``core.grid.import``; a node
  without a parent (a new top-level tree) only for an importer whose area covers every top level.
- Paths follow ``core.tenancy.service._apply_tree``: ``parent.path + "<id>/"``, depth + 1. A new
  node of the household kind gets its ``Household`` row (area and owners are added later).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.grids import tree as rules
from core.grids.basedata import Household
from core.grids.models import GridNode, NodeKind
from core.i18n import gettext as _
from core.imports.outcome import CREATED, ERROR, UNCHANGED, UPDATED, Area, Outcome, Row
from core.imports.readers import Column, Layout

HOUSEHOLD_KIND = "household"

LAYOUT = Layout(
    (
        Column("code", "编码", ("代码", "节点编码", "网格编码", "code", "node code"), required=True),
        Column("parent", "上级编码", ("上级", "上级代码", "父节点", "父编码", "parent", "parent code"), required=True),
        Column("kind", "类型", ("节点类型", "kind", "type"), required=True),
        Column("name", "名称", ("节点名称", "name"), required=True),
        Column("name_en", "英文名", ("英文名称", "english name", "name en")),
    )
)


@dataclass
class NodeInfo:
    id: int
    path: str
    depth: int
    kind: str
    name: str
    name_en: str
    parent_code: str | None
    in_area: bool  # may the importer add children here / rename it


def order_rows(rows: Sequence[Row]) -> list[Row]:
    """Parents before children, otherwise file order. Cycles are left as they are (they fail)."""
    first: dict[str, int] = {}
    for i, (_n, values) in enumerate(rows):
        first.setdefault(values.get("code", "").strip(), i)
    emitted = [False] * len(rows)
    out: list[Row] = []
    for i in range(len(rows)):
        chain: list[int] = []
        j: int | None = i
        while j is not None and not emitted[j] and j not in chain:
            chain.append(j)
            parent = rows[j][1].get("parent", "").strip()
            j = first.get(parent) if parent else None
        for k in reversed(chain):
            if not emitted[k]:
                emitted[k] = True
                out.append(rows[k])
    return out


class TreeImporter:
    def __init__(self, area: Area) -> None:
        self.area = area
        self.kinds: dict[str, str] = {}  # code, 中文名 or English name (lower case) → kind code
        self.kind_rows: dict[str, NodeKind] = {}
        self.kind_names: list[str] = []
        self.nodes: dict[str, NodeInfo | None] = {}  # by code; None = not in the district
        self.first_row: dict[str, int] = {}
        self.may_add_root = False
        self._households: list[Household] = []

    async def prepare(self, session: AsyncSession) -> None:
        for kind in (await session.execute(select(NodeKind).order_by(NodeKind.level))).scalars():
            self.kind_rows[kind.code] = kind
            for alias in (kind.code, kind.name_zh, kind.name_en):
                if alias:
                    self.kinds.setdefault(alias.strip().lower(), kind.code)
            self.kind_names.append(f"{kind.code} ({kind.name_zh})")
        roots = (await session.execute(select(GridNode.path).where(GridNode.parent_id.is_(None)))).scalars().all()
        self.may_add_root = bool(roots) and all(self.area.covers(p) for p in roots)

    def remember(self, rows: Sequence[Row]) -> None:
        """Rows a previous attempt already imported: only their codes matter (for duplicates)."""
        for number, values in rows:
            code = values.get("code", "").strip()
            if code:
                self.first_row.setdefault(code, number)

    async def _load(self, session: AsyncSession, codes: set[str]) -> None:
        wanted = [c for c in codes if c and c not in self.nodes]
        if not wanted:
            return
        found = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            for node in (await session.execute(select(GridNode).where(GridNode.code.in_(chunk)))).scalars():
                found[node.code] = node
        parent_ids = {n.parent_id for n in found.values() if n.parent_id is not None}
        parent_codes = {}
        if parent_ids:
            rows = await session.execute(select(GridNode.id, GridNode.code).where(GridNode.id.in_(parent_ids)))
            parent_codes = {r[0]: r[1] for r in rows}
        for code in wanted:
            node = found.get(code)
            self.nodes[code] = (
                None
                if node is None
                else NodeInfo(
                    node.id,
                    node.path,
                    node.depth,
                    node.kind,
                    node.name,
                    node.name_en,
                    parent_codes.get(node.parent_id) if node.parent_id is not None else None,
                    self.area.covers(node.path),
                )
            )

    def _kind(self, text: str) -> str | None:
        return self.kinds.get(text.strip().lower()) if text.strip() else None

    async def process(self, session: AsyncSession, rows: Sequence[Row], write: bool) -> list[Outcome]:
        await self._load(session, {v.get(k, "").strip() for _n, v in rows for k in ("code", "parent")})
        self._households: list[Household] = []
        out = [await self._one(session, number, values, write) for number, values in rows]
        if self._households:
            # Without ORM relationships the flush does not order tables by their foreign keys:
            # the nodes go in first, explicitly.
            await session.flush()
            session.add_all(self._households)
        return out

    async def _one(self, session: AsyncSession, number: int, values: dict[str, str], write: bool) -> Outcome:
        line = _Line.read(number, values)
        kind = self._kind(line.kind_text)
        problems = self._problems(line, kind)
        if problems:
            return line.error(" ".join(problems))
        assert kind is not None
        existing = self.nodes.get(line.code)
        if existing is not None:
            return await self._update(session, line, kind, existing, write)
        return self._create(session, line, kind, write)

    def _problems(self, line: _Line, kind: str | None) -> list[str]:
        """Everything wrong with the row on its own, all at once (the reader fixes them in one go)."""
        problems = _field_problems(line.code, line.name, line.name_en)
        if kind is None:
            problems.append(
                _(
                    "Unknown node kind “%(kind)s”; the kinds are: %(kinds)s.",
                    kind=line.kind_text,
                    kinds=", ".join(self.kind_names),
                )
            )
        if line.code and line.parent == line.code:
            problems.append(_("A node cannot be its own parent."))
        if line.code:
            # Claimed even when the row has other problems: a later repeat is still the repeat.
            first = self.first_row.setdefault(line.code, line.number)
            if first != line.number:
                problems.append(
                    _("The code %(code)s appears earlier in the file (row %(row)s).", code=line.code, row=first)
                )
        return problems

    async def _update(self, session: AsyncSession, line: _Line, kind: str, existing: NodeInfo, write: bool) -> Outcome:
        """An existing code: a rename is an update, a move or a change of kind is refused."""
        if not existing.in_area:
            return line.error(_("The code %(code)s is already used outside your area.", code=line.code))
        if (line.parent or None) != existing.parent_code:
            return line.error(_("This node exists under another parent: use “move” in the tree editor to move it."))
        if kind != existing.kind:
            return line.error(_("This node exists with another kind: change the kind in the tree editor."))
        changes = {}
        if line.name != existing.name:
            changes["name"] = line.name
        if line.name_en and line.name_en != existing.name_en:
            changes["name_en"] = line.name_en
        if not changes:
            return Outcome(line.number, UNCHANGED, line.shown)
        if write:
            node = (await session.execute(select(GridNode).where(GridNode.id == existing.id))).scalar_one()
            for key, value in changes.items():
                setattr(node, key, value)
        for key, value in changes.items():
            setattr(existing, key, value)
        return Outcome(line.number, UPDATED, line.shown)

    def _create(self, session: AsyncSession, line: _Line, kind: str, write: bool) -> Outcome:
        """A new code: under a parent in the importer's area (or a new tree), at a deeper kind."""
        parent_info = self.nodes.get(line.parent) if line.parent else None
        refusal = self._placement_problem(line, kind, parent_info)
        if refusal:
            return line.error(refusal)
        node_id = new_id()
        path = (parent_info.path if parent_info else "/") + f"{node_id}/"
        depth = parent_info.depth + 1 if parent_info else 0
        if write:
            node = GridNode(
                id=node_id,
                code=line.code,
                kind=kind,
                name=line.name,
                name_en=line.name_en,
                parent_id=parent_info.id if parent_info else None,
                path=path,
                depth=depth,
            )
            session.add(node)
            if kind == HOUSEHOLD_KIND:
                self._households.append(Household(node_id=node_id, node_path=path))
        self.nodes[line.code] = NodeInfo(node_id, path, depth, kind, line.name, line.name_en, line.parent or None, True)
        return Outcome(line.number, CREATED, line.shown)

    def _placement_problem(self, line: _Line, kind: str, parent_info: NodeInfo | None) -> str | None:
        parent = line.parent
        if parent and (parent_info is None or not parent_info.in_area):
            return _(
                "No node with the code %(code)s in your area, nor imported without error earlier in this file.",
                code=parent,
            )
        if not parent and not self.may_add_root:
            return _("A node without a parent code starts a new tree: only a district-wide importer may add one.")
        if parent_info is not None:
            lowest = rules.min_child_level(parent_info, self.kind_rows)  # type: ignore[arg-type]
            if self.kind_rows[kind].level < lowest:
                return _(
                    "A node of the kind %(kind)s (level %(level)s) cannot sit under %(parent)s: "
                    "choose a kind of level %(lo)s or deeper.",
                    kind=kind,
                    level=self.kind_rows[kind].level,
                    parent=parent,
                    lo=lowest,
                )
        return None


@dataclass(frozen=True)
class _Line:
    """One row's fields, trimmed, with the values shown back in the report."""

    number: int
    code: str
    parent: str
    kind_text: str  # as written: the error message quotes it
    name: str
    name_en: str
    shown: dict[str, str]

    @classmethod
    def read(cls, number: int, values: dict[str, str]) -> _Line:
        return cls(
            number=number,
            code=values.get("code", "").strip(),
            parent=values.get("parent", "").strip(),
            kind_text=values.get("kind", ""),
            name=values.get("name", "").strip(),
            name_en=values.get("name_en", "").strip(),
            shown={k: values.get(k, "") for k in ("code", "parent", "kind", "name", "name_en")},
        )

    def error(self, reason: str) -> Outcome:
        return Outcome(self.number, ERROR, self.shown, reason)


def _field_problems(code: str, name: str, name_en: str) -> list[str]:
    """Code, name and English name against the tree editor's limits."""
    problems = []
    if not code:
        problems.append(_("A code is required."))
    elif len(code) > rules.CODE_MAX or not rules.CODE.match(code):
        problems.append(
            _("A code uses a–z, 0–9 and - (not starting with -), at most %(hi)s characters.", hi=rules.CODE_MAX)
        )
    if not name:
        problems.append(_("A name is required."))
    elif len(name) > rules.NAME_MAX:
        problems.append(_("A name has at most %(hi)s characters.", hi=rules.NAME_MAX))
    if len(name_en) > rules.NAME_MAX:
        problems.append(_("An English name has at most %(hi)s characters.", hi=rules.NAME_MAX))
    return problems
