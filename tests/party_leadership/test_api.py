"""The member's JSON API over bearer tokens: report in, claim a post, sign up, the check-in code,
the service card and 评议 standing, claiming a project and a building; errors as JSON messages;
every route in the OpenAPI document."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from plugins.party_leadership import lists, members
from plugins.party_leadership.settings import settings_of
from tests.party_leadership.conftest import District

BASE = "/api/v1/party"


async def test_the_api_round_trip_of_a_member(district: District) -> None:
    d = district
    api = await d.api("m1")
    url = d.url(BASE)
    assert (await api.get(f"{url}/me")).json() == {"reported": False}
    nope = await api.get(f"{url}/posts")
    assert nope.status_code == 409 and nope.json()["detail"] == "Report to a community first."
    communities = (await api.get(f"{url}/communities")).json()["communities"]
    assert [c["name"] for c in communities] == ["双安社区", "御祥园社区"]
    bad = await api.post(f"{url}/report-in", json={"node_id": "x"})
    assert bad.status_code == 400 and bad.json()["field"] == "node_id"
    bad = await api.post(f"{url}/report-in", content=b"{not json", headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["detail"] == "The body is not valid JSON."
    r = await api.post(f"{url}/report-in", json={"node_id": d.nodes["sa"].id, "branch": "供电公司第一党支部"})
    assert r.status_code == 201, r.text
    assert (await api.post(f"{url}/report-in", json={"node_id": d.nodes["sa"].id})).status_code == 409
    async with d.tx("secretary") as s:
        post = await members.create_post(
            s, d.nodes["sa"], category="健康医疗", title="义诊岗", capacity=1, categories=settings_of({}).categories()
        )
        start = datetime.now(UTC) + timedelta(days=2)
        act = await members.publish_activity(
            s,
            d.nodes["sa"],
            title="义诊进社区",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            category="健康医疗",
            categories=settings_of({}).categories(),
        )
        project = await lists.create_project(s, d.nodes["sa"], title="助老送餐")
    posts = (await api.get(f"{url}/posts")).json()["posts"]
    assert [(p["title"], p["mine"]) for p in posts] == [("义诊岗", False)]
    assert (await api.post(f"{url}/posts/{post.id}/claim")).json() == {"post_id": post.id, "claimed": True}
    assert (await api.post(f"{url}/posts/{post.id}/claim")).status_code == 409
    assert (await api.post(f"{url}/posts/999999/claim")).status_code == 404
    listed = (await api.get(f"{url}/activities")).json()["activities"]
    assert [(a["title"], a["mine"]) for a in listed] == [("义诊进社区", False)]
    assert (await api.post(f"{url}/activities/{act.id}/sign-up")).status_code == 200
    assert (await api.get(f"{url}/activities")).json()["activities"][0]["mine"] is True
    code = (await api.get(f"{url}/activities/{act.id}/code")).json()["token"]
    assert code
    card = (await api.get(f"{url}/card")).json()
    assert card["hours"] == 0 and card["target_hours"] == 50 and card["lines"] == []
    me = (await api.get(f"{url}/me")).json()
    assert me["reported"] and me["posts"][0]["title"] == "义诊岗"
    assert me["standing"]["pass_mark"] == 60 and me["standing"]["hours_met"] is False and not me["standing"]["reviewed"]
    assert [p["title"] for p in (await api.get(f"{url}/projects")).json()["projects"]] == ["助老送餐"]
    assert (await api.post(f"{url}/projects/{project.id}/claim")).json()["state"] == "claimed"
    assert (await api.post(f"{url}/projects/{project.id}/claim")).status_code == 409
    r = await api.post(
        f"{url}/buildings/{d.nodes['b2'].id}/claim", json={"group_link": "https://example.cn/g", "contact": "张"}
    )
    assert r.status_code == 200
    r = await api.post(f"{url}/buildings/{d.nodes['yb1'].id}/claim", json={})
    assert r.status_code == 404


async def test_the_api_wants_a_bearer_token_and_is_documented(district: District) -> None:
    d = district
    from tests.conftest import make_client

    async with make_client(d.app) as anonymous:
        assert (await anonymous.get(d.url(f"{BASE}/me"))).status_code == 401
    m = await d.client("m1")  # a signed-in browser's cookie is not a token
    assert (await m.get(d.url(f"{BASE}/me"))).status_code == 401
    async with make_client(d.app) as anonymous:
        schema = (await anonymous.get(d.url("/api/schema/openapi.json"))).json()
    paths = set(schema["paths"])
    for path in (
        "/party/me",
        "/party/report-in",
        "/party/posts/{post_id}/claim",
        "/party/activities/{activity_id}/sign-up",
        "/party/card",
        "/party/projects/{project_id}/claim",
        "/party/buildings/{node_id}/claim",
    ):
        assert any(p.endswith(path) for p in paths), path
