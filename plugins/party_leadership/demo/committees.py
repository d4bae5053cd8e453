"""大工委/大党委 with their seats, 联席会议 with decisions, and 五事联办 matters routed to them."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from plugins.party_leadership import rules
from plugins.party_leadership.demo.common import PART_TIME, Demo, at, workday
from plugins.party_leadership.demo.texts import DECISION_TEXTS, GIVEN, MATTER_SAMPLES, SURNAMES
from plugins.party_leadership.models import Committee, CommitteeMember, Decision, Matter, Meeting


async def add_committees(session: AsyncSession, d: Demo) -> None:
    """The 街道大工委 and each community's 大党委: a secretary and part-time seats from units."""
    rng, year = d.rng, d.year
    seats = d.seats
    street_level = [s for s in d.subdistricts if s.kind == "subdistrict"]
    for s in street_level + d.communities:
        kind = "working" if s in street_level else "party"
        d.committees.append(
            Committee(
                id=new_id(),
                kind=kind,
                name=f"{s.name}{'大工委' if kind == 'working' else '大党委'}",
                node_id=s.id,
                node_path=s.path,
            )
        )
    session.add_all(d.committees)
    await session.flush()
    term_start = date(year - 2, 1, 1)
    for idx, k in enumerate(d.committees):
        seats.append(
            CommitteeMember(
                committee_id=k.id,
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                position="secretary",
                term_start=term_start,
                term_end=date(year + 3, 1, 1),
            )
        )
        part_time = PART_TIME // len(street_level) if k.kind == "working" else 2
        candidates = [u for u in d.units if u.node_path.startswith(k.node_path)] or d.units
        for j in range(part_time):
            u = candidates[(idx + j) % len(candidates)]
            seats.append(
                CommitteeMember(
                    committee_id=k.id,
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                    position="part_time",
                    unit_id=u.id,
                    term_start=term_start,
                    term_end=date(year + 3, 1, 1),
                )
            )
    session.add_all(seats)
    await session.flush()


async def add_meetings(session: AsyncSession, d: Demo) -> None:
    """联席会议: quarterly for the 大工委, twice for each 大党委; those held took two decisions."""
    rng, today, year = d.rng, d.today, d.year
    seats_of: dict[int, list[CommitteeMember]] = {}
    for s in d.seats:
        seats_of.setdefault(s.committee_id, []).append(s)
    decisions = []
    for k in d.committees:
        count = 4 if k.kind == "working" else 2
        for q in range(count):
            day = (
                date(year, 3 * q + 1, 1) + timedelta(days=rng.randint(5, 25))
                if k.kind == "working"
                else workday(rng, today - timedelta(days=200), today + timedelta(days=20))
            )
            held = day < today
            people = seats_of[k.id]
            present = [s.id for s in people if rng.random() < 0.85] if held else []
            m = Meeting(
                id=new_id(),
                committee_id=k.id,
                node_path=k.node_path,
                title=f"{k.name}第{q + 1}次联席会议",
                agenda="1. 通报三项清单进展\n2. 研究共建项目认领\n3. 在职党员双报到情况",
                starts_at=at(day, 14, 30),
                place="党群服务中心会议室",
                status="held" if held else "called",
                expected=len(people),
                present=len(present),
                attendance=present,
                minutes="会议听取了项目进展汇报，研究确定了下一阶段共建事项。" if held else "",
                held_at=at(day, 16, 30) if held else None,
            )
            d.meetings.append(m)
            if held:
                decisions += [_decision(d, k, m, day, n, len(present)) for n in range(2)]
    session.add_all(d.meetings)
    await session.flush()
    session.add_all(decisions)


def _decision(d: Demo, k: Committee, m: Meeting, day: date, n: int, present: int) -> Decision:
    """The meeting's n-th decision; the second was put to a vote."""
    done = d.rng.random() < 0.6
    return Decision(
        meeting_id=m.id,
        node_path=k.node_path,
        text=d.rng.choice(DECISION_TEXTS),
        owner=d.rng.choice(d.units).name,
        due_on=day + timedelta(days=30 + 15 * n),
        status="done" if done else "open",
        done_at=at(day + timedelta(days=25), 11) if done else None,
        done_note="已按期完成" if done else "",
        votes_for=present if n == 1 else None,
        votes_against=0 if n == 1 else None,
        votes_abstain=0 if n == 1 else None,
    )


def add_matters(session: AsyncSession, d: Demo) -> None:
    """五事联办: five of each kind, routed to the community's 大党委 meeting or a project."""
    today = d.today
    matters = []
    party_committees = {k.node_path: k for k in d.committees if k.kind == "party"}
    meetings_of: dict[int, list[Meeting]] = {}
    for m in d.meetings:
        meetings_of.setdefault(m.committee_id, []).append(m)
    for i in range(25):
        kind = list(MATTER_SAMPLES)[i % 5]
        node = d.communities[i % len(d.communities)]
        route = rules.route_for(kind)
        k = party_committees.get(node.path)
        meeting = meetings_of.get(k.id, [None])[0] if k else None
        project = next((p for p in d.projects if p.node_path == node.path), None)
        resolved = i % 3 == 0
        matters.append(
            Matter(
                node_id=node.id,
                node_path=node.path,
                kind=kind,
                title=MATTER_SAMPLES[kind],
                route=route,
                description="居民反映强烈，需多方联动解决。",
                status="resolved" if resolved else "routed",
                meeting_id=meeting.id if route != "project" and meeting else None,
                project_id=project.id if route == "project" and project else None,
                resolution="经联席会议协商，已落实解决方案。" if resolved else "",
                resolved_at=at(today - timedelta(days=i + 1), 11) if resolved else None,
                created_at=at(today - timedelta(days=30 + i), 9, 30),
            )
        )
    session.add_all(matters)
