"""The public API of Liuzhi for plugins: every name a plugin may import, in one place.

``from liuzhi.api import Manifest, Action, TenantScoped, requires, render, ctx …``. A plugin that
imports only from here (and from ``liuzhi.testing`` in its tests) keeps working across releases
of the same ``API_VERSION``: a name that moves keeps working here for a version, with a
``DeprecationWarning``; a change that cannot keep it raises ``API_VERSION``, and a plugin whose
``Manifest.core_api`` no longer matches is refused with a message in ``liuzhi plugins list`` and
at start-up. docs/plugins.md "The public API" describes each name; its changelog says what moved.

Anything else under ``core`` is the product's inside: it may change in any release.
"""

from __future__ import annotations

import warnings
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import CORE_API_VERSION, OLDEST_CORE_API, hookimpl
from core.appservices import AppServices, app_services
from core.crypto import Vault
from core.db import rls
from core.db.base import Base, TenantScoped, UTCDateTime, new_id, utcnow
from core.db.context import Actor
from core.grids.models import GridNode
from core.grids.validation import mask_id_number, mask_phone
from core.i18n import gettext, lazy, ngettext, translator
from core.identity.models import User
from core.pluginhost.manifest import (
    Action,
    CardSpec,
    DeclaredRole,
    Figure,
    Manifest,
    MenuItem,
    MySection,
    Notification,
    Page,
    Panel,
    Widget,
)
from core.rbac.scope import in_scope
from core.services import accounts, activities, ballots, consent, counters, documents, ledger, notices
from core.services.events import Event, EventContext, emit
from core.services.files import LocalStorage, StoredFile, UploadError, store_upload
from core.services.jobs import JobContext, JobSpec, enqueue
from core.services.notifications import notify
from core.tenancy.models import Tenant
from core.tenancy.sessions import tenant_session
from core.web import context as _context
from core.web.context import RequestContext
from core.web.deps import Ctx, DbSession, Services
from core.web.forms import Form, checked, decode, integer, text, values
from core.web.guards import check_in_scope, public, requires, signed_in
from core.web.pagination import Page as Paginated
from core.web.pagination import paginate
from core.web.render import is_htmx, render, render_string
from core.web.uploads import save_upload

#: The version of this contract. A plugin states the one it was written for in
#: ``Manifest(core_api=…)``; ``OLDEST_API_VERSION`` is the oldest this release still serves.
API_VERSION: int = CORE_API_VERSION
OLDEST_API_VERSION: int = OLDEST_CORE_API

#: The status of an answer that shows a form again with its errors (docs/plugins.md "Forms"):
#: core's script swaps it into the request's ``hx-target`` like a 200.
FORM_ERROR_STATUS: int = 400

#: The PostgreSQL setting row-level security compares ``tenant_id`` with (set per transaction).
RLS_SETTING: str = rls.SETTING

__all__ = [
    "API_VERSION",
    "FORM_ERROR_STATUS",
    "OLDEST_API_VERSION",
    "RLS_SETTING",
    "Action",
    "Actor",
    "AppServices",
    "AsyncSession",
    "Base",
    "CardSpec",
    "Ctx",
    "DbSession",
    "DeclaredRole",
    "Event",
    "EventContext",
    "Figure",
    "Form",
    "GridNode",
    "JobContext",
    "JobSpec",
    "LocalStorage",
    "Manifest",
    "MenuItem",
    "MySection",
    "Notification",
    "Page",
    "Paginated",
    "Panel",
    "RequestContext",
    "Services",
    "StoredFile",
    "Tenant",
    "TenantScoped",
    "UTCDateTime",
    "UploadError",
    "User",
    "Vault",
    "Widget",
    "accounts",
    "activities",
    "app_services",
    "ballots",
    "check_in_scope",
    "checked",
    "consent",
    "counters",
    "decode",
    "documents",
    "emit",
    "enqueue",
    "gettext",
    "hookimpl",
    "in_scope",
    "integer",
    "is_htmx",
    "lazy",
    "ledger",
    "mask_id_number",
    "mask_phone",
    "new_id",
    "ngettext",
    "notices",
    "notify",
    "paginate",
    "public",
    "render",
    "render_string",
    "requires",
    "rls",
    "save_upload",
    "signed_in",
    "store_upload",
    "tenant_session",
    "text",
    "translator",
    "utcnow",
    "values",
]

# A name this module no longer exports under its old spelling: old -> (new name here, the API
# version that drops the old one). The old name keeps working for a version and says where it went.
DEPRECATED: dict[str, tuple[str, int]] = {}

# A name that has no one-for-one successor here: old -> (what it still returns, what to do instead,
# the API version that drops it). Importing it warns, so a plugin that does hears it at start-up.
RETIRED: dict[str, tuple[Any, str, int]] = {
    "ctx": (
        _context.ctx,
        "a handler declares `rc: Ctx` and `db: DbSession` (injected: RequestContext, AsyncSession); a hook given a "
        "request calls RequestContext.of(request)",
        CORE_API_VERSION + 1,
    ),
}


def __getattr__(name: str) -> Any:
    if name in DEPRECATED:
        new, until = DEPRECATED[name]
        warnings.warn(
            f"liuzhi.api.{name} is deprecated and goes in core API {until}: use liuzhi.api.{new}",
            DeprecationWarning,
            stacklevel=2,
        )
        return globals()[new]
    if name in RETIRED:
        value, advice, until = RETIRED[name]
        warnings.warn(
            f"liuzhi.api.{name} is deprecated and goes in core API {until}: {advice}", DeprecationWarning, stacklevel=2
        )
        return value
    raise AttributeError(f"module 'liuzhi.api' has no attribute {name!r}")
