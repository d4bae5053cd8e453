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


async def test_pages_read_by_key_keep_the_order_and_the_district(app: Any, fresh_tenant: Any, districts: Any) -> None:
    """A page is taken as keys first, then rows (core.db.paging): every row once, in the list's
    order (ties by id), and never another district's rows of the same name."""
    other = await districts(app)
    names = ["王", "李", "王", "张", "李", "王", "赵"]
    for tenant_id in (fresh_tenant.id, other.tenant.id):
        async with app.state.db.transaction(tenant_id) as s:
            for i, name in enumerate(names):
                node_id = new_id()
                s.add(GridNode(id=node_id, code=f"k{i}", kind="grid", name=name, depth=0, path=f"/{node_id}/"))
    async with app.state.db.session(fresh_tenant.id) as s:
        stmt = select(GridNode).where(GridNode.code.startswith("k")).order_by(GridNode.name, GridNode.id)
        everything = (await s.execute(stmt)).scalars().all()
        assert len(everything) == len(names)
        pages = [await paginate(s, stmt, n, 3) for n in (1, 2, 3)]
        assert [len(p.items) for p in pages] == [3, 3, 1]
        assert [n.id for p in pages for n in p.items] == [n.id for n in everything]
        assert {n.tenant_id for p in pages for n in p.items} == {fresh_tenant.id}
        # A statement whose rows depend on its columns is paged as written.
        distinct = select(GridNode.name).where(GridNode.code.startswith("k")).distinct().order_by(GridNode.name)
        in_order = list(dict.fromkeys(n.name for n in everything))  # the database's collation decides
        assert (await paginate(s, distinct, 1, 2)).items == in_order[:2]
