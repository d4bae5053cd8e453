"""The pages as people use them: an organiser sets up a campaign, a resident nominates, the
nominee consents on their own page, the panel shortlists and publishes, residents vote, the
organiser awards; every public page shows a nominee only while their consent is in force."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from plugins.civic_virtue import campaigns, nominations
from plugins.civic_virtue.models import Nomination
from plugins.civic_virtue.routes.common import to_local_input
from plugins.civic_virtue.stages import Stage
from tests.civic_virtue.conftest import Town
from tests.civic_virtue.test_campaigns import STORY, consent_to, nominate, shortlisted_campaign
from tests.conftest import csrf_of, main_text, make_client

STAFF_SEES = "/civic-virtue/"


async def post(client: Any, url: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
    return await client.post(url, data={"_csrf_token": csrf_of(client), **(data or {})}, **kw)


async def test_an_organiser_sets_up_a_campaign_and_bad_periods_are_explained(town: Town) -> None:
    c = await town.client("organiser")
    r = await c.get(town.url("/civic-virtue/campaigns/new"))
    assert r.status_code == 200
    now = datetime.now(UTC)
    form = {
        "title": "2026年道德模范评选",
        "kind": "moral_model",
        "node_id": str(town.nodes["c1"].id),
        "nomination_opens_at": to_local_input(now),
        "nomination_closes_at": to_local_input(now + timedelta(days=10)),
        "review_closes_at": to_local_input(now + timedelta(days=15)),
        "publicity_closes_at": to_local_input(now + timedelta(days=17)),  # 2 days: under the 7-day minimum
        "vote_closes_at": to_local_input(now + timedelta(days=25)),
        "voter_rule": "everyone",
    }
    r = await post(c, town.url("/civic-virtue/campaigns/"), form)
    assert r.status_code == 400
    assert "at least 7 days" in main_text(r.text)
    form["publicity_closes_at"] = to_local_input(now + timedelta(days=22))
    r = await post(c, town.url("/civic-virtue/campaigns/"), form)
    assert r.status_code == 303
    page = await c.get(r.headers["location"])
    assert "Nomination" in main_text(page.text) and "助人为乐" in page.text
    listing = await c.get(town.url(STAFF_SEES))
    assert "2026年道德模范评选" in listing.text


async def test_a_community_outside_the_campaign_gets_404(town: Town) -> None:
    campaign = await town.campaign()
    other = await town.client("other")
    assert (await other.get(town.url(f"/civic-virtue/campaigns/{campaign.id}"))).status_code == 404
    mine = await town.client("organiser")
    assert (await mine.get(town.url(f"/civic-virtue/campaigns/{campaign.id}"))).status_code == 200


async def test_a_resident_nominates_a_neighbour_who_consents_on_their_own_page(town: Town) -> None:
    campaign = await town.campaign()
    async with town.session() as s:
        cats = await campaigns.categories(s, campaign.id)
    ann = await town.client("ann")
    r = await ann.get(town.url("/civic-virtue/take-part/"))
    assert r.status_code == 200 and "Nominate someone" in r.text
    r = await post(
        ann,
        town.url(f"/civic-virtue/campaigns/{campaign.id}/nominate"),
        {
            "category_id": str(cats[0].id),
            "nominee_name": "邻居老白",
            "nominee_phone": "13900000002",
            "node_id": str(town.nodes["g1"].id),
            "headline": "照顾独居老人",
            "story": "短",
            "nominator_kind": "resident",
        },
        files={"photos": ("a.png", b"not a png", "image/png")},
    )
    assert r.status_code == 400 and "20 to 5000" in main_text(r.text)  # the story is too short; nothing kept
    r = await post(
        ann,
        town.url(f"/civic-virtue/campaigns/{campaign.id}/nominate"),
        {
            "category_id": str(cats[0].id),
            "nominee_name": "邻居老白",
            "nominee_phone": "13900000002",
            "node_id": str(town.nodes["g1"].id),
            "headline": "照顾独居老人",
            "story": STORY,
            "nominator_kind": "resident",
        },
        files={"x": ("", b"", "application/octet-stream")},
    )
    assert r.status_code == 303, r.text[:500]
    async with town.session() as s:  # he is asked, in-app
        from sqlalchemy import select

        from core.services.notifications.models import InAppNotification

        notes = (
            await s.execute(select(InAppNotification).where(InAppNotification.user_id == town.users["bob"]))
        ).scalars()
        assert any("您被推荐" in n.title for n in notes)
    bob = await town.client("bob")
    page = await bob.get(town.url("/civic-virtue/take-part/"))
    assert "You have been nominated" in page.text and "Not given" in page.text
    async with town.session() as s:
        n = (await nominations.about_me(s, town.users["bob"]))[0][0]
    # Someone else cannot answer for him.
    assert (
        await post(ann, town.url(f"/civic-virtue/nominations/{n.id}/my-consent"), {"action": "give"})
    ).status_code == 404
    r = await post(bob, town.url(f"/civic-virtue/nominations/{n.id}/my-consent"), {"action": "give"})
    assert r.status_code == 303
    assert "Given" in main_text((await bob.get(town.url("/civic-virtue/take-part/"))).text)


async def test_the_public_pages_show_a_candidate_only_while_consent_holds(town: Town) -> None:
    campaign, (bob, _cat) = await shortlisted_campaign(town)
    anonymous = make_client(town.app)
    town.clients.append(anonymous)
    vote_page = town.url(f"/civic-virtue/campaigns/{campaign.id}/vote")
    r = await anonymous.get(vote_page)
    assert r.status_code == 200 and "邻居老白" in r.text and "居民小蔡" in r.text
    assert (await anonymous.get(town.url(f"/civic-virtue/gallery/{bob.id}"))).status_code == 200
    bob_client = await town.client("bob")
    r = await post(bob_client, town.url(f"/civic-virtue/nominations/{bob.id}/my-consent"), {"action": "withdraw"})
    assert r.status_code == 303
    r = await anonymous.get(vote_page)
    assert "邻居老白" not in r.text and "居民小蔡" in r.text
    assert (await anonymous.get(town.url(f"/civic-virtue/gallery/{bob.id}"))).status_code == 404
    # Staff still see the nomination, marked as without consent.
    staff = await town.client("organiser")
    page = await staff.get(town.url(f"/civic-virtue/nominations/{bob.id}"))
    assert page.status_code == 200 and "Not yet" in main_text(page.text)


async def test_residents_vote_once_per_category_and_the_organiser_awards(town: Town) -> None:
    campaign, (bob, cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.VOTING)
    dan = await town.client("dan")
    url = town.url(f"/civic-virtue/campaigns/{campaign.id}/vote")
    r = await post(dan, url, {"category_id": str(bob.category_id), "nomination_id": str(bob.id)})
    assert r.status_code == 303
    again = await post(dan, url, {"category_id": str(bob.category_id), "nomination_id": str(cat.id)})
    assert again.status_code == 409 and "already been cast" in main_text(again.text)
    assert "your vote" in (await dan.get(url)).text
    staff = await town.client("organiser")
    page = await staff.get(town.url(f"/civic-virtue/campaigns/{campaign.id}"))
    assert "Digest of the stored votes" in page.text
    early = await post(staff, town.url(f"/civic-virtue/campaigns/{campaign.id}/award"))
    assert early.status_code == 409  # still voting
    await town.shift(campaign.id, Stage.COUNTING)
    r = await post(staff, town.url(f"/civic-virtue/campaigns/{campaign.id}/award"))
    assert r.status_code == 303
    page = await staff.get(r.headers["location"])
    assert "recount matches" in page.text
    gallery = await (make_client(town.app)).get(town.url("/civic-virtue/gallery/"))
    assert "邻居老白" in gallery.text and "居民小蔡" not in gallery.text
    detail = await staff.get(town.url(f"/civic-virtue/nominations/{bob.id}"))
    assert "Download the PDF" in detail.text


async def test_the_panel_scores_and_shortlists_only_consenting_nominees(town: Town) -> None:
    campaign = await town.campaign()
    n1 = await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    n2 = await nominate(town, campaign, "dan", "居民小蔡", "13900000003")
    await consent_to(town, n1, "bob")
    await town.shift(campaign.id, Stage.REVIEW)
    staff = await town.client("organiser")
    r = await post(staff, town.url(f"/civic-virtue/nominations/{n1.id}/score"), {"score": "101"})
    assert r.status_code == 400
    r = await post(staff, town.url(f"/civic-virtue/nominations/{n1.id}/score"), {"score": "92", "comment": "事迹感人"})
    assert r.status_code == 303
    r = await post(staff, town.url(f"/civic-virtue/nominations/{n2.id}/shortlist"), {"shortlisted": "1"})
    assert r.status_code == 409 and "not consented" in main_text(r.text)
    r = await post(staff, town.url(f"/civic-virtue/nominations/{n1.id}/shortlist"), {"shortlisted": "1"})
    assert r.status_code == 303
    r = await post(staff, town.url(f"/civic-virtue/campaigns/{campaign.id}/publish-shortlist"))
    assert r.status_code == 303
    async with town.session() as s:
        assert (await nominations.get(s, n1.id)).number == 1
    # A resident cannot shortlist.
    ann = await town.client("ann")
    assert (
        await post(ann, town.url(f"/civic-virtue/nominations/{n2.id}/shortlist"), {"shortlisted": "1"})
    ).status_code == 403


async def test_a_festival_is_published_signed_up_for_attended_and_counted(town: Town) -> None:
    staff = await town.client("organiser")
    start = datetime.now(UTC) + timedelta(minutes=30)
    r = await post(
        staff,
        town.url("/civic-virtue/activities/"),
        {
            "title": "第三届双安邻里节",
            "kind": "festival",
            "node_id": str(town.nodes["c1"].id),
            "starts_at": to_local_input(start),
            "ends_at": to_local_input(start - timedelta(hours=1)),
            "place": "社区广场",
        },
    )
    assert r.status_code == 400 and "ends after it starts" in main_text(r.text)
    r = await post(
        staff,
        town.url("/civic-virtue/activities/"),
        {
            "title": "第三届双安邻里节",
            "kind": "festival",
            "node_id": str(town.nodes["c1"].id),
            "starts_at": to_local_input(start),
            "ends_at": to_local_input(start + timedelta(hours=3)),
            "place": "社区广场",
            "units": "双滦区税务局\n承德银行双安支行",
        },
    )
    assert r.status_code == 303
    event_url = r.headers["location"]
    ann = await town.client("ann")
    assert (await post(ann, event_url + "/signup")).status_code == 303
    sheet = await staff.get(event_url)
    assert "居民安安" in sheet.text
    async with town.session() as s:
        from sqlalchemy import select

        from plugins.civic_virtue.models import CommunityEvent

        ev = (await s.execute(select(CommunityEvent))).scalars().one()
    r = await post(staff, event_url + "/check-in", {"user_id": str(town.users["ann"])})
    assert r.status_code == 303
    r = await post(staff, event_url + "/after", {"headcount": "0", "units": "", "summary": ""})
    assert r.status_code == 400  # one person checked in: the headcount is at least 1
    r = await post(
        staff, event_url + "/after", {"headcount": "320", "units": "双滦区税务局", "summary": "包饺子、文艺汇演"}
    )
    assert r.status_code == 303
    listing = await staff.get(town.url("/civic-virtue/activities/"))
    assert "320" in listing.text and ev.kind == "festival"
    home = await staff.get(town.url("/civic-virtue/"))
    assert "双安社区" in main_text(home.text)


async def test_themed_places_are_on_the_tree_and_the_map(town: Town) -> None:
    staff = await town.client("organiser")
    r = await post(
        staff,
        town.url("/civic-virtue/places/"),
        {
            "kind": "stairwell",
            "name": "孝老爱亲主题楼道",
            "node_id": str(town.nodes["g1"].id),
            "lon": "200",
            "lat": "40",
        },
    )
    assert r.status_code == 400 and "not in China" in main_text(r.text)
    r = await post(
        staff,
        town.url("/civic-virtue/places/"),
        {
            "kind": "stairwell",
            "name": "孝老爱亲主题楼道",
            "node_id": str(town.nodes["g1"].id),
            "lon": "117.70",
            "lat": "40.95",
        },
    )
    assert r.status_code == 303
    other = await town.client("other")  # another community cannot place things in ours
    r = await post(
        other, town.url("/civic-virtue/places/"), {"kind": "park", "name": "x", "node_id": str(town.nodes["g1"].id)}
    )
    assert r.status_code == 400
    page = await make_client(town.app).get(town.url("/civic-virtue/places/"))
    assert page.status_code == 200 and "孝老爱亲主题楼道" in page.text and '"coordinates": [117.7, 40.95]' in page.text
    assert re.search(r"/(static|assets/[0-9a-f]{12})/vendor/leaflet/leaflet\.js", page.text)


async def test_the_api_nominates_consents_votes_and_withdraws(town: Town) -> None:
    from tests.civic_virtue.test_api import bearer

    campaign = await town.campaign()
    async with town.session() as s:
        cats = await campaigns.categories(s, campaign.id)
    ann = await bearer(town, "ann")
    r = await ann.post(
        town.url(f"/api/v1/civic-virtue/campaigns/{campaign.id}/nominations"),
        json={
            "category_id": str(cats[0].id),
            "nominee_name": "邻居老白",
            "nominee_phone": "13900000002",
            "node_id": str(town.nodes["g1"].id),
            "headline": "照顾独居老人",
            "story": STORY,
        },
    )
    assert r.status_code == 201 and r.json()["consent_asked_of_account"] is True
    nid = r.json()["id"]
    bob = await bearer(town, "bob")
    assert (await bob.get(town.url("/api/v1/civic-virtue/nominations/mine"))).json()["of_me"][0]["consent"] is False
    assert (await ann.post(town.url(f"/api/v1/civic-virtue/nominations/{nid}/consent"))).status_code == 404
    assert (await bob.post(town.url(f"/api/v1/civic-virtue/nominations/{nid}/consent"))).status_code == 200
    async with town.tx("organiser") as s:
        n = await nominations.get(s, int(nid))
        assert isinstance(n, Nomination)
    await town.shift(campaign.id, Stage.REVIEW)
    async with town.tx("organiser") as s:
        from plugins.civic_virtue import review

        await review.set_shortlisted(s, await nominations.get(s, int(nid)), True)
        await review.publish_shortlist(s, await campaigns.get(s, campaign.id))
    r = await ann.post(
        town.url(f"/api/v1/civic-virtue/campaigns/{campaign.id}/votes"),
        json={"category_id": str(cats[0].id), "nomination_ids": [nid]},
    )
    assert r.status_code == 409  # 公示 first: not yet voting
    await town.shift(campaign.id, Stage.VOTING)
    r = await ann.post(
        town.url(f"/api/v1/civic-virtue/campaigns/{campaign.id}/votes"),
        json={"category_id": str(cats[0].id), "nomination_ids": [nid]},
    )
    assert r.status_code == 201
    r = await ann.get(town.url(f"/api/v1/civic-virtue/campaigns/{campaign.id}"))
    assert r.json()["categories"][0]["candidates"][0]["name"] == "邻居老白"
    assert (await bob.delete(town.url(f"/api/v1/civic-virtue/nominations/{nid}/consent"))).status_code == 200
    r = await ann.get(town.url(f"/api/v1/civic-virtue/campaigns/{campaign.id}"))
    assert r.json()["categories"][0]["candidates"] == []
    bad = await ann.post(town.url(f"/api/v1/civic-virtue/campaigns/{campaign.id}/votes"), json={"nope": 1})
    assert bad.status_code == 400 and "category_id" in bad.json()["detail"]


async def test_the_dashboard_node_figures_and_my_page_carry_the_pillar(town: Town) -> None:
    from core.pluginhost import glance

    campaign = await town.campaign()
    await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    staff = await town.client("organiser")
    home = await staff.get(town.url("/"))
    assert home.status_code == 200 and 'data-testid="cv-running"' in home.text
    node_page = await staff.get(town.url(f"/grid/{town.nodes['c1'].id}"))
    assert node_page.status_code == 200 and "Culture and virtue" in node_page.text
    host = town.app.state.plugins
    async with town.session() as s:
        mine = await glance.my_page(host, {"civic_virtue"}, None, town.users["ann"], s)
        figures = await glance.node_figures(host, {"civic_virtue"}, None, town.nodes["c1"], s)
        nobody = await glance.my_page(host, {"civic_virtue"}, None, town.users["dan"], s)
    section = next(p.item for p in mine if p.plugin == "civic_virtue")
    assert [f.value for f in section.figures][:2] == [1, 0]
    running = next(p.item for p in figures if p.plugin == "civic_virtue" and p.item.label_en == "Campaigns running")
    assert running.value == 1
    assert not [p for p in nobody if p.plugin == "civic_virtue"]


async def test_a_resident_objects_during_the_public_notice_and_staff_answer(town: Town) -> None:
    from tests.civic_virtue.test_api import bearer

    campaign, _people = await shortlisted_campaign(town)
    dan = await town.client("dan")
    url = town.url(f"/civic-virtue/campaigns/{campaign.id}/objections")
    early = await post(dan, url, {"body": "事迹不实"})
    assert early.status_code == 409  # still in review: the notice is not up yet
    await town.shift(campaign.id, Stage.PUBLICITY)
    assert "Raise an objection" in (await dan.get(town.url(f"/civic-virtue/campaigns/{campaign.id}/vote"))).text
    assert (await post(dan, url, {"body": "  "})).status_code == 400
    assert (await post(dan, url, {"body": "其中一位候选人的事迹有夸大"})).status_code == 303
    api = await bearer(town, "ann")
    r = await api.post(town.url(f"/api/v1/civic-virtue/campaigns/{campaign.id}/objections"), json={"body": "请核实"})
    assert r.status_code == 201
    staff = await town.client("organiser")
    page = await staff.get(town.url(f"/civic-virtue/campaigns/{campaign.id}"))
    assert page.text.count('data-testid="objection"') == 2
    async with town.session() as s:
        from core.services import notices

        first = (await notices.objections(s, campaign.shortlist_notice_id))[0]
    r = await post(
        staff,
        town.url(f"/civic-virtue/campaigns/{campaign.id}/objections/{first.id}/answer"),
        {"answer": "经核实，事迹属实。"},
    )
    assert r.status_code == 303
    assert "经核实，事迹属实。" in (await staff.get(town.url(f"/civic-virtue/campaigns/{campaign.id}"))).text
    await town.shift(campaign.id, Stage.VOTING)
    assert (await post(dan, url, {"body": "晚了"})).status_code == 409
