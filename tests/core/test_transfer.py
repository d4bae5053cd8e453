"""Export → delete → import keeps every value of a tenant, typed columns included."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core.db.base import new_id
from core.db.engine import Database
from core.grids import people
from core.grids.basedata import Household, Resident
from core.grids.models import GridNode
from core.tenancy.service import delete_tenant, get_tenant
from core.tenancy.transfer import export_tenant, import_tenant


async def test_dates_decimals_and_encrypted_values_survive_a_round_trip(app: Any, fresh_tenant: Any) -> None:
    db, vault = app.state.db, app.state.vault
    async with db.transaction(fresh_tenant.id) as s:
        node = GridNode(id=new_id(), code="h101", kind="household", name="101", depth=0)
        node.path = f"/{node.id}/"
        s.add(node)
        await s.flush()
        s.add(Household(node_id=node.id, node_path=node.path, floor_area=Decimal("89.55")))
        data = people.clean_resident({"name": "孙八", "id_number": "11010519491231002X", "phone": "13912345678"})
        await people.upsert_resident(s, vault, data, node, "户主", date(2021, 3, 4))
    blob = await export_tenant(db, fresh_tenant.slug, app.state.storage)
    owner = Database(app.state.settings.owner_url)
    try:
        await delete_tenant(db, owner, await get_tenant(db, fresh_tenant.slug))
    finally:
        await owner.dispose()
    tenant = await import_tenant(db, blob, app.state.storage)
    async with db.session(tenant.id) as s:
        hh = (await s.execute(select(Household))).scalar_one()
        resident = (await s.execute(select(Resident))).scalar_one()
        found = await people.find_by_id_number(s, vault, "11010519491231002X")
    assert hh.floor_area == Decimal("89.55")
    assert resident.birth_date == date(1949, 12, 31) and resident.name == "孙八"
    assert found is not None and await people.reveal(s, vault, resident, "phone") == "13912345678"
