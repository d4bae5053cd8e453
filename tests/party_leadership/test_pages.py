"""The staff pages and the member's phone pages as users see them: party membership only for party
roles and only in scope, an employer sees its own members' results, forms refuse bad input with
a message, the flow from reporting in to the 评议 export, and the widget / node figures / 我的."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from core.services import activities
from plugins.party_leadership import lists, members
from plugins.party_leadership.models import Member, Unit
from tests.conftest import main_text
from tests.party_leadership.conftest import District, post_form


async def _unit(d: District, contact: str = "employer", community: str = "sa", name: str = "国网双滦供电公司") -> int:
    async with d.tx("secretary") as s:
        node = await members.community(s, d.nodes[community].id)
        from datetime import date

        unit = await members.register_unit(s, node, name=name, on=date(2026, 2, 1), contact_user_id=d.uid(contact))
        return unit.id


async def test_membership_pages_are_for_party_roles_in_their_scope_only(district: District) -> None:
    d = district
    unit_id = await _unit(d)
    m = await d.client("m1")
    r = await post_form(m, d.url("/party/me/report"), {"node_id": str(d.nodes["sa"].id), "unit_id": str(unit_id)})
    assert r.status_code == 303
    async with d.session() as s:
        member = (await s.execute(select(Member).where(Member.user_id == d.uid("m1")))).scalar_one()
    # The 报到回执 PDF: the member and the employer's contact may open it; another community may not.
    receipt = re.search(r'href="([^"]+/files/\d+)" data-testid="receipt"', (await m.get(d.url("/party/me"))).text)
    assert receipt is not None
    pdf = await m.get(receipt.group(1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert (await (await d.client("employer")).get(receipt.group(1))).status_code == 200
    assert (await (await d.client("yxsecretary")).get(receipt.group(1))).status_code == 404
    secretary = await d.client("secretary")
    page = await secretary.get(d.url("/party/members"))
    assert page.status_code == 200 and "张党员" in main_text(page.text)
    assert (await secretary.get(d.url(f"/party/members/{member.id}"))).status_code == 200
    # 御祥园's secretary: the list does not show the member and the page is not there.
    other = await d.client("yxsecretary")
    assert "张党员" not in main_text((await other.get(d.url("/party/members"))).text)
    assert (await other.get(d.url(f"/party/members/{member.id}"))).status_code == 404
    # A community worker keeps the three lists but does not see party membership.
    worker = await d.client("worker")
    assert (await worker.get(d.url("/party/lists"))).status_code == 200
    assert (await worker.get(d.url("/party/members"))).status_code == 403
    assert (await worker.get(d.url(f"/party/members/{member.id}"))).status_code == 403
    assert "party/members" not in (await worker.get(d.url("/party/"))).text
    grid = await d.client("gridworker")
    assert (await grid.get(d.url("/party/"))).status_code == 403
    # The district party admin sees it all.
    admin = await d.client("partyadmin")
    assert "张党员" in main_text((await admin.get(d.url("/party/members?q=张"))).text)


async def test_an_employer_sees_only_its_own_members_results(district: District) -> None:
    d = district
    mine = await _unit(d)
    theirs = await _unit(d, contact="m2", name="承德钢铁集团")
    employer = await d.client("employer")
    assert (await employer.get(d.url(f"/party/units/{mine}/results"))).status_code == 200
    assert (await employer.get(d.url(f"/party/units/{theirs}/results"))).status_code == 404
    assert (await employer.get(d.url(f"/party/units/{theirs}/results.xlsx"))).status_code == 404
    assert (await employer.get(d.url("/party/members"))).status_code == 403


async def test_forms_refuse_bad_input_with_a_message_and_write_nothing(district: District) -> None:
    d = district
    worker = await d.client("worker")
    r = await post_form(worker, d.url("/party/lists/need"), {"node_id": str(d.nodes["sa"].id), "title": "  "})
    assert r.status_code == 400 and "This field is required." in r.text
    r = await post_form(worker, d.url("/party/lists/need"), {"node_id": str(d.nodes["yx"].id), "title": "越界"})
    assert r.status_code == 400 and "Choose a community." in r.text  # 御祥园 is not the worker's
    r = await post_form(worker, d.url("/party/lists/need"), {"node_id": "abc", "title": "x"})
    assert r.status_code == 400
    secretary = await d.client("secretary")
    r = await post_form(
        secretary,
        d.url("/party/agreements"),
        {
            "node_id": str(d.nodes["sa"].id),
            "unit_id": "",
            "title": "协议",
            "terms": "…",
            "starts_on": "2026-01-01",
            "ends_on": "2025-01-01",
        },
        files={"signed": ("", b"", "application/octet-stream")},
    )
    assert r.status_code == 400 and "This field is required." in r.text
    unit_id = await _unit(d)
    r = await post_form(
        secretary,
        d.url("/party/agreements"),
        {
            "node_id": str(d.nodes["sa"].id),
            "unit_id": str(unit_id),
            "title": "协议",
            "terms": "…",
            "starts_on": "2026-01-01",
            "ends_on": "2025-01-01",
        },
        files={"signed": ("", b"", "application/octet-stream")},
    )
    assert r.status_code == 400 and "An agreement ends after it starts." in r.text
    r = await post_form(secretary, d.url("/party/review"), {"year": "2026", "rating_1": "abc"})
    assert r.status_code == 400
    assert (await secretary.get(d.url("/party/projects/999999"))).status_code == 404


async def test_a_project_page_moves_from_claim_to_done_with_a_photo(district: District) -> None:
    d = district
    unit_id = await _unit(d)
    async with d.tx("worker") as s:
        project = await lists.create_project(s, d.nodes["sa"], title="楼道照明改造")
    worker = await d.client("worker")
    base = d.url(f"/party/projects/{project.id}")
    ok = await post_form(worker, f"{base}/claim", {"unit_id": str(unit_id)}, files={"photo": ("", b"", "image/png")})
    assert ok.status_code == 303, ok.text[:500]
    assert (
        await post_form(worker, f"{base}/start", {"note": "进场"}, files={"photo": ("", b"", "image/png")})
    ).status_code == 303
    png = (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
        b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
    )
    r = await post_form(
        worker, f"{base}/progress", {"progress": "50", "note": "一半"}, files={"photo": ("p.png", png, "image/png")}
    )
    assert r.status_code == 303, r.text[:500]
    r = await post_form(worker, f"{base}/complete", {"summary": ""}, files={"photo": ("", b"", "image/png")})
    assert r.status_code == 400 and "Say what was done" in r.text
    r = await post_form(worker, f"{base}/complete", {"summary": "完工"}, files={"photo": ("", b"", "image/png")})
    assert r.status_code == 303
    page = await worker.get(base)
    assert "Done" in main_text(page.text)
    photo = re.search(r'src="([^"]+/files/\d+)"', page.text)
    assert photo is not None and (await worker.get(photo.group(1))).status_code == 200
    other = await d.client("yxsecretary")
    assert (await other.get(base)).status_code == 404
    assert (await other.get(photo.group(1))).status_code == 404


async def test_a_member_reports_in_claims_a_post_is_checked_in_and_appears_in_the_export(district: District) -> None:
    d = district
    unit_id = await _unit(d)
    secretary = await d.client("secretary")
    r = await post_form(
        secretary,
        d.url("/party/posts/post"),
        {"node_id": str(d.nodes["sa"].id), "category": "法律咨询与援助", "title": "法律咨询岗", "capacity": "3"},
    )
    assert r.status_code == 303
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    async with d.tx("secretary") as s:
        from plugins.party_leadership.settings import settings_of

        act = await members.publish_activity(
            s,
            d.nodes["sa"],
            title="普法宣传进社区",
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            category="法律咨询与援助",
            categories=settings_of({}).categories(),
        )
    m = await d.client("m1")
    page = await m.get(d.url("/party/me"))
    assert page.status_code == 200 and "Report in" in page.text
    r = await post_form(m, d.url("/party/me/report"), {"node_id": "", "name": "张党员"})
    assert r.status_code == 400 and "Choose a community." in r.text
    r = await post_form(
        m, d.url("/party/me/report"), {"node_id": str(d.nodes["sa"].id), "unit_id": str(unit_id), "name": "张党员"}
    )
    assert r.status_code == 303
    page = await m.get(d.url("/party/me"))
    post_id = re.search(r"/party/me/post/(\d+)", page.text).group(1)  # type: ignore[union-attr]
    assert (await post_form(m, d.url(f"/party/me/post/{post_id}"))).status_code == 303
    assert (await post_form(m, d.url(f"/party/me/activity/{act.id}"))).status_code == 303
    again = await post_form(m, d.url(f"/party/me/activity/{act.id}"))
    assert again.status_code == 409
    # Staff tick the member in and set the served time on the attendance list.
    r = await post_form(
        secretary, d.url(f"/party/activities/{act.id}/attendance"), {"user_id": str(d.uid("m1")), "direction": "in"}
    )
    assert r.status_code == 303
    r = await post_form(
        secretary,
        d.url(f"/party/activities/{act.id}/attendance"),
        {"user_id": str(d.uid("m1")), "direction": "minutes", "hours": "2.5", "reason": "按签到表"},
    )
    assert r.status_code == 303
    page = await m.get(d.url("/party/me"))
    assert "2.5 of 50 hours" in main_text(page.text)
    assert "法律咨询岗" in main_text(page.text)
    r = await post_form(secretary, d.url("/party/review"), {"year": str(start.year)})
    assert r.status_code == 303
    export = await secretary.get(d.url(f"/party/review/export.xlsx?year={start.year}"))
    assert export.status_code == 200
    rows = list(load_workbook(io.BytesIO(export.content)).active.iter_rows(min_row=3, values_only=True))
    assert [(row[0], row[1], row[3], row[4]) for row in rows] == [("张党员", "国网双滦供电公司", 2.5, 1)]
    employer = await d.client("employer")
    assert "张党员" in main_text((await employer.get(d.url(f"/party/units/{unit_id}/results?year={start.year}"))).text)


async def test_the_widget_node_figures_and_my_page_show_the_pillar(app: Any, district: District) -> None:
    d = district
    await _unit(d)
    m = await d.client("m1")
    await post_form(m, d.url("/party/me/report"), {"node_id": str(d.nodes["sa"].id), "name": "张党员"})
    admin = await d.client("partyadmin")
    home = await admin.get(d.url("/"))
    assert home.status_code == 200 and 'data-testid="pl-members">1<' in home.text
    node = await admin.get(d.url(f"/grid/{d.nodes['sa'].id}"))
    assert node.status_code == 200 and "Members reported" in node.text
    from plugins.party_leadership import plugin

    async with d.session() as s:
        got = {f.label_en: f.value for f in await plugin.node_figures(None, d.nodes["sa"], s)}
        assert got["Members reported"] == 1 and got["Units reported"] == 1
        assert await plugin.node_figures(None, d.nodes["yx"], s) == []
    overview = await admin.get(d.url("/party/"))
    assert "双安社区" in main_text(overview.text)
    assert 'data-chart="pl-hours"' in overview.text and 'core/charts.js"></script>' in overview.text
    # the chart's JSON as the script reads it: not HTML-escaped (a JSON script element decodes no entities)
    assert '"labels": ["双安社区"]' in overview.text
    assert (await admin.get("/static/core/charts.js")).status_code == 200  # the chart script all pillars share


async def test_off_in_a_district_the_pillar_is_not_there(app: Any, district: District) -> None:
    from core.tenancy.service import set_plugin

    d = district
    admin = await d.client("partyadmin")
    await set_plugin(app.state.db, app.state.plugins, d.tenant, "party_leadership", False)
    app.state.tenant_cache.clear()
    assert (await admin.get(d.url("/party/"))).status_code == 404
    assert (await admin.get(d.url("/party/me"))).status_code == 404


async def test_an_activity_of_another_pillar_is_not_on_the_party_pages(district: District) -> None:
    d = district
    start = datetime(2026, 5, 1, 1, tzinfo=UTC)
    async with d.tx("secretary") as s:
        act = await activities.publish(
            s,
            title="环境清扫",
            node=d.nodes["sa"],
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            source="co_governance",
        )
    secretary = await d.client("secretary")
    assert (await secretary.get(d.url(f"/party/activities/{act.id}"))).status_code == 404
    async with d.session() as s:
        assert (await s.execute(select(Unit))).first() is None


async def test_committees_meetings_agreements_and_matters_elsewhere_or_unknown_answer_404(district: District) -> None:
    from datetime import date

    from plugins.party_leadership import agreements, committees, matters

    d = district
    unit_id = await _unit(d)
    async with d.tx("secretary") as s:
        node = await members.community(s, d.nodes["sa"].id)
        committee = await committees.create_committee(s, node)
        meeting = await committees.call_meeting(
            s, committee, title="联席会议", agenda="项目认领", starts_at=datetime.now(UTC) + timedelta(days=7)
        )
        agreement = await agreements.create(
            s,
            node,
            unit_id=unit_id,
            title="结对共建协议",
            terms="每季度一次",
            starts_on=date(2026, 1, 1),
            ends_on=date(2027, 12, 31),
        )
        matter = await matters.file(
            s, node, kind="discuss", title="加装电梯", meeting_at=datetime.now(UTC) + timedelta(days=7)
        )
    pages = [
        f"/party/committees/{committee.id}",
        f"/party/meetings/{meeting.id}",
        f"/party/agreements/{agreement.id}",
        f"/party/units/{unit_id}",
    ]
    secretary, other = await d.client("secretary"), await d.client("yxsecretary")
    for path in pages:
        assert (await secretary.get(d.url(path))).status_code == 200, path
        assert (await other.get(d.url(path))).status_code == 404, path  # another community's
        assert (await secretary.get(d.url(re.sub(r"\d+$", "999999", path)))).status_code == 404, path
    resolve = d.url(f"/party/matters/{matter.id}/resolve")
    assert (await post_form(other, resolve, {"resolution": "已解决"})).status_code == 404
    assert (
        await post_form(secretary, d.url("/party/matters/999999/resolve"), {"resolution": "已解决"})
    ).status_code == 404
    assert (await post_form(secretary, resolve, {"resolution": "已解决"})).status_code == 303
