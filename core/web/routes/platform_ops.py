"""The operator's view of one district (/platform/tenants/<slug>): usage, and its limits."""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from sqlalchemy import select

from core.appservices import app_services
from core.audit import record
from core.ops import usage
from core.ops.limits import FIELDS, limits_of, parse_limits
from core.ops.settings import MB
from core.tenancy.models import Tenant, TenantPlugin
from core.web.deps import Ctx
from core.web.forms import Form
from core.web.guards import operator_only
from core.web.render import render
from core.web.routes.platform import _tenant_or_404

log = logging.getLogger("liuzhi.platform")
AREA = {"area": "platform"}


def _defaults(request: Request) -> dict[str, int]:
    d = request.app.state.settings.ops
    return {
        "storage_quota_mb": d.storage_quota_bytes // MB,
        "upload_mb": d.upload_bytes // MB,
        "api_per_minute": d.api_per_minute,
        "open311_per_minute": d.open311_per_minute,
    }


async def _page(
    request: Request,
    tenant: Tenant,
    *,
    form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
    message: str | None = None,
) -> Any:
    db = request.app.state.db
    async with db.session(tenant.id) as s:
        rows = await s.execute(select(TenantPlugin.plugin).where(TenantPlugin.enabled.is_(True)))
        enabled = frozenset(rows.scalars())
    figures = await usage.detail(db, tenant.id, request.app.state.plugins, enabled)
    effective = limits_of(tenant, request.app.state.settings.ops)
    peak = max((r for _d, r, _a in figures.days), default=0)
    return await render(
        request,
        "core/platform/tenant.html",
        {
            "t": tenant,
            "u": figures,
            "peak": peak,
            "limits": effective,
            "form": form if form is not None else {k: tenant.limits.get(k, "") for k in FIELDS},
            "defaults": _defaults(request),
            "errors": errors or {},
            "message": message,
            "saved": bool(request.query_params.get("saved")),
            "storage_mb": figures.storage_bytes / MB,
            "quota_mb": effective.storage_quota_bytes // MB,
        },
        status_code=status,
    )


@get("/platform/tenants/{slug:str}", guards=[operator_only], opt=AREA)
async def tenant_usage(request: Request, slug: FromPath[str]) -> Any:
    return await _page(request, await _tenant_or_404(request, slug))


@post("/platform/tenants/{slug:str}/limits", guards=[operator_only], opt=AREA, status_code=200)
async def save_limits(request: Request, slug: FromPath[str], data: Form, rc: Ctx) -> Any:
    tenant = await _tenant_or_404(request, slug)
    values, errors = parse_limits(data)
    if errors:
        form = {k: str(data.get(k, "")) for k in FIELDS}
        return await _page(request, tenant, form=form, errors=errors, status=400)
    async with app_services(request).db.transaction(tenant.id, rc.actor) as s:
        row = await s.get(Tenant, tenant.id)
        assert row is not None
        before = dict(row.limits or {})
        row.limits = values
        record(s, "tenant.limits", "tenants", tenant.id, {"from": before, "to": values})
    request.app.state.tenant_cache.clear()  # every process re-reads the tenant within a second
    who = rc.operator.username if rc.operator is not None else "-"
    log.info("operator %s set limits of tenant %s: %s", who, slug, values)
    headers = {"HX-Redirect": f"/platform/tenants/{slug}"} if request.headers.get("hx-request") else None
    return Redirect(f"/platform/tenants/{slug}?saved=1", status_code=303, headers=headers)


handlers = [tenant_usage, save_limits]
