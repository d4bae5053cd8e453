"""The audit log: every write through the ORM is recorded, sensitive values masked, rows append-only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from core.audit.models import AuditEntry
from core.db.context import Actor
from core.identity.models import User
from core.tenancy.service import ensure_user
from tests.conftest import PG_URL


async def test_creating_and_changing_a_row_is_logged_with_actor_and_changes(app: Any, fresh_tenant: Any) -> None:
    db = app.state.db
    actor = Actor("user", 42, "li.secretary")
    async with db.transaction(fresh_tenant.id, actor) as s:
        user, _ = await ensure_user(s, "zhao", "赵", "password-1", None, None)
    async with db.transaction(fresh_tenant.id, actor) as s:
        row = await s.get(User, (fresh_tenant.id, user.id))
        row.display_name = "赵四"
    async with db.session(fresh_tenant.id) as s:
        entries = (
            (await s.execute(select(AuditEntry).where(AuditEntry.object_id == str(user.id)).order_by(AuditEntry.at)))
            .scalars()
            .all()
        )
    assert [e.action for e in entries] == ["users.create", "users.update"]
    created, updated = entries
    assert created.actor_name == "li.secretary" and created.actor_id == 42
    assert created.changes["password_hash"] == "***"  # sensitive columns are never copied into the log
    assert updated.changes == {"display_name": ["赵", "赵四"]}


async def test_a_failed_transaction_leaves_no_audit_entry(app: Any, fresh_tenant: Any) -> None:
    db = app.state.db
    with pytest.raises(RuntimeError):
        async with db.transaction(fresh_tenant.id) as s:
            await ensure_user(s, "ghost", "鬼", "password-1", None, None)
            raise RuntimeError("form failed half way")
    async with db.session(fresh_tenant.id) as s:
        assert (await s.execute(select(User).where(User.username == "ghost"))).first() is None
        actions = (await s.execute(select(AuditEntry.object_type))).scalars().all()
    assert "users" not in actions


async def test_audit_entries_cannot_be_updated(app: Any, fresh_tenant: Any) -> None:
    db = app.state.db
    async with db.transaction(fresh_tenant.id) as s:
        await ensure_user(s, "qian", "钱", "password-1", None, None)
    with pytest.raises(DBAPIError, match=r"append-only|permission denied"):
        async with db.transaction(fresh_tenant.id, no_audit=True) as s:
            await s.execute(update(AuditEntry).values(action="forged"))


@pytest.mark.skipif(not PG_URL, reason="the app role's privileges are PostgreSQL's")
async def test_the_app_role_cannot_delete_audit_entries(app: Any, fresh_tenant: Any) -> None:
    db = app.state.db
    with pytest.raises(DBAPIError, match="permission denied"):
        async with db.transaction(fresh_tenant.id) as s:
            await s.execute(text("DELETE FROM audit_log"))


async def test_each_tenant_sees_only_its_own_audit_log(app: Any, fresh_tenant: Any) -> None:
    db = app.state.db
    async with db.transaction(fresh_tenant.id) as s:
        await ensure_user(s, "sun", "孙", "password-1", None, None)
    async with db.session(fresh_tenant.id) as s:
        tenants = set((await s.execute(select(AuditEntry.tenant_id))).scalars())
    assert tenants == {fresh_tenant.id}
