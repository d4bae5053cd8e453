"""Importing residents: name, ID number, phone, household (node code), relation, ethnicity, 户籍.

Written through the register's one write path, ``people.upsert_residents`` (identity is the ID
number's blind index; a known person with the same values is "unchanged", so a re-import changes
nothing), per batch: one query finds the batch's known residents, one the households it names,
and the new rows are flushed together. Hence the ID number is required here: without it a re-import would add the
same people again.

The move-in date (迁入日期) is optional: today when blank, as a register taken now would say.

A row goes only to a household (a node of the household kind) inside the importer's area for
``core.resident.edit``; a person registered in a household outside it is not moved from there.
A repeated ID number is refused on the later row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.crypto import Vault
from core.grids import people
from core.grids import validation as v
from core.grids.models import GridNode
from core.i18n import gettext as _
from core.i18n import lazy
from core.imports.outcome import CREATED, ERROR, UNCHANGED, UPDATED, Area, Outcome, Row, field_titles
from core.imports.readers import Column, Layout
from core.imports.tree import HOUSEHOLD_KIND

LAYOUT = Layout(
    (
        Column("name", "姓名", ("名字", "name", "full name"), required=True),
        Column(
            "id_number",
            "身份证号",
            ("身份证号码", "公民身份号码", "身份证", "证件号码", "id number", "id no", "id"),
            required=True,
        ),
        Column(
            "phone",
            "手机",
            ("手机号", "手机号码", "电话", "电话号码", "联系电话", "联系方式", "phone", "mobile", "tel"),
        ),
        Column("household", "户", ("户编码", "户号", "房屋编码", "房号", "household", "household code"), required=True),
        Column("relation", "关系", ("与户主关系", "relation", "relationship")),
        Column("ethnicity", "民族", ("ethnicity", "nation")),
        Column("registration", "户籍", ("户籍类型", "户籍性质", "人口类型", "registration")),
        Column("note", "备注", ("note", "notes", "remark")),
        Column("moved_in", "迁入日期", ("迁入时间", "入住日期", "moved in", "moved in on", "move-in date")),
    )
)
FIELDS = tuple(c.field for c in LAYOUT.columns)
_OUTCOMES = {people.CREATED: CREATED, people.UPDATED: UPDATED, people.UNCHANGED: UNCHANGED}
_EXCEL_NUMBER = re.compile(r"^\d(\.\d+)?E\+\d+$", re.IGNORECASE)  # 1.10105194912310E+17


def masked(values: dict[str, str]) -> dict[str, str]:
    """A row as reports may show it: no full ID number or phone leaves the encrypted columns."""
    out = {k: values.get(k, "") for k in FIELDS}
    if out["id_number"]:
        out["id_number"] = v.mask_id_number(out["id_number"].strip())
    if out["phone"]:
        out["phone"] = v.mask_phone(out["phone"].strip())
    return out


@dataclass(frozen=True)
class Target:
    node_id: int
    path: str
    in_area: bool


class ResidentImporter:
    def __init__(self, vault: Vault, area: Area, today: date | None = None) -> None:
        self.vault = vault
        self.area = area
        self.today = today or date.today()
        self.households: dict[str, Target | None] = {}  # by node code; None = not usable
        self.first_row: dict[str, int] = {}  # normalised ID number → first row that had it

    async def prepare(self, session: AsyncSession) -> None:
        """Nothing to load up front: households are looked up per batch as the file names them."""

    def remember(self, rows: Sequence[Row]) -> None:
        """Rows a previous attempt already imported: only their ID numbers matter (for duplicates)."""
        for number, values in rows:
            raw = _unquote(values.get("id_number", ""))
            if raw:
                self.first_row.setdefault(v.normalise_id_number(raw), number)

    async def _load_households(self, session: AsyncSession, codes: set[str]) -> None:
        wanted = [c for c in codes if c and c not in self.households]
        if not wanted:
            return
        rows = await session.execute(
            select(GridNode.code, GridNode.id, GridNode.path, GridNode.kind).where(GridNode.code.in_(wanted))
        )
        found = {r.code: r for r in rows}
        for code in wanted:
            r = found.get(code)
            ok = r is not None and r.kind == HOUSEHOLD_KIND
            self.households[code] = Target(r.id, r.path, self.area.covers(r.path)) if ok else None

    async def process(self, session: AsyncSession, rows: Sequence[Row], write: bool) -> list[Outcome]:
        checked = [self._check(number, values) for number, values in rows]
        await self._load_households(session, {c[2] for c in checked if c[1] is not None})
        known = await people.known_residents(session, self.vault, [c[1].id_number or "" for c in checked if c[1]])
        out: list[Outcome | None] = []
        batch: list[people.Placement] = []
        placed: list[tuple[int, int, dict[str, str]]] = []  # (index in out, row number, masked row)
        for (number, values), (_n, data, code, problem) in zip(rows, checked, strict=True):
            shown = masked(values)
            if data is None:
                out.append(Outcome(number, ERROR, shown, problem))
                continue
            household = self.households.get(code)
            if household is None or not household.in_area:
                reason = _("No household with the code %(code)s in your area.", code=code)
                out.append(Outcome(number, ERROR, shown, reason))
                continue
            existing = people.holder(known, self.vault, data)
            if existing is not None and existing.node_path and not self.area.covers(existing.node_path):
                reason = _("This person lives in a household outside your area: that grid must move them out first.")
                out.append(Outcome(number, ERROR, shown, reason))
                continue
            relation = values.get("relation", "").strip()
            moved_in = _day(values.get("moved_in", "")) or self.today  # checked in _check
            batch.append(people.Placement(data, household.node_id, household.path, relation, moved_in))
            placed.append((len(out), number, shown))
            out.append(None)
        # The register's own write path, for the whole batch at once (a dry run writes nothing).
        results = await people.upsert_residents(session, self.vault, batch, known, write=write)
        for (index, number, shown), (_resident, outcome) in zip(placed, results, strict=True):
            out[index] = Outcome(number, _OUTCOMES[outcome], shown)
        return [o for o in out if o is not None]

    def _check(self, number: int, values: dict[str, str]) -> tuple[int, people.ResidentInput | None, str, str]:
        """Row-level checks (no database): (number, cleaned data or None, household code, reason)."""
        raw = dict(values)
        raw["id_number"] = _unquote(raw.get("id_number", ""))
        raw["phone"] = _unquote(raw.get("phone", ""))
        data = people.clean_resident(raw)
        titles = field_titles()
        if _EXCEL_NUMBER.match(raw["id_number"]):
            data.errors["id_number"] = lazy(
                "Excel stored this ID number as a number and lost its last digits: "
                "format the column as text and type the number again."
            )
        problems = [f"{titles[k]}: {_(msg)}" for k, msg in data.errors.items()]
        if not raw["id_number"]:
            problems.append(_("An ID number is required for import (a re-import finds people by it)."))
        code = values.get("household", "").strip()
        if not code:
            problems.append(_("A household code is required."))
        if len(values.get("relation", "").strip()) > 20:
            problems.append(f"{titles['relation']}: {_('At most 20 characters.')}")
        moved_in = _day(values.get("moved_in", "")) if values.get("moved_in", "").strip() else self.today
        if moved_in is None or moved_in > self.today:
            problems.append(f"{titles['moved_in']}: {_('Use a date like 1980-01-31, not in the future.')}")
        if data.id_number:
            first = self.first_row.setdefault(data.id_number, number)
            if first != number:
                problems.append(_("This ID number appears earlier in the file (row %(row)s).", row=first))
        if problems:
            return number, None, code, " ".join(problems)
        return number, data, code, ""


def _day(text: str) -> date | None:
    """A move-in date as the template asks for it (2024-05-01; Excel dates arrive that way too)."""
    try:
        return date.fromisoformat(text.strip().split(" ")[0]) if text.strip() else None
    except ValueError:
        return None


def _unquote(text: str) -> str:
    """Spreadsheet users type '110105… to keep Excel from turning an ID number into 1.1E+17."""
    return text.strip().lstrip("'").strip()
