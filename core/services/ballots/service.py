"""Ballots: open, cast (online, paper, proxy), count by a rule, close with a reproducible tally.

Owns ``ballots`` and their options, electors, casts and choices. One cast per elector is a unique
key, so a second ballot from the same voter (or owner) fails in the database even when two
requests race. A vote can be changed until the ballot closes only if the ballot says so. A
secret ballot keeps no link from voter to choice that staff could read (see models.py), and its
running figures show participation only; choices are counted when it closes.

The tally is computed from the stored choices and the electorate frozen at opening; ``close``
stores it with a digest of the rows it came from, and ``verify`` recounts and compares.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.crypto import Vault
from core.grids.models import GridNode
from core.services import eligibility
from core.services._common import actor_user_id, announce, atomic, aware, now
from core.services._schema import random_id
from core.services.ballots.electorate import ElectorSpec
from core.services.ballots.models import (
    CLOSED,
    DRAFT,
    ELECTION,
    OPEN,
    QUESTION,
    Ballot,
    BallotCast,
    BallotChoice,
    BallotElector,
    BallotElectorMember,
    BallotOption,
)
from core.services.ballots.rules import BUILTIN_RULES, Counts, OptionCount, Outcome, Rule
from core.services.errors import Conflict, InvalidInput, NotFound, lazy

ONLINE, PAPER, PROXY = "online", "paper", "proxy"


@dataclass(frozen=True)
class OptionSpec:
    label: str
    meaning: str = ""  # "yes" | "no" | "abstain" for questions
    subject_type: str | None = None
    subject_id: str | None = None


YES_NO_ABSTAIN = (
    OptionSpec("同意", "yes"),
    OptionSpec("反对", "no"),
    OptionSpec("弃权", "abstain"),
)


@dataclass(frozen=True)
class Tally:
    counts: Counts
    outcome: Outcome
    digest: str

    def as_json(self) -> dict[str, Any]:
        return {"counts": asdict(self.counts), "outcome": asdict(self.outcome), "digest": self.digest}


async def create(
    session: AsyncSession,
    *,
    title: str,
    node: GridNode,
    rule: str,
    opens_at: datetime,
    closes_at: datetime,
    options: Sequence[OptionSpec | str] = YES_NO_ABSTAIN,
    rule_params: Mapping[str, Any] | None = None,
    kind: str = QUESTION,
    max_choices: int = 1,
    secret: bool = False,
    changeable: bool = False,
    open_electorate: bool = False,
    eligibility_rule: str = eligibility.EVERYONE,
    description: str = "",
    source: str = "",
    rules: Mapping[str, Rule] = BUILTIN_RULES,
) -> Ballot:
    """A draft ballot at ``node``. Add electors (unless ``open_electorate``), then ``open`` it."""
    title = title.strip()
    if not title or len(title) > 300:
        raise InvalidInput(lazy("A ballot needs a title of at most 300 characters."), field="title")
    if rule not in rules:
        raise InvalidInput(lazy("Unknown counting rule %(rule)s."), field="rule", rule=rule)
    if aware(closes_at) <= aware(opens_at):
        raise InvalidInput(lazy("A ballot closes after it opens."), field="closes_at")
    if kind not in (QUESTION, ELECTION):
        raise InvalidInput(lazy("A ballot is a question or an election."), field="kind")
    specs = [OptionSpec(o) if isinstance(o, str) else o for o in options]
    if len(specs) < 2 or any(not o.label.strip() for o in specs):
        raise InvalidInput(lazy("A ballot needs at least two options, each with a label."), field="options")
    if not 1 <= max_choices <= len(specs):
        raise InvalidInput(lazy("Voters may choose between 1 and %(n)s options."), field="max_choices", n=len(specs))
    ballot = Ballot(
        source=source,
        title=title,
        description=description,
        node_id=node.id,
        node_path=node.path,
        kind=kind,
        rule=rule,
        rule_params=dict(rule_params or {}),
        max_choices=max_choices,
        secret=secret,
        changeable=changeable,
        open_electorate=open_electorate,
        eligibility=eligibility.check_rule(eligibility_rule),
        opens_at=opens_at,
        closes_at=closes_at,
        created_by=actor_user_id(session),
    )
    session.add(ballot)
    await session.flush()
    for position, spec in enumerate(specs, 1):
        session.add(
            BallotOption(
                ballot_id=ballot.id,
                position=position,
                label=spec.label.strip()[:300],
                meaning=spec.meaning,
                subject_type=spec.subject_type,
                subject_id=spec.subject_id,
            )
        )
    await session.flush()
    # A rule that cannot read these options (a yes/no rule without a yes) fails now, not at closing.
    rules[rule](Counts(1, 1, 0, 0, tuple(_empty_counts(await options_of(session, ballot.id)))), ballot.rule_params)
    return ballot


def _empty_counts(options: Iterable[BallotOption]) -> list[OptionCount]:
    return [OptionCount(o.id, o.label, o.meaning, 0, 0) for o in options]


async def get(session: AsyncSession, ballot_id: int) -> Ballot:
    ballot = (await session.execute(select(Ballot).where(Ballot.id == ballot_id))).scalar_one_or_none()
    if ballot is None:
        raise NotFound(lazy("There is no ballot %(id)s."), id=ballot_id)
    return ballot


async def options_of(session: AsyncSession, ballot_id: int) -> list[BallotOption]:
    stmt = select(BallotOption).where(BallotOption.ballot_id == ballot_id).order_by(BallotOption.position)
    return list((await session.execute(stmt)).scalars())


async def add_electors(session: AsyncSession, ballot: Ballot, electors: Iterable[ElectorSpec]) -> int:
    """Add electors to a draft ballot (bulk: an estate or a district at once). Returns how many."""
    if ballot.status != DRAFT:
        raise Conflict(lazy("The electorate is fixed once the ballot opens."))
    specs = list(electors)
    if len({e.key for e in specs}) != len(specs):
        raise InvalidInput(lazy("Each elector appears once."))
    rows = [
        {
            "tenant_id": ballot.tenant_id,
            "id": random_id(),
            "ballot_id": ballot.id,
            "key": e.key,
            "label": e.label[:300],
            "weight": e.weight,
            "heads": e.heads,
        }
        for e in specs
    ]
    members = [
        {
            "tenant_id": ballot.tenant_id,
            "id": random_id(),
            "ballot_id": ballot.id,
            "elector_id": row["id"],
            "user_id": u,
        }
        for row, e in zip(rows, specs, strict=True)
        for u in e.members
    ]
    for chunk in range(0, len(rows), 1000):
        await session.execute(insert(BallotElector), rows[chunk : chunk + 1000])
    for chunk in range(0, len(members), 1000):
        await session.execute(insert(BallotElectorMember), members[chunk : chunk + 1000])
    record(session, "ballot.electorate", "ballots", ballot.id, {"electors": len(rows), "members": len(members)})
    return len(rows)


async def open_ballot(session: AsyncSession, ballot: Ballot) -> Ballot:
    """Freeze the electorate; votes are accepted from ``opens_at`` until ``closes_at``."""
    if ballot.status != DRAFT:
        raise Conflict(lazy("The ballot is already open or closed."))
    electors = await session.scalar(
        select(func.count()).select_from(BallotElector).where(BallotElector.ballot_id == ballot.id)
    )
    if not electors and not ballot.open_electorate:
        raise Conflict(lazy("Add the electorate before opening the ballot."))
    ballot.status = OPEN
    await session.flush()
    await announce(
        session, "ballot.opened", {"ballot_id": ballot.id, "source": ballot.source, "node_path": ballot.node_path}
    )
    return ballot


async def electors_of(session: AsyncSession, ballot: Ballot, user_id: int) -> list[BallotElector]:
    """The electors whose ballot ``user_id`` may cast (usually one)."""
    # Two index lookups rather than a join: right after a ballot opens its electorate was just
    # bulk-inserted and the planner's row estimates are stale (a join then read every member once
    # per elector: 50 ms at 400 electors, measured in bench/services.py).
    ids = list(
        (
            await session.execute(
                select(BallotElectorMember.elector_id).where(
                    BallotElectorMember.ballot_id == ballot.id, BallotElectorMember.user_id == user_id
                )
            )
        ).scalars()
    )
    if not ids:
        return []
    stmt = select(BallotElector).where(BallotElector.id.in_(ids)).order_by(BallotElector.key)
    return list((await session.execute(stmt)).scalars())


async def _elector_for_voter(
    session: AsyncSession, ballot: Ballot, user_id: int, elector_id: int | None
) -> BallotElector:
    mine = await electors_of(session, ballot, user_id)
    if not mine and ballot.open_electorate:
        if not await eligibility.is_eligible(session, ballot.eligibility, user_id, ballot.node_path):
            raise Conflict(lazy("You are not in the electorate of this ballot."))
        key = f"user:{user_id}"
        found = (
            await session.execute(
                select(BallotElector).where(BallotElector.ballot_id == ballot.id, BallotElector.key == key)
            )
        ).scalar_one_or_none()
        if found is None:
            try:
                async with atomic(session):
                    found = BallotElector(id=random_id(), ballot_id=ballot.id, key=key, label="", weight=100, heads=1)
                    session.add(found)
                    await session.flush()
                    session.add(
                        BallotElectorMember(id=random_id(), ballot_id=ballot.id, elector_id=found.id, user_id=user_id)
                    )
                    await session.flush()
            except IntegrityError:  # the same voter in two tabs at once
                raise Conflict(lazy("You have already voted in this ballot.")) from None
        return found
    if elector_id is not None:
        mine = [e for e in mine if e.id == elector_id]
    if not mine:
        raise Conflict(lazy("You are not in the electorate of this ballot."))
    if len(mine) > 1:
        raise InvalidInput(lazy("You hold more than one ballot here: choose which one you cast."), field="elector_id")
    return mine[0]


async def cast(
    session: AsyncSession,
    ballot_id: int,
    user_id: int,
    option_ids: Sequence[int],
    *,
    elector_id: int | None = None,
    vault: Vault | None = None,
    at: datetime | None = None,
) -> BallotCast:
    """``user_id`` votes online (for the one elector they hold, or ``elector_id``)."""
    ballot = await get(session, ballot_id)
    _check_open(ballot, at)
    elector = await _elector_for_voter(session, ballot, user_id, elector_id)
    return await _record(session, ballot, elector, option_ids, ONLINE, user_id, vault=vault)


async def enter_paper(
    session: AsyncSession,
    ballot_id: int,
    elector_id: int,
    option_ids: Sequence[int],
    *,
    proxy_name: str | None = None,
    proxy_document_id: int | None = None,
    vault: Vault | None = None,
    at: datetime | None = None,
) -> BallotCast:
    """Staff enter a paper ballot, or a proxy vote (委托) with the proxy's name and the stored
    proxy document (its ``StoredFile`` id) — both required for a proxy vote."""
    ballot = await get(session, ballot_id)
    _check_open(ballot, at)
    elector = (
        await session.execute(
            select(BallotElector).where(BallotElector.id == elector_id, BallotElector.ballot_id == ballot.id)
        )
    ).scalar_one_or_none()
    if elector is None:
        raise NotFound(lazy("That elector is not in this ballot's electorate."))
    channel = PAPER
    if proxy_name is not None or proxy_document_id is not None:
        if not (proxy_name or "").strip() or proxy_document_id is None:
            raise InvalidInput(
                lazy("A proxy vote needs the proxy's name and the signed proxy document."), field="proxy"
            )
        from core.services.files.models import StoredFile

        if (await session.execute(select(StoredFile.id).where(StoredFile.id == proxy_document_id))).first() is None:
            raise NotFound(lazy("The proxy document was not found."))
        channel = PROXY
    return await _record(
        session,
        ballot,
        elector,
        option_ids,
        channel,
        actor_user_id(session),
        proxy_name=(proxy_name or "").strip()[:100] or None,
        proxy_document_id=proxy_document_id,
        vault=vault,
    )


def _check_open(ballot: Ballot, at: datetime | None) -> None:
    moment = at or now()
    if ballot.status != OPEN:
        raise Conflict(lazy("This ballot is not open for voting."))
    if moment < aware(ballot.opens_at):
        raise Conflict(lazy("Voting opens at %(at)s."), at=aware(ballot.opens_at).isoformat(timespec="minutes"))
    if moment >= aware(ballot.closes_at):
        raise Conflict(lazy("Voting closed at %(at)s."), at=aware(ballot.closes_at).isoformat(timespec="minutes"))


async def _record(
    session: AsyncSession,
    ballot: Ballot,
    elector: BallotElector,
    option_ids: Sequence[int],
    channel: str,
    cast_by: int | None,
    *,
    proxy_name: str | None = None,
    proxy_document_id: int | None = None,
    vault: Vault | None = None,
) -> BallotCast:
    chosen = list(dict.fromkeys(option_ids))
    valid = {o.id for o in await options_of(session, ballot.id)}
    if not chosen or len(chosen) != len(option_ids) or not set(chosen) <= valid:
        raise InvalidInput(lazy("Choose among this ballot's options, each once."), field="options")
    if len(chosen) > ballot.max_choices:
        raise InvalidInput(lazy("Choose at most %(n)s."), field="options", n=ballot.max_choices)
    seal = None
    if ballot.secret and ballot.changeable:
        if vault is None:
            raise RuntimeError("a changeable secret ballot needs the vault to seal choices")
        seal = vault.blind_index(f"{ballot.id}:{elector.id}", "ballot-seal")
    existing = (
        await session.execute(
            select(BallotCast).where(BallotCast.ballot_id == ballot.id, BallotCast.elector_id == elector.id)
        )
    ).scalar_one_or_none()
    if existing is not None:
        if not ballot.changeable:
            raise Conflict(lazy("This ballot has already been cast; it cannot be changed."))
        cast_row = existing
        if ballot.secret:
            await session.execute(
                delete(BallotChoice).where(BallotChoice.ballot_id == ballot.id, BallotChoice.seal == seal)
            )
        else:
            await session.execute(delete(BallotChoice).where(BallotChoice.cast_id == cast_row.id))
        cast_row.channel, cast_row.cast_by, cast_row.changed_at = channel, cast_by, now()
        cast_row.proxy_name, cast_row.proxy_document_id = proxy_name, proxy_document_id
        action = "ballot.change"
    else:
        cast_row = BallotCast(
            ballot_id=ballot.id,
            elector_id=elector.id,
            channel=channel,
            cast_by=cast_by,
            proxy_name=proxy_name,
            proxy_document_id=proxy_document_id,
            weight=elector.weight,
            heads=elector.heads,
        )
        action = "ballot.cast"
    try:
        async with atomic(session):
            session.add(cast_row)
            await session.flush()
            for option_id in chosen:
                session.add(
                    BallotChoice(
                        id=random_id(),
                        ballot_id=ballot.id,
                        option_id=option_id,
                        cast_id=None if ballot.secret else cast_row.id,
                        seal=seal,
                        weight=elector.weight,
                        heads=elector.heads,
                    )
                )
            await session.flush()
    except IntegrityError:  # the same elector's ballot from another request, a moment earlier
        raise Conflict(lazy("This ballot has already been cast; it cannot be changed.")) from None
    details: dict[str, Any] = {"elector": elector.key, "channel": channel}
    if not ballot.secret:
        details["options"] = chosen
    if proxy_name:
        details.update(proxy=proxy_name, proxy_document=proxy_document_id)
    record(session, action, "ballots", ballot.id, details)
    await announce(session, "ballot.cast", {"ballot_id": ballot.id, "source": ballot.source, "channel": channel})
    return cast_row


@dataclass(frozen=True)
class Participation:
    electorate_weight: int
    electorate_heads: int
    cast_weight: int
    cast_heads: int
    casts: int


async def participation(session: AsyncSession, ballot: Ballot) -> Participation:
    """Who has taken part so far, by weight and headcount (live; safe for secret ballots)."""
    e = (
        await session.execute(
            select(
                func.coalesce(func.sum(BallotElector.weight), 0), func.coalesce(func.sum(BallotElector.heads), 0)
            ).where(BallotElector.ballot_id == ballot.id)
        )
    ).one()
    c = (
        await session.execute(
            select(
                func.coalesce(func.sum(BallotCast.weight), 0),
                func.coalesce(func.sum(BallotCast.heads), 0),
                func.count(),
            ).where(BallotCast.ballot_id == ballot.id)
        )
    ).one()
    return Participation(int(e[0]), int(e[1]), int(c[0]), int(c[1]), int(c[2]))


async def tally(session: AsyncSession, ballot: Ballot, rules: Mapping[str, Rule] = BUILTIN_RULES) -> Tally:
    """Count the stored ballot by its rule. A secret ballot is counted only once it has closed."""
    if ballot.secret and ballot.status != CLOSED and now() < aware(ballot.closes_at):
        raise Conflict(lazy("A secret ballot is counted when it closes."))
    p = await participation(session, ballot)
    options = await options_of(session, ballot.id)
    per_option = dict(
        (oid, (int(w), int(h)))
        for oid, w, h in await session.execute(
            select(BallotChoice.option_id, func.sum(BallotChoice.weight), func.sum(BallotChoice.heads))
            .where(BallotChoice.ballot_id == ballot.id)
            .group_by(BallotChoice.option_id)
        )
    )
    counts = Counts(
        p.electorate_weight,
        p.electorate_heads,
        p.cast_weight,
        p.cast_heads,
        tuple(OptionCount(o.id, o.label, o.meaning, *per_option.get(o.id, (0, 0))) for o in options),
    )
    if ballot.rule not in rules:
        raise Conflict(lazy("The counting rule %(rule)s is not installed."), rule=ballot.rule)
    outcome = rules[ballot.rule](counts, ballot.rule_params)
    return Tally(counts, outcome, await _digest(session, ballot))


async def _digest(session: AsyncSession, ballot: Ballot) -> str:
    """A fingerprint of everything the count rests on: rule, electorate, casts and choices."""
    h = hashlib.sha256()
    h.update(json.dumps([ballot.rule, ballot.rule_params], sort_keys=True).encode())
    parts = (
        (
            "e",
            select(BallotElector.key, BallotElector.weight, BallotElector.heads)
            .where(BallotElector.ballot_id == ballot.id)
            .order_by(BallotElector.key),
        ),
        (
            "c",
            select(BallotElector.key, BallotCast.weight, BallotCast.heads)
            .join(BallotElector, BallotElector.id == BallotCast.elector_id)
            .where(BallotCast.ballot_id == ballot.id)
            .order_by(BallotElector.key),
        ),
        (
            "v",
            select(BallotOption.position, BallotChoice.weight, BallotChoice.heads)
            .join(BallotOption, BallotOption.id == BallotChoice.option_id)
            .where(BallotChoice.ballot_id == ballot.id)
            .order_by(BallotOption.position, BallotChoice.weight, BallotChoice.heads),
        ),
    )
    for tag, stmt in parts:  # electorate, casts, choices: in a fixed order, so the digest is reproducible
        for row in await session.execute(stmt):
            h.update(f"{tag}|{row[0]}|{row[1]}|{row[2]}\n".encode())
    return h.hexdigest()


async def close(
    session: AsyncSession, ballot: Ballot, *, early: str | None = None, rules: Mapping[str, Rule] = BUILTIN_RULES
) -> Tally:
    """Close at or after ``closes_at`` (or ``early`` with a reason), count, store the result."""
    if ballot.status != OPEN:
        raise Conflict(lazy("Only an open ballot can be closed."))
    if now() < aware(ballot.closes_at):
        if not (early or "").strip():
            raise Conflict(
                lazy("The ballot runs until %(at)s; give a reason to close it early."),
                at=aware(ballot.closes_at).isoformat(timespec="minutes"),
            )
        record(session, "ballot.close_early", "ballots", ballot.id, {"reason": early.strip()})  # type: ignore[union-attr]
    ballot.status, ballot.closed_at = CLOSED, now()
    result = await tally(session, ballot, rules)
    ballot.result, ballot.result_digest = result.as_json(), result.digest
    await session.flush()
    await announce(
        session,
        "ballot.closed",
        {
            "ballot_id": ballot.id,
            "source": ballot.source,
            "passed": result.outcome.passed,
            "valid": result.outcome.valid,
        },
    )
    return result


async def verify(session: AsyncSession, ballot: Ballot, rules: Mapping[str, Rule] = BUILTIN_RULES) -> bool:
    """Recount from the stored rows: True when they give the stored result and digest."""
    if ballot.status != CLOSED or ballot.result is None:
        return False
    again = await tally(session, ballot, rules)
    # Compare as stored: read back from the JSON column, tuples are lists.
    return again.digest == ballot.result_digest and _as_stored(again.as_json()) == _as_stored(ballot.result)


def _as_stored(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True))


async def my_vote(session: AsyncSession, ballot: Ballot, user_id: int) -> tuple[BallotCast | None, list[int]]:
    """The voter's own cast and, on an open (not secret) ballot, their choices."""
    electors = await electors_of(session, ballot, user_id)
    if not electors:
        return None, []
    cast_row = (
        (
            await session.execute(
                select(BallotCast).where(
                    BallotCast.ballot_id == ballot.id, BallotCast.elector_id.in_([e.id for e in electors])
                )
            )
        )
        .scalars()
        .first()
    )
    if cast_row is None or ballot.secret:
        return cast_row, []
    chosen = await session.execute(select(BallotChoice.option_id).where(BallotChoice.cast_id == cast_row.id))
    return cast_row, list(chosen.scalars())
