"""年度评议: score every reported member and unit of a community for a year against the tenant's
targets (rules.score_member / score_unit), keep the results, and export them for the employers'
考核 (Excel, openpyxl). A community's export has its members; an employer's has only its own."""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.base import utcnow
from core.rbac.scope import in_scope
from plugins.party_leadership import rules
from plugins.party_leadership.members import minutes_by_member
from plugins.party_leadership.models import Member, PostClaim, Review, Unit


async def run(
    session: AsyncSession,
    prefixes: list[str],
    year: int,
    scoring: rules.Scoring,
    staff_points: dict[int, int] | None = None,
) -> list[Review]:
    """(Re)score every member and unit in scope for ``year``. ``staff_points`` maps member ids to
    the community's rating; a member not in it keeps the rating given before (0 at first)."""
    staff_points = staff_points or {}
    members = list((await session.execute(select(Member).where(in_scope(Member.node_path, prefixes)))).scalars())
    if not members:
        return []
    minutes = await minutes_by_member(session, start=date(year, 1, 1), end=date(year + 1, 1, 1), prefixes=prefixes)
    posts = dict(
        (
            await session.execute(
                select(PostClaim.member_id, func.count())
                .join(Member, Member.id == PostClaim.member_id)
                .where(in_scope(Member.node_path, prefixes))
                .group_by(PostClaim.member_id)
            )
        ).all()
    )
    existing = {
        (r.subject, r.subject_id): r
        for r in (
            await session.execute(select(Review).where(Review.year == year, in_scope(Review.node_path, prefixes)))
        ).scalars()
    }
    out: list[Review] = []
    by_unit: dict[int, list[Decimal]] = defaultdict(list)
    now = utcnow()
    for m in members:
        row = existing.get(("member", m.id))
        rating = staff_points.get(m.id, row.staff_points if row else 0)
        if not 0 <= rating <= scoring.staff_points_max:
            from core.services.errors import InvalidInput, lazy

            raise InvalidInput(
                lazy("A community rating is between 0 and %(max)s."),
                field=f"rating_{m.id}",
                max=scoring.staff_points_max,
            )
        served = minutes.get(m.id, 0)
        reported = m.reported_on.year <= year
        result = rules.score_member(served, int(posts.get(m.id, 0)), reported, rating, scoring)
        if row is None:
            row = Review(year=year, subject="member", subject_id=m.id)
            session.add(row)
        row.name, row.unit_id, row.node_path = m.name, m.unit_id, m.node_path
        row.minutes, row.posts, row.staff_points = served, int(posts.get(m.id, 0)), rating
        row.score, row.grade, row.hours_met, row.passed = result.score, result.grade, result.hours_met, result.passed
        row.reviewed_at = now
        out.append(row)
        if m.unit_id is not None:
            by_unit[m.unit_id].append(result.score)
    units = (await session.execute(select(Unit).where(in_scope(Unit.node_path, prefixes)))).scalars()
    for u in units:
        result = rules.score_unit(by_unit.get(u.id, []), scoring)
        row = existing.get(("unit", u.id))
        if row is None:
            row = Review(year=year, subject="unit", subject_id=u.id)
            session.add(row)
        row.name, row.unit_id, row.node_path = u.name, u.id, u.node_path
        row.minutes = 0
        row.posts = len(by_unit.get(u.id, []))  # for a unit: members reviewed
        row.score, row.grade, row.hours_met, row.passed = result.score, result.grade, result.hours_met, result.passed
        row.reviewed_at = now
        out.append(row)
    await session.flush()
    return out


async def results(
    session: AsyncSession,
    year: int,
    *,
    prefixes: list[str] | None = None,
    unit_id: int | None = None,
    subject: str = "member",
) -> list[Review]:
    stmt = select(Review).where(Review.year == year, Review.subject == subject)
    if prefixes is not None:
        stmt = stmt.where(in_scope(Review.node_path, prefixes))
    if unit_id is not None:
        stmt = stmt.where(Review.unit_id == unit_id)
    stmt = stmt.order_by(Review.node_path, Review.score.desc(), Review.name)
    return list((await session.execute(stmt)).scalars())


HEADERS = (
    "姓名 Name",
    "工作单位 Employer",
    "社区 Community",
    "服务时长（小时） Hours",
    "认领岗位 Posts",
    "社区评价 Rating",
    "得分 Score",
    "时长达标 Hours met",
    "等次 Grade",
)
GRADE_ZH = {"excellent": "优秀", "pass": "合格", "fail": "不合格"}


def export_xlsx(
    rows: list[Review], units: dict[int, str], communities: dict[str, str], year: int, target: Any, pass_mark: int
) -> bytes:
    """The 评议 results as a workbook for the employers' 考核, with the targets they were scored on."""
    wb = Workbook()
    ws = wb.active
    ws.title = f"{year}年度评议"
    ws.append([f"{year}年度在职党员评议结果", f"年度服务时长目标 {float(target):g} 小时", f"合格分 {pass_mark}"])
    ws.append(list(HEADERS))
    for r in rows:
        ws.append(
            [
                r.name,
                units.get(r.unit_id or 0, ""),
                communities.get(r.node_path, ""),
                float(rules.hours(r.minutes)),
                r.posts,
                r.staff_points,
                float(r.score),
                "是" if r.hours_met else "否",
                GRADE_ZH.get(r.grade, r.grade),
            ]
        )
    for col, width in zip("ABCDEFGHI", (12, 28, 16, 12, 10, 10, 8, 10, 8), strict=True):
        ws.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
