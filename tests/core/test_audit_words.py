"""The district admin's audit log is written for people: who (name and role), what in words,
when in local time; filtered, paged and exported to Excel."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from core.audit import record
from core.db.context import Actor
from core.grids.basedata import Resident
from core.identity.models import User
from core.tenancy.service import get_tenant
from plugins.smart_service.models import Event


async def _seed(db: Any) -> dict[str, Any]:
    tenant = await get_tenant(db, "shuangluan")
    async with db.session(tenant.id) as s:
        worker = (await s.execute(select(User).where(User.username == "community_worker"))).scalar_one()
        event = (await s.execute(select(Event).order_by(Event.id).limit(1))).scalar_one()
        resident = (await s.execute(select(Resident).order_by(Resident.id).limit(1))).scalar_one()
        seen = {"worker": worker.display_name, "number": event.number, "initial": resident.name[:1]}
        event_id, resident_id, worker_id = event.id, resident.id, worker.id
    async with db.transaction(tenant.id, Actor("user", worker_id, "community_worker")) as s:
        record(
            s, "ss_event_transitions.create", "ss_event_transitions", 1, {"action": "redispatch", "event_id": event_id}
        )
        record(s, "residents.update", "residents", resident_id, {"phone_masked": ["138****0000", "139****0000"]})
    return seen


def rows(html: str) -> list[str]:
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", r)).strip()
        for r in re.findall(r'<tr data-testid="audit-row".*?</tr>', html, re.S)
    ]


async def test_the_audit_log_says_who_did_what_in_words(as_admin: Any, db: Any) -> None:
    seen = await _seed(db)
    r = await as_admin.get("/t/shuangluan/admin/audit", params={"actor": seen["worker"]})
    assert r.status_code == 200
    found = rows(r.text)
    assert any(f"改派事件 {seen['number']}" in row for row in found)
    resident_row = next(row for row in found if "修改居民" in row)
    assert f"修改居民 {seen['initial']}*" in resident_row  # the name masked: only the family name
    assert f"{seen['worker']} · 社区工作者" in resident_row  # with the role


async def test_the_audit_log_filters_by_kind_and_exports_what_is_filtered(as_admin: Any, db: Any) -> None:
    seen = await _seed(db)
    r = await as_admin.get("/t/shuangluan/admin/audit", params={"what": "residents", "actor": seen["worker"]})
    found = rows(r.text)
    assert found and all("修改居民" in row for row in found)
    assert 'data-testid="audit-export"' in r.text
    x = await as_admin.get("/t/shuangluan/admin/audit.xlsx", params={"what": "residents", "actor": seen["worker"]})
    assert x.status_code == 200 and x.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(x.content)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][:4] == ["时间", "人员", "角色", "内容"]
    assert values[1][1] == seen["worker"] and values[1][3].startswith("修改居民 ")
    bad = await as_admin.get("/t/shuangluan/admin/audit.xlsx", params={"date_from": "yesterday"})
    assert bad.status_code == 400


async def test_only_who_may_read_the_audit_log_may_export_it(signed_in: Any) -> None:
    community = await signed_in("shuangluan", "community")
    assert (await community.get("/t/shuangluan/admin/audit.xlsx")).status_code == 403
