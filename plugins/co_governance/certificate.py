"""志愿服务证明: a volunteer's record as a PDF with a verification QR code (core.services.documents),
and the same record as rows for their own export. The record names, per activity, who organised
and who recorded it (谁组织谁记录、谁记录谁证明)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.services import documents
from core.services.errors import Conflict, lazy
from plugins.co_governance import numbers, rules
from plugins.co_governance.models import ServiceRecord, Volunteer
from plugins.co_governance.volunteers import SOURCE, records_of

SUBJECT = "co_governance.volunteer"
HEADER = ["日期", "活动", "类别", "组织方", "时长（小时）", "记录人"]
CERTIFICATE = documents.DocumentTemplate(
    kind="co_governance.certificate",
    title="志愿服务证明",
    fields=(
        ("姓名", "{name}"),
        ("志愿者编号", "{number}"),
        ("累计服务时长", "{hours} 小时"),
        ("星级", "{star}"),
        ("服务期间", "{since} 至 {until}"),
    ),
    paragraphs=(
        "兹证明{name}（志愿者编号 {number}）自{since}至{until}参加志愿服务活动{count}次，"
        "累计志愿服务时长{hours}小时，星级为{star}。",
        "以上记录由各活动的组织方记录并证明（谁组织谁记录、谁记录谁证明），明细见下表。",
    ),
    closing="特此证明。",
    signatures=("出具单位（盖章）", "经办人"),
)


def rows_of(records: list[ServiceRecord]) -> list[list[str]]:
    return [
        [r.served_on.isoformat(), r.title, r.category, r.organiser, str(rules.hours_of(r.minutes)), r.recorder_name]
        for r in sorted(records, key=lambda r: (r.served_on, r.id))
    ]


def values_of(volunteer: Volunteer, records: list[ServiceRecord]) -> dict[str, Any]:
    star = rules.star_level(volunteer.minutes_total)
    days = sorted(r.served_on for r in records)
    return {
        "name": volunteer.name,
        "number": volunteer.number,
        "hours": str(rules.hours_of(volunteer.minutes_total)),
        "star": rules.STAR_NAMES[star] or "未达星级",
        "since": days[0].isoformat(),
        "until": days[-1].isoformat(),
        "count": str(len(records)),
    }


async def issue(
    session: AsyncSession, storage: Any, *, tenant: Any, volunteer: Volunteer, base_url: str, at: datetime | None = None
) -> documents.Document:
    """Issue a certificate of the volunteer's whole record (refused while it is empty)."""
    records = [r for r in await records_of(session, volunteer.id) if r.minutes > 0]
    if not records:
        raise Conflict(lazy("There is no recorded service to certify yet."))
    return await documents.issue(
        session,
        storage,
        tenant=tenant,
        template=CERTIFICATE,
        values=values_of(volunteer, records),
        rows=[HEADER, *rows_of(records)],
        base_url=base_url,
        subject=(SUBJECT, str(volunteer.id)),
        node_path=volunteer.node_path,
        source=SOURCE,
        at=at or datetime.now(numbers.LOCAL),
    )
