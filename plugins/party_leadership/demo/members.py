"""双报到: the units, the members reported to the communities (a few with an account), posts and
their claims, 服务记录卡 lines, party activities with check-ins, and quarterly feedback."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import new_id
from core.identity.models import User
from core.rbac.models import RoleAssignment
from core.services.activities.models import Activity, ActivitySignup
from plugins.party_leadership import rules
from plugins.party_leadership.demo.common import ACCOUNTS, MEMBERS, UNITS, Demo, at, workday
from plugins.party_leadership.demo.texts import ACTIVITY_TITLES, GIVEN, POSTS, SURNAMES, UNIT_NAMES
from plugins.party_leadership.members import ACTIVITY_RULE, MEMBER_ROLE
from plugins.party_leadership.models import Feedback, Member, Post, PostClaim, ServiceRecord, Unit
from plugins.party_leadership.settings import DEFAULT_POST_CATEGORIES, NAME


async def add_units(session: AsyncSession, d: Demo) -> None:
    rng, year = d.rng, d.year
    for i, name in enumerate(UNIT_NAMES[:UNITS]):
        node = d.communities[i % len(d.communities)]
        d.units.append(
            Unit(
                id=new_id(),
                name=name,
                party_org=f"{name}党支部" if "局" not in name else f"{name}机关党支部",
                node_id=node.id,
                node_path=node.path,
                contact_name=rng.choice(SURNAMES) + "主任",
                reported_on=workday(rng, date(year - 2, 3, 1), date(year, 3, 31)),
            )
        )
    session.add_all(d.units)
    await session.flush()
    for u in d.units:
        d.units_at.setdefault(u.node_path, []).append(u)


async def add_members(session: AsyncSession, d: Demo) -> None:
    """A few members with an account in 双安社区, the rest reported on paper."""
    from core.identity.passwords import hash_password
    from core.tenancy.demo import DEMO_PASSWORD

    rng, today, year, demo = d.rng, d.today, d.year, d.demo
    login = (await session.execute(select(User).where(User.username == "party_member"))).scalar_one_or_none()
    if login is None:
        login = User(
            id=new_id(),
            username="party_member",
            display_name="在职党员（演示）",
            password_hash=hash_password(DEMO_PASSWORD),
        )
        session.add(login)
    d.account_users = [
        User(
            id=new_id(),
            username=f"pl-member-{i:03d}",
            display_name=rng.choice(SURNAMES) + rng.choice(GIVEN),
            password_hash="!",
            is_active=True,
        )
        for i in range(ACCOUNTS)
    ]
    session.add_all(d.account_users)
    await session.flush()
    for i in range(MEMBERS):
        if i < ACCOUNTS:
            user, node = d.account_users[i], demo
            name = user.display_name
        else:
            user, node = None, d.communities[i % len(d.communities)]
            name = rng.choice(SURNAMES) + rng.choice(GIVEN)
        here = d.units_at.get(node.path) or d.units
        d.members.append(
            Member(
                id=new_id(),
                name=name,
                user_id=user.id if user else None,
                unit_id=rng.choice(here).id,
                branch="",
                node_id=node.id,
                node_path=node.path,
                reported_on=workday(rng, date(year - 2, 3, 1), min(today, date(year, 6, 30))),
            )
        )
    session.add_all(d.members)
    session.add_all(
        RoleAssignment(user_id=u.id, role_code=MEMBER_ROLE, node_id=demo.id, node_path=demo.path)
        for u in d.account_users
    )
    await session.flush()
    for m in d.members:
        d.by_community.setdefault(m.node_path, []).append(m)


async def add_posts(session: AsyncSession, d: Demo) -> None:
    """The eight categories' posts in every community, four members in five holding one."""
    posts: list[Post] = []
    for node in d.communities:
        for category in DEFAULT_POST_CATEGORIES:
            title, duty = POSTS[category]
            posts.append(
                Post(
                    id=new_id(),
                    node_id=node.id,
                    node_path=node.path,
                    category=category,
                    title=title,
                    description=duty,
                    capacity=12,
                    claimed=0,
                )
            )
    session.add_all(posts)
    posts_at: dict[str, list[Post]] = {}
    for p in posts:
        posts_at.setdefault(p.node_path, []).append(p)
    claims = []
    for path, people in d.by_community.items():
        for m in people:
            if d.rng.random() < 0.8:
                free = [p for p in posts_at[path] if p.claimed < p.capacity]
                if free:
                    p = d.rng.choice(free)
                    p.claimed += 1
                    claims.append(PostClaim(post_id=p.id, member_id=m.id, claimed_at=at(m.reported_on, 10)))
    session.add_all(claims)
    await session.flush()


def add_service_records(session: AsyncSession, d: Demo) -> None:
    """服务记录卡: staff lines for everyone, over last year and this year so far."""
    rng, today, year = d.rng, d.today, d.year
    records = []
    for m in d.members:
        target = rng.choice((10, 20, 30, 40, 46, 52, 56, 60, 70))  # hours over the last year and this one
        for span_start, span_end, share in (
            (date(year - 1, 1, 1), date(year - 1, 12, 31), 1.0),
            (date(year, 1, 1), today, today.timetuple().tm_yday / 365),
        ):
            left = int(target * 60 * share)
            while left > 0:
                minutes = min(left, rng.choice((90, 120, 180, 240)))
                day = workday(rng, span_start, span_end)
                records.append(
                    ServiceRecord(
                        member_id=m.id,
                        served_on=day,
                        minutes=minutes,
                        description=rng.choice(ACTIVITY_TITLES),
                        created_at=at(day, 17),
                    )
                )
                left -= minutes
    session.add_all(records)


async def add_activities(session: AsyncSession, d: Demo) -> None:
    """Ten party activities in 双安社区, eight past with check-ins by the members with accounts."""
    rng, today, demo = d.rng, d.today, d.demo
    acts, signups = [], []
    for k in range(10):
        day = (
            workday(rng, today - timedelta(days=120), today - timedelta(days=1))
            if k < 8
            else today + timedelta(days=3 + k)
        )
        start = at(day, 9)
        act = Activity(
            id=new_id(),
            source=NAME,
            category=DEFAULT_POST_CATEGORIES[k % 8],
            title=f"{ACTIVITY_TITLES[k % len(ACTIVITY_TITLES)]}（{demo.name}）",
            node_id=demo.id,
            node_path=demo.path,
            place=f"{demo.name}党群服务中心",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            capacity=40,
            eligibility=ACTIVITY_RULE,
            status="published",
            created_at=start - timedelta(days=7),
        )
        people = rng.sample(d.account_users, 12)
        act.signed_up = len(people)
        acts.append(act)
        signups += [_signup(rng, act, u, start, past=k < 8) for u in people]
    session.add_all(acts)
    await session.flush()
    session.add_all(signups)
    await session.flush()


def _signup(rng: random.Random, act: Activity, user: User, start: datetime, *, past: bool) -> ActivitySignup:
    minutes = rng.choice((150, 165, 180)) if past else None
    return ActivitySignup(
        activity_id=act.id,
        user_id=user.id,
        signed_up_at=start - timedelta(days=3),
        checked_in_at=start if past else None,
        checked_out_at=start + timedelta(minutes=minutes) if past and minutes else None,
        check_method="qr" if past else None,
        minutes=minutes,
        minutes_source="clock" if past else None,
    )


def add_feedback(session: AsyncSession, d: Demo) -> None:
    """Quarterly feedback to every unit for the quarters past."""
    year = d.year
    quarter = rules.quarter_of(d.today)
    feedback = []
    for u in d.units:
        for q in range(1, quarter):
            feedback.append(
                Feedback(
                    unit_id=u.id,
                    year=year,
                    quarter=q,
                    sent_at=at(rules.quarter_bounds(year, q)[1], 10),
                    summary={"members": 0, "minutes": 0, "rows": []},
                    note="感谢贵单位党员积极参与社区服务。",
                )
            )
    session.add_all(feedback)
