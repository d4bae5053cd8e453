"""No oracle on masked data: who may search residents and organisations by what.

A masked ID number (``130***********123X``) leaves 11 digits hidden; if an exact-value search
answered anyone who can see the mask, the hidden digits would come out in about 70 guesses. So an
exact search by a full ID number or phone is itself a reveal: only for users who may reveal
(within the scope where they may), recorded in the audit log as one, and rate-limited. Everyone
else searches by name or by the visible parts of the mask (the last four characters, or the mask as
shown). Every list, export and API that searches residents or organisations goes through here.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import false, or_

from core.audit import record
from core.crypto import Vault
from core.grids import validation as v
from core.grids.basedata import Organisation, Resident
from core.rbac.scope import in_scope

ID_PURPOSE, PHONE_PURPOSE = "id_number", "phone"
_ID_LIKE = re.compile(r"^[\dXx]{15,}$")
_VISIBLE = re.compile(r"^[\dXx]{3,4}$")
_MASK = re.compile(r"^[\dXx]{3}\*{4,}[\dXx]{4}$")
_DIGITS = re.compile(r"^\+?[\d\s-]{5,}$")

# The service speaks English; web layers translate (listed in core.grids.routes.residents).
REFUSED = (
    "Only users who may see full ID numbers and phones can search by them. "
    "Search by name or by the last 4 characters shown."
)
NOT_A_SEARCH = "Search by a name, or by the last 4 characters of an ID number or phone."


class SensitiveSearchLimited(Exception):
    """Too many exact searches on sensitive fields by one user: try again later."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"sensitive search limit, retry after {retry_after}s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Limits:
    searches: int = 30  # exact searches per window by a user who may reveal
    window: int = 600
    duplicate_checks: int = 30  # ID-number duplicate checks per hour by one who may not
    duplicate_window: int = 3600


@dataclass
class Searcher:
    """The user as the search sees them: where they may reveal, and how to count their lookups."""

    tenant_id: int
    user_id: int
    reveal_prefixes: list[str]
    counter: Any  # core.identity.throttle counter (Redis or SQL): atomic across processes
    limits: Limits = field(default_factory=Limits)

    @property
    def may_reveal(self) -> bool:
        return bool(self.reveal_prefixes)

    async def spend(self, kind: str, allowed: int, window: int) -> None:
        count = await self.counter.hit(f"t{self.tenant_id}:lookup:{kind}:{self.user_id}", window, time.time())
        if count.failures > allowed:
            raise SensitiveSearchLimited(window)


@dataclass
class Criteria:
    where: Any = None  # a SQL predicate, or None for "no filter"
    error: str | None = None


def _reveal_scope(column: Any, prefixes: list[str]) -> Any:
    tree_wide = any(p.count("/") == 2 for p in prefixes)
    cond = in_scope(column, prefixes)
    return or_(cond, column.is_(None)) if tree_wide else cond


async def resident_criteria(session: Any, vault: Vault, who: Searcher, q: str) -> Criteria:
    term = re.sub(r"[\s-]", "", q.strip())
    if not term:
        return Criteria()
    if _ID_LIKE.fullmatch(term) or (_DIGITS.fullmatch(q.strip()) and len(term.lstrip("+")) >= 11):
        return await _exact(session, vault, who, term)
    if _MASK.fullmatch(term):
        mask = term.upper()
        return Criteria(or_(Resident.id_number_masked == mask, Resident.phone_masked == mask))
    if _VISIBLE.fullmatch(term):
        tail = term.upper()
        return Criteria(or_(Resident.id_number_masked.endswith(tail), Resident.phone_masked.endswith(tail)))
    if _DIGITS.fullmatch(q.strip()):
        return Criteria(false(), NOT_A_SEARCH)
    return Criteria(Resident.name.icontains(q.strip(), autoescape=True))


async def _exact(session: Any, vault: Vault, who: Searcher, term: str) -> Criteria:
    is_id = _ID_LIKE.fullmatch(term) is not None
    field_name = "id_number" if is_id else "phone"
    if not who.may_reveal:
        record(session, "resident.search_refused", "residents", None, {"field": field_name})
        return Criteria(false(), REFUSED)
    try:
        value = v.check_id_number(term) if is_id else v.check_phone(term)
    except v.InvalidValue as exc:
        return Criteria(false(), str(exc))
    await who.spend("search", who.limits.searches, who.limits.window)
    masked = v.mask_id_number(value) if is_id else v.mask_phone(value)
    record(session, "resident.search_reveal", "residents", None, {"field": field_name, "value": masked})
    column = Resident.id_number_hash if is_id else Resident.phone_hash
    digest = vault.blind_index(value, ID_PURPOSE if is_id else PHONE_PURPOSE)
    return Criteria((column == digest) & _reveal_scope(Resident.node_path, who.reveal_prefixes))


async def organisation_criteria(session: Any, vault: Vault, who: Searcher, q: str) -> Criteria:
    """Name or credit code (public) for everyone; a full contact phone only for those who may reveal."""
    text = q.strip()
    term = re.sub(r"[\s-]", "", text)
    if not term:
        return Criteria()
    if _DIGITS.fullmatch(text) and len(term.lstrip("+")) >= 11:
        if not who.may_reveal:
            record(session, "organisation.search_refused", "organisations", None, {"field": "contact_phone"})
            return Criteria(false(), REFUSED)
        try:
            phone = v.check_phone(term)
        except v.InvalidValue as exc:
            return Criteria(false(), str(exc))
        await who.spend("search", who.limits.searches, who.limits.window)
        record(
            session,
            "organisation.search_reveal",
            "organisations",
            None,
            {"field": "contact_phone", "value": v.mask_phone(phone)},
        )
        digest = vault.blind_index(phone, PHONE_PURPOSE)
        return Criteria(
            (Organisation.contact_phone_hash == digest) & _reveal_scope(Organisation.node_path, who.reveal_prefixes)
        )
    if _VISIBLE.fullmatch(term):
        return Criteria(Organisation.contact_phone_masked.endswith(term))
    return Criteria(or_(Organisation.name.icontains(text, autoescape=True), Organisation.credit_code == text.upper()))


async def duplicate_check(who: Searcher, session: Any) -> None:
    """Whether an ID number is already registered leaks too (a unique key cannot hide it): for a
    user who may not reveal, each check is counted and audited, so guessing is slow and visible."""
    if who.may_reveal:
        return
    await who.spend("duplicate", who.limits.duplicate_checks, who.limits.duplicate_window)
    record(session, "resident.duplicate_check", "residents", None, {})
