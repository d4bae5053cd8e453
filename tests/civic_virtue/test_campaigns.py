"""A campaign through its stages on the services: nominate, consent, review, 公示 with an
objection, the public vote (one per category, refused outside the period, reproducible tally),
award with certificates, and withdrawal of consent taking a winner off every public list."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select

from core.db.engine import Database
from core.rbac.models import RoleAssignment
from core.services import ballots, consent, notices
from core.services.ballots.models import BallotCast
from core.services.errors import Conflict, InvalidInput
from plugins.civic_virtue import campaigns, nominations, review, voting
from plugins.civic_virtue.models import SHORTLISTED, WINNER, Nomination
from plugins.civic_virtue.stages import Stage
from tests.civic_virtue.conftest import Town
from tests.conftest import PG_URL

STORY = "多年来义务照顾楼里的独居老人，每天上门送饭、陪聊，风雨无阻。"


async def nominate(town: Town, campaign: Any, by: str, name: str, phone: str = "", category: int = 0) -> Nomination:
    async with town.tx(by) as s:
        cats = await campaigns.categories(s, campaign.id)
        return await nominations.nominate(
            s,
            town.vault,
            campaign,
            nominations.NominationInput(
                category_id=cats[category].id,
                nominee_name=name,
                headline="照顾独居老人十年",
                story=STORY,
                node=town.nodes["g1"],
                nominee_phone=phone,
            ),
            by_user_id=town.users[by],
        )


async def consent_to(town: Town, nomination: Nomination, who: str) -> None:
    async with town.tx(who) as s:
        await nominations.give_consent(s, await nominations.get(s, nomination.id), user_id=town.users[who])


async def reload(town: Town, campaign_id: int) -> Any:
    async with town.session() as s:
        return await campaigns.get(s, campaign_id)


async def shortlisted_campaign(town: Town, **kw: Any) -> tuple[Any, list[Nomination]]:
    """A 道德模范 campaign with bob and cat shortlisted in 助人为乐 and the shortlist published."""
    campaign = await town.campaign(Stage.NOMINATION, **kw)
    bob = await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    cat = await nominate(town, campaign, "dan", "居民小蔡", "13900000003")
    await consent_to(town, bob, "bob")
    await consent_to(town, cat, "cat")
    await town.shift(campaign.id, Stage.REVIEW)
    async with town.tx("organiser") as s:
        for n in (bob, cat):
            await review.set_shortlisted(s, await nominations.get(s, n.id), True)
        await review.publish_shortlist(s, await campaigns.get(s, campaign.id))
    return await reload(town, campaign.id), [bob, cat]


async def test_the_moral_model_campaign_comes_with_its_five_categories(town: Town) -> None:
    campaign = await town.campaign()
    async with town.session() as s:
        names = [c.name for c in await campaigns.categories(s, campaign.id)]
    assert names == ["助人为乐", "见义勇为", "诚实守信", "敬业奉献", "孝老爱亲"]


async def test_a_public_notice_shorter_than_the_district_minimum_is_refused(town: Town) -> None:
    from tests.civic_virtue.conftest import periods_for

    p = periods_for(Stage.NOMINATION, publicity_days=3)
    with pytest.raises(InvalidInput) as e:
        await town.campaign(periods=p)
    assert e.value.field == "publicity_closes_at"


async def test_nominations_are_refused_before_and_after_the_nomination_period(town: Town) -> None:
    early = await town.campaign(Stage.UPCOMING)
    with pytest.raises(Conflict):
        await nominate(town, early, "ann", "邻居老白")
    late = await town.campaign(Stage.REVIEW, title="已截止的评选")
    with pytest.raises(Conflict):
        await nominate(town, late, "ann", "邻居老白")


async def test_the_nominees_phone_finds_their_account_and_nobody_is_public_before_consent(town: Town) -> None:
    campaign = await town.campaign()
    n = await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    assert n.nominee_user_id == town.users["bob"]
    assert n.nominee_phone_masked and "13900000002" not in n.nominee_phone_masked
    async with town.session() as s:
        n = await nominations.get(s, n.id)
        n.status = SHORTLISTED  # even shortlisted, without consent nothing is shown
        assert await nominations.publishable(s, [n]) == []
        await s.rollback()


async def test_only_the_nominee_can_consent_online(town: Town) -> None:
    campaign = await town.campaign()
    n = await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    with pytest.raises(Exception) as e:
        await consent_to(town, n, "cat")
    assert getattr(e.value, "status", None) == 404
    await consent_to(town, n, "bob")
    async with town.session() as s:
        assert await consent.current(s, ("user", town.users["bob"]), nominations.PURPOSE) is not None


async def test_a_nominee_without_consent_cannot_be_shortlisted(town: Town) -> None:
    campaign = await town.campaign()
    n = await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    await town.shift(campaign.id, Stage.REVIEW)
    async with town.tx("organiser") as s:
        with pytest.raises(Conflict):
            await review.set_shortlisted(s, await nominations.get(s, n.id), True)


async def test_the_shortlist_goes_on_the_notice_board_and_objections_are_answered(town: Town) -> None:
    campaign, (bob, _cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.PUBLICITY)
    async with town.tx("dan") as s:
        board = await notices.board(s, town.nodes["g1"])
        assert [n.id for n in board] == [campaign.shortlist_notice_id]
        assert "邻居老白" in board[0].body and "1号" in board[0].body
        objection = await notices.object_to(s, campaign.shortlist_notice_id, "事迹有夸大", user_id=town.users["dan"])
    async with town.tx("organiser") as s:
        await notices.answer(s, objection.id, "经核实，事迹属实。")
        assert await notices.open_objections(s, campaign.shortlist_notice_id) == 0
    # A withdrawal takes the whole notice that names him off the board at once.
    async with town.tx("bob") as s:
        await nominations.withdraw_consent(
            s, await nominations.get(s, bob.id), user_id=town.users["bob"], channel="online"
        )
    async with town.session() as s:
        assert await notices.board(s, town.nodes["g1"]) == []


async def test_one_vote_per_voter_per_category_and_none_outside_the_vote_period(town: Town) -> None:
    campaign, (bob, cat) = await shortlisted_campaign(town)
    async with town.tx("dan") as s:  # still 公示
        with pytest.raises(Conflict):
            await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["dan"], [bob.id])
    await town.shift(campaign.id, Stage.VOTING)
    async with town.tx("dan") as s:
        await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["dan"], [bob.id])
    async with town.tx("dan") as s:
        with pytest.raises(Conflict):
            await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["dan"], [cat.id])
    async with town.tx("ann") as s:
        with pytest.raises(InvalidInput):  # one vote per category: two choices are refused
            await voting.vote(
                s, await campaigns.get(s, campaign.id), bob.category_id, town.users["ann"], [bob.id, cat.id]
            )
    await town.shift(campaign.id, Stage.COUNTING)
    async with town.tx("ann") as s:
        with pytest.raises(Conflict):
            await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["ann"], [bob.id])
    async with town.session() as s:
        counts = await voting.count(s, await campaigns.get(s, campaign.id))
    assert counts[0].votes == {bob.id: 1, cat.id: 0}


async def test_a_candidate_who_withdrew_consent_cannot_be_voted_for(town: Town) -> None:
    campaign, (bob, _cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.VOTING)
    async with town.tx("bob") as s:
        await nominations.withdraw_consent(
            s, await nominations.get(s, bob.id), user_id=town.users["bob"], channel="online"
        )
    async with town.tx("dan") as s:
        with pytest.raises(InvalidInput):
            await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["dan"], [bob.id])


async def test_voters_racing_from_two_connections_still_cast_one_vote(town: Town, app: Any) -> None:
    campaign, (bob, cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.VOTING)
    dbs = [Database(app.state.settings.database_url) for _ in range(2)] if PG_URL else [app.state.db] * 2
    outcomes: list[str] = []

    async def cast(db: Database, choice: int) -> None:
        try:
            async with db.transaction(town.tenant.id) as s:
                await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["dan"], [choice])
                await asyncio.sleep(0.02)
            outcomes.append("cast")
        except Conflict:
            outcomes.append("refused")

    try:
        for _ in range(3):
            await asyncio.gather(cast(dbs[0], bob.id), cast(dbs[1], cat.id))
    finally:
        if PG_URL:
            for db in dbs:
                await db.dispose()
    assert outcomes.count("cast") == 1 and outcomes.count("refused") == 5
    async with town.session() as s:
        category = await campaigns.category(s, campaign.id, bob.category_id)
        n = await s.scalar(
            select(func.count()).select_from(BallotCast).where(BallotCast.ballot_id == category.ballot_id)
        )
    assert n == 1


async def test_award_closes_the_vote_stores_a_reproducible_tally_and_issues_certificates(town: Town, app: Any) -> None:
    campaign, (bob, cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.VOTING)
    for voter, choice in (("ann", bob), ("dan", bob), ("cat", bob), ("bob", cat)):
        async with town.tx(voter) as s:
            await voting.vote(
                s, await campaigns.get(s, campaign.id), choice.category_id, town.users[voter], [choice.id]
            )
    await town.shift(campaign.id, Stage.COUNTING)
    async with town.tx("organiser") as s:
        result = await voting.award(
            s, await campaigns.get(s, campaign.id), storage=app.state.storage, tenant=town.tenant, base_url="http://x"
        )
    assert [w.id for w in result.winners] == [bob.id]
    async with town.session() as s:
        c = await campaigns.get(s, campaign.id)
        assert campaigns.stage(c) == Stage.AWARDED
        winner = await nominations.get(s, bob.id)
        assert winner.status == WINNER and winner.votes == 3 and winner.certificate_id is not None
        assert all((await voting.verify(s, c)).values())
        # The count is the same when it is made again from the stored rows.
        category = await campaigns.category(s, c.id, bob.category_id)
        ballot = await ballots.get(s, category.ballot_id)
        assert (await ballots.tally(s, ballot)).digest == ballot.result_digest
        board = await notices.board(s, town.nodes["g1"])
        assert any("评选结果" in n.title for n in board)


async def test_a_winner_who_withdraws_consent_leaves_the_public_lists_at_once(town: Town, app: Any) -> None:
    campaign, (bob, _cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.VOTING)
    async with town.tx("ann") as s:
        await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["ann"], [bob.id])
    await town.shift(campaign.id, Stage.COUNTING)
    async with town.tx("organiser") as s:
        await voting.award(
            s, await campaigns.get(s, campaign.id), storage=app.state.storage, tenant=town.tenant, base_url="http://x"
        )
    async with town.session() as s:
        assert [n.id for n in await nominations.publishable(s, [await nominations.get(s, bob.id)])] == [bob.id]
    async with town.tx("bob") as s:
        await nominations.withdraw_consent(
            s, await nominations.get(s, bob.id), user_id=town.users["bob"], channel="online"
        )
    async with town.session() as s:
        assert await nominations.publishable(s, [await nominations.get(s, bob.id)]) == []
        assert await notices.board(s, town.nodes["g1"]) == []


def test_a_tie_at_the_last_award_goes_to_the_panel_score_then_is_shared() -> None:
    assert voting.choose_winners([(1, 5, 80.0), (2, 5, 90.0), (3, 2, 99.0)], 1) == ([2], [])
    assert voting.choose_winners([(1, 5, 90.0), (2, 5, 90.0), (3, 2, 99.0)], 1) == ([1, 2], [1, 2])
    assert voting.choose_winners([(1, 0, 90.0)], 1) == ([], [])
    assert voting.choose_winners([(1, 3, None), (2, 4, None)], 3) == ([2, 1], [])


async def test_staff_see_many_votes_from_one_household(town: Town) -> None:
    campaign, (bob, cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.VOTING)
    for voter in ("ann", "bob"):  # one household
        async with town.tx(voter) as s:
            await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users[voter], [cat.id])
    async with town.session() as s:
        c = await campaigns.get(s, campaign.id)
        flagged = await voting.anomalies(s, c, per_household=1, per_minute=1)
        calm = await voting.anomalies(s, c, per_household=2, per_minute=2)
    kinds = sorted(a.kind for a in flagged)
    assert kinds == ["burst", "household"] and flagged[0].votes == 2
    assert calm == []


async def test_the_finest_party_member_campaign_takes_party_members_only(town: Town) -> None:
    campaign = await town.campaign(kind="party_member", title="最美共产党员")
    with pytest.raises(Conflict):
        await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    async with town.tx() as s:  # with party_leadership on, members hold this role
        s.add(
            RoleAssignment(
                user_id=town.users["bob"],
                role_code="party_member",
                node_id=town.nodes["c1"].id,
                node_path=town.nodes["c1"].path,
            )
        )
    n = await nominate(town, campaign, "ann", "邻居老白", "13900000002")
    assert n.nominee_user_id == town.users["bob"]


async def test_winners_with_an_account_earn_the_districts_award_points_once(town: Town, app: Any) -> None:
    """The award pays through the shared ledger under a district rule; a second award is refused."""
    from core.services import ledger
    from core.services.ledger.rules import save_rule, user_account

    campaign, (bob, _cat) = await shortlisted_campaign(town)
    await town.shift(campaign.id, Stage.VOTING)
    async with town.tx("ann") as s:
        await voting.vote(s, await campaigns.get(s, campaign.id), bob.category_id, town.users["ann"], [bob.id])
    await town.shift(campaign.id, Stage.COUNTING)
    async with town.tx("organiser") as s:
        await save_rule(s, code="role_model", title="评选获奖", direction="earn", max_amount=500)

    async def award() -> None:
        async with town.tx("organiser") as s:
            await voting.award(
                s,
                await campaigns.get(s, campaign.id),
                storage=app.state.storage,
                tenant=town.tenant,
                base_url="http://x",
                points=("role_model", 200),
            )

    await award()
    with pytest.raises(Conflict):
        await award()
    async with town.session() as s:
        assert await ledger.balance(s, await user_account(s, town.users["bob"])) == 200
        assert await ledger.balance(s, await user_account(s, town.users["cat"])) == 0
        assert (await ledger.check(s)).problems == []
