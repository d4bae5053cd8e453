"""Capped counts: a list over a whole district says "10,000+" instead of reading every row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.db.base import new_id
from core.grids.models import GridNode
from core.web.pagination import paginate


async def test_a_count_stops_at_the_cap_and_says_there_are_more(app: Any, fresh_tenant: Any) -> None:
    async with app.state.db.transaction(fresh_tenant.id) as s:
        for i in range(5):
            node_id = new_id()
            s.add(GridNode(id=node_id, code=f"c{i}", kind="grid", name=f"网格{i}", depth=0, path=f"/{node_id}/"))
    async with app.state.db.session(fresh_tenant.id) as s:
        stmt = select(GridNode).order_by(GridNode.code)
        exact = await paginate(s, stmt, 1, 2)
        assert (exact.total, exact.capped, exact.total_label, exact.pages) == (5, False, "5", 3)
        at_cap = await paginate(s, stmt, 1, 2, cap=5)
        assert (at_cap.total, at_cap.capped, at_cap.total_label) == (5, False, "5")
        over = await paginate(s, stmt, 9, 2, cap=3)
        assert (over.total, over.capped, over.total_label, over.number) == (3, True, "3+", 2)
        assert [n.code for n in over.items] == ["c2", "c3"]  # the pages up to the cap still page


async def test_a_count_counts_the_rows_the_list_shows_with_joins_and_distinct(app: Any, fresh_tenant: Any) -> None:
    """The count counts rows, not columns: a join that repeats a row counts it again, DISTINCT once."""
    from sqlalchemy.orm import aliased

    async with app.state.db.transaction(fresh_tenant.id) as s:
        parents = []
        for i in range(2):
            node_id = new_id()
            parents.append(node_id)
            s.add(GridNode(id=node_id, code=f"p{i}", kind="community", name=f"社区{i}", depth=0, path=f"/{node_id}/"))
        await s.flush()
        for i in range(3):  # three grids under the first community, none under the second
            node_id = new_id()
            path = f"/{parents[0]}/{node_id}/"
            s.add(
                GridNode(
                    id=node_id, code=f"g{i}", kind="grid", name=f"网格{i}", depth=1, path=path, parent_id=parents[0]
                )
            )
    child = aliased(GridNode)
    async with app.state.db.session(fresh_tenant.id) as s:
        joined = select(GridNode).join(child, child.parent_id == GridNode.id).order_by(GridNode.code, child.code)
        page = await paginate(s, joined, 1, 10)
        assert (page.total, len(page.items)) == (3, 3)
        distinct = select(GridNode.kind).distinct().order_by(GridNode.kind)
        page = await paginate(s, distinct, 1, 10)
        assert (page.total, list(page.items)) == (2, ["community", "grid"])
