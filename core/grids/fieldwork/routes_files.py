"""Who may open a visit's photos: the worker who made the visit, and those who may read field work
where the household is (``file_access`` of a core helper, as a plugin would answer for its files)."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy import select

from core.grids.fieldwork.models import Visit
from core.grids.fieldwork.service import VISIT_FILES
from core.pluginhost.markers import hookimpl
from core.web.context import ctx


class FieldworkFiles:
    __liuzhi_name__ = "core.fieldwork"

    @hookimpl
    async def file_access(self, request: Request, file: Any) -> bool | None:
        if file.owner_type != VISIT_FILES:
            return None
        c = ctx(request)
        if c.db is None or c.user is None or not str(file.owner_id or "").isdigit():
            return False
        visit = (await c.db.execute(select(Visit).where(Visit.id == int(file.owner_id)))).scalar_one_or_none()
        if visit is None:
            return False
        return visit.user_id == c.user.id or c.can("core.field.view", visit.node_path)
