"""Tenancy: the ORM filter, insert stamping, RLS behind raw SQL, resolution by prefix/host/domain."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Request, get
from sqlalchemy import select, text

from core import hookimpl
from core.app import create_app
from core.db.tenant_filter import TenantViolation
from core.identity.models import User
from core.tenancy.models import Tenant
from core.web.context import ctx as request_ctx
from core.web.guards import signed_in as signed_in_guard
from tests.conftest import PG_URL, login, make_client


async def tenant_id(db: Any, slug: str) -> int:
    async with db.session(None) as s:
        return (await s.execute(select(Tenant.id).where(Tenant.slug == slug))).scalar_one()


async def test_orm_queries_see_only_the_bound_tenant(db: Any) -> None:
    sl, lp = await tenant_id(db, "shuangluan"), await tenant_id(db, "luanping")
    async with db.session(sl) as s:
        tenants = set((await s.execute(select(User.tenant_id))).scalars())
    assert tenants == {sl}
    async with db.session(lp) as s:
        names = set((await s.execute(select(User.username))).scalars())
        tenants = set((await s.execute(select(User.tenant_id))).scalars())
    assert tenants == {lp} and "admin" in names


async def test_no_tenant_bound_sees_no_tenant_rows(db: Any) -> None:
    async with db.session(None) as s:
        assert (await s.execute(select(User))).scalars().all() == []


async def test_insert_is_stamped_and_another_tenants_insert_refused(db: Any) -> None:
    sl, lp = await tenant_id(db, "shuangluan"), await tenant_id(db, "luanping")
    with pytest.raises(TenantViolation):
        async with db.transaction(sl) as s:
            s.add(User(tenant_id=lp, username="intruder", display_name="x", password_hash="x"))
    async with db.session(lp) as s:
        assert (await s.execute(select(User).where(User.username == "intruder"))).first() is None


async def test_get_by_key_of_another_tenant_finds_nothing(db: Any) -> None:
    sl, lp = await tenant_id(db, "shuangluan"), await tenant_id(db, "luanping")
    async with db.session(lp) as s:
        lp_admin = (await s.execute(select(User).where(User.username == "admin"))).scalar_one()
    async with db.session(sl) as s:
        found = (await s.execute(select(User).where(User.id == lp_admin.id))).scalar_one_or_none()
    assert found is None


@pytest.mark.skipif(not PG_URL, reason="row-level security is PostgreSQL's")
async def test_raw_sql_in_a_tenant_transaction_sees_only_that_tenant(db: Any) -> None:
    """The ORM filter does not cover text(); RLS is the second wall."""
    sl = await tenant_id(db, "shuangluan")
    async with db.session(sl) as s:
        rows = (await s.execute(text("SELECT DISTINCT tenant_id FROM users"))).scalars().all()
    assert rows == [sl]
    async with db.session(None) as s:
        assert (await s.execute(text("SELECT count(*) FROM users"))).scalar_one() == 0


@pytest.mark.skipif(not PG_URL, reason="row-level security is PostgreSQL's")
async def test_raw_insert_for_another_tenant_is_refused_by_rls(db: Any) -> None:
    from sqlalchemy.exc import DBAPIError

    sl, lp = await tenant_id(db, "shuangluan"), await tenant_id(db, "luanping")
    with pytest.raises(DBAPIError, match="row-level security"):
        async with db.transaction(sl) as s:
            await s.execute(
                text(
                    "INSERT INTO users (tenant_id, id, username, display_name, password_hash, is_active, created_at)"
                    " VALUES (:t, 1, 'x', 'x', 'x', true, now())"
                ),
                {"t": lp},
            )


@pytest.mark.skipif(not PG_URL, reason="row-level security is PostgreSQL's")
async def test_tenant_setting_does_not_leak_through_the_pool(db: Any) -> None:
    sl = await tenant_id(db, "shuangluan")
    for _ in range(3):
        async with db.session(sl) as s:
            await s.execute(text("SELECT 1 FROM users LIMIT 1"))
        async with db.session(None) as s:
            assert (await s.execute(text("SELECT count(*) FROM users"))).scalar_one() == 0


class RawSqlProbe:
    """A helper plugin (no manifest, so always mounted) whose route runs raw SQL."""

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/_probe", guards=[signed_in_guard])
        async def probe(request: Request) -> dict[str, Any]:
            c = request_ctx(request)
            rows = (await c.db.execute(text("SELECT DISTINCT tenant_id FROM users"))).scalars().all()
            return {"rows": list(rows), "tenant": c.tenant.id}

        return [probe]


async def test_a_request_of_tenant_a_that_runs_raw_sql_sees_only_a(migrated: Any) -> None:
    application = create_app(migrated, extra_plugins=[RawSqlProbe()])
    async with application.lifespan(), make_client(application) as client:
        assert (await login(client, "luanping", "admin")).status_code == 303
        r = await client.get("/t/luanping/_probe")
    assert r.status_code == 200
    body = r.json()
    if PG_URL:
        assert body["rows"] == [body["tenant"]]
    else:
        # SQLite has no RLS: raw SQL is on its own there; the ORM filter is the only wall.
        assert body["tenant"] in body["rows"]


async def test_unknown_tenant_is_404(client: Any) -> None:
    assert (await client.get("/t/no-such-district/")).status_code == 404
    assert (await client.get("/t/no-such-district/login")).status_code == 404


async def test_tenant_by_subdomain_of_the_base_domain(app: Any) -> None:
    async with make_client(app, host="shuangluan.liuzhi.test") as c:
        r = await c.get("/login")
    assert r.status_code == 200 and "双滦区" in r.text


async def test_tenant_by_custom_domain(app: Any, db: Any) -> None:
    from core.tenancy.models import TenantDomain

    sl = await tenant_id(db, "shuangluan")
    async with db.transaction(None) as s:
        s.add(TenantDomain(host="gov.shuangluan.example", tenant_id=sl))
    app.state.tenant_cache.clear()
    async with make_client(app, host="gov.shuangluan.example") as c:
        r = await c.get("/login")
    assert r.status_code == 200 and "双滦区" in r.text
    async with make_client(app, host="unknown.example") as c:
        assert (await c.get("/login")).status_code == 404
