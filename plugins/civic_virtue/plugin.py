"""文化德治 — culture and virtue. The table of contents of the plugin: manifest and hook implementations.

campaigns.py    评选 campaigns, their categories and the stage a campaign is in (stages.py: the rule)
nominations.py  nominations and the nominee's consent (core.services.consent gates every public page)
review.py       panel scores, the shortlist and its 公示 (core.services.notices), the ballots
voting.py       the public vote (core.services.ballots), count, anomalies, award and certificates
festivals.py    邻里节 and co-building activities (core.services.activities) with headcounts and units
places.py       themed stairwells and parks on the tree and the map
routes/         staff pages, public pages (gallery, vote), the JSON API
demo.py         双滦区's demo data
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request

from core import hookimpl
from core.pluginhost.manifest import Action, Figure, Manifest, MenuItem, MySection, Panel, Widget
from core.web.context import ctx
from core.web.render import render_string

NAME = "civic_virtue"
VIEW = f"{NAME}.view"
MANAGE = f"{NAME}.campaign.manage"
REVIEW = f"{NAME}.campaign.review"
NOMINATE = f"{NAME}.nominate"
VOTE = f"{NAME}.vote"
ACTIVITIES = f"{NAME}.activity.manage"
PLACES = f"{NAME}.place.manage"


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    """Local practice, per district (msgspec-validated; the admin form is generated from these fields)."""

    publicity_days: Annotated[
        int, msgspec.Meta(ge=1, le=30, title="公示期至少（天） Public notice at least (days)")
    ] = 7
    votes_per_resident: Annotated[
        int, msgspec.Meta(ge=1, le=10, title="每类默认可投票数 Default votes per category")
    ] = 1
    voter_rule: Annotated[
        str, msgspec.Meta(max_length=100, title="默认投票资格 Default voters (everyone / residents / role:<code>)")
    ] = "residents"
    household_vote_alert: Annotated[
        int, msgspec.Meta(ge=1, le=50, title="同户投票预警（票） Alert above votes from one household")
    ] = 3
    burst_vote_alert: Annotated[
        int, msgspec.Meta(ge=5, le=100000, title="集中投票预警（票/分钟） Alert above votes per minute")
    ] = 60
    # Points for a winner go through the district's points rules (core ledger); empty = none.
    award_points_rule: Annotated[
        str, msgspec.Meta(max_length=64, title="获奖积分规则代码 Points rule for winners (empty: no points)")
    ] = ""
    award_points: Annotated[int, msgspec.Meta(ge=0, le=100000, title="获奖积分 Points per winner")] = 0


_COMMUNITY = ("community_secretary", "community_worker")
_STAFF = ("subdistrict_officer", *_COMMUNITY, "grid_leader", "grid_worker")

MANIFEST = Manifest(
    name=NAME,
    pillar="文化德治",
    title_zh="文化德治",
    title_en="Culture and virtue",
    version="1.0.0",
    description_zh="榜样评选（提名、评审、公示、投票、表彰）、邻里节与共建活动、主题楼道与公园",
    description_en="Role-model campaigns (nominate, review, notice, vote, award), festivals, themed places",
    settings=Settings,
    icon="文",
    actions=(
        Action(VIEW, "查看文化德治", "View culture and virtue", _STAFF),
        Action(MANAGE, "组织评选活动", "Organise campaigns", ("subdistrict_officer", "community_secretary")),
        Action(REVIEW, "评审与入围", "Review and shortlist", ("subdistrict_officer", "community_secretary")),
        Action(NOMINATE, "提名榜样", "Nominate a role model", (*_STAFF, "resident", "volunteer", "building_head")),
        Action(VOTE, "参与评选投票", "Vote in campaigns", ("resident", "volunteer")),
        Action(ACTIVITIES, "组织邻里节与共建活动", "Organise festivals and activities", _COMMUNITY),
        Action(PLACES, "维护主题楼道与公园", "Keep themed places", _COMMUNITY),
    ),
)


@hookimpl
def plugin_manifest() -> Manifest:
    return MANIFEST


@hookimpl
def register_models() -> list[Any]:
    from plugins.civic_virtue.models import MODELS

    return list(MODELS)


@hookimpl
def register_migrations() -> Path:
    return Path(__file__).parent / "migrations"


@hookimpl
def register_routes() -> list[Any]:
    from plugins.civic_virtue.routes import api, campaigns, festivals, places, public

    return [
        *campaigns.handlers,  # staff: campaigns, nominations, review, shortlist, count, anomalies, award
        *public.handlers,  # residents: nominate, consent, vote, the role-model gallery
        *festivals.handlers,  # 邻里节 and co-building activities
        *places.handlers,  # themed places, their map
        *api.handlers,  # /api/v1/civic-virtue/… for a mini-program
    ]


@hookimpl
async def file_access(request: Request, file: Any) -> bool | None:
    """Nomination photos: staff in scope, the nominator and the nominee; anyone only while the
    nominee is public (shortlisted or awarded, consent in force). Event and place photos: public."""
    from plugins.civic_virtue import festivals, nominations, places

    if file.owner_type in (festivals.PHOTO_OWNER, places.PHOTO_OWNER):
        return True
    if file.owner_type != nominations.PHOTO_OWNER:
        return None
    c = ctx(request)
    if c.db is None or not file.owner_id:
        return False
    try:
        nomination = await nominations.get(c.db, int(file.owner_id))
    except (nominations.NotFound, ValueError):
        return False
    if c.user is not None and (nominations.who_may_act(nomination, c.user.id) or c.can(VIEW, nomination.node_path)):
        return True
    return await nominations.is_public(c.db, nomination)


@hookimpl
async def demo_data(tenant: Any, session: Any, nodes: Any, storage: Any) -> None:
    from plugins.civic_virtue import demo

    await demo.seed(session, tenant, nodes, storage=storage)


@hookimpl
async def usage_figures(session: Any) -> dict[str, int]:
    from plugins.civic_virtue import glance

    return await glance.usage(session)


@hookimpl
def menu_items(request: Request) -> list[MenuItem]:
    return [
        MenuItem("文化德治", "Culture and virtue", "/civic-virtue/", VIEW, "文", 60),
        MenuItem("榜样评选", "Role-model campaigns", "/civic-virtue/take-part/", (NOMINATE, VOTE), "榜", 61),
        MenuItem("榜样风采", "Role-model gallery", "/civic-virtue/gallery/", None, "星", 62),
    ]


@hookimpl
async def dashboard_widgets(request: Request) -> list[Widget]:
    c = ctx(request)
    if not c.can(VIEW) or c.db is None:
        return []
    from plugins.civic_virtue import glance

    figures = await glance.area(c.db, c.scope_prefixes(VIEW))
    html = render_string(request, "civic_virtue/widget.html", {"f": figures})
    return [Widget("文化德治", "Culture and virtue", html, 60, "/civic-virtue/")]


@hookimpl
async def node_figures(request: Request, node: Any, session: Any) -> list[Figure]:
    from plugins.civic_virtue import glance

    f = await glance.area(session, [node.path])
    return [
        Figure("进行中的评选", "Campaigns running", f.campaigns_running, "项", "", "/civic-virtue/", 60),
        Figure("今年投票", "Votes this year", f.votes, "票", "", "/civic-virtue/", 61),
        Figure("今年活动", "Activities this year", f.events, "场", "", "/civic-virtue/activities/", 62),
        Figure("今年参与", "Participants this year", f.participants, "人次", "", "/civic-virtue/activities/", 63),
        Figure("主题楼道与公园", "Themed places", f.places, "处", "", "/civic-virtue/places/", 64),
    ]


@hookimpl
async def node_panels(request: Request, node: Any) -> list[Panel]:
    c = ctx(request)
    if c.db is None or not c.can(VIEW, node.path):
        return []
    from plugins.civic_virtue import glance

    f = await glance.area(c.db, [node.path])
    html = render_string(request, "civic_virtue/widget.html", {"f": f})
    return [Panel("文化德治", "Culture and virtue", html, 60)]


@hookimpl
async def my_page(request: Request, user_id: int, session: Any) -> MySection | None:
    from plugins.civic_virtue import glance

    mine = await glance.mine(session, user_id)
    if not any(mine.values()):
        return None
    figures = (
        Figure("我的提名", "My nominations", mine["nominated"], "项", "", "/civic-virtue/take-part/"),
        Figure("提名我的", "Nominations of me", mine["about_me"], "项", "", "/civic-virtue/take-part/"),
        Figure("我的评选投票", "My campaign votes", mine["votes"], "票", "", "/civic-virtue/take-part/"),
    )
    return MySection("榜样评选", "Role-model campaigns", figures, href="/civic-virtue/take-part/", order=60)


@hookimpl
async def worklist_items(request: Request, session: Any) -> list[Any]:
    from plugins.civic_virtue import worklist

    return await worklist.items(request, session, REVIEW)


@hookimpl
def audit_terms() -> dict[str, Any]:
    """How the district's audit log names this pillar's records (people's names masked)."""
    from core.pluginhost.manifest import AuditTerm

    return {
        "cv_campaigns": AuditTerm("评选活动", "campaign", label="title"),
        "cv_nominations": AuditTerm("提名", "nomination", label="nominee_name", mask=True),
        "cv_places": AuditTerm("主题阵地", "place", label="name"),
        "cv_categories": AuditTerm("评选类别", "category", label="name"),
    }
