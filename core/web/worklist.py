"""Core's own lines of the worklist dashboard, contributed through ``worklist_items`` like a
plugin's (always on): account links waiting for a decision, and imports of mine that finished
this week."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.db.base import utcnow
from core.pluginhost.manifest import WorkItem
from core.pluginhost.markers import hookimpl
from core.rbac.scope import in_scope
from core.web.context import ctx


class CoreWorklist:
    __liuzhi_name__ = "core.worklist"

    @hookimpl
    async def worklist_items(self, request: Any, session: Any) -> list[WorkItem]:
        from core.imports.models import DONE, FAILED, ImportRun
        from core.services.accounts.models import LINK_PENDING, AccountLink

        c = ctx(request)
        if c.user is None:
            return []
        items = []
        if c.can("core.account.link"):
            links = await session.scalar(
                select(func.count())
                .select_from(AccountLink)
                .where(
                    AccountLink.status == LINK_PENDING,
                    in_scope(AccountLink.node_path, c.scope_prefixes("core.account.link")),
                )
            )
            items.append(
                WorkItem("待确认账号关联", "Account links to confirm", int(links or 0), "/accounts/links", order=80)
            )
        if c.can("core.grid.import"):
            week = utcnow() - timedelta(days=7)
            runs = await session.execute(
                select(ImportRun.status, func.count())
                .where(
                    ImportRun.user_id == c.user.id, ImportRun.finished_at >= week, ImportRun.status.in_((DONE, FAILED))
                )
                .group_by(ImportRun.status)
            )
            by = {status: n for status, n in runs.all()}
            items.append(
                WorkItem("本周完成的导入", "Imports finished this week", int(by.get(DONE, 0)), "/import/", "info", 90)
            )
            items.append(
                WorkItem(
                    "本周失败的导入", "Imports failed this week", int(by.get(FAILED, 0)), "/import/", "overdue", 90
                )
            )
        return items
