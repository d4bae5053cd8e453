"""Use cases of the event lifecycle: report, transition, duplicates (我也遇到), the dispatch catalogue
(派单目录) and SLA escalation. Routes, Open311, the board and jobs call these; nothing else writes
events.

Conventions:

- Every function takes an ``AsyncSession`` bound to the tenant and writes in the caller's
  transaction: the caller commits (a route: ``await c.db.commit()``; a job: by returning).
- A refusal is a ``lifecycle.TransitionError`` (``IllegalTransition``, ``MissingInput``, and here
  ``StaleEvent``, ``NotAllowed``, ``InvalidInput``, ``DispatchError``): an English sentence, shown
  translated with ``exc.translated(_)``. Everything is checked before the first write, so a refusal
  leaves nothing behind; roll the transaction back all the same (a stale version is only found
  when the UPDATE runs).
- ``actor`` is ``core.db.context.Actor`` (routes: ``ctx(request).actor``). ``can`` is optional: give
  ``ctx(request).can`` and the service checks the rule's RBAC action at the event's node.
- Given an ``app_state`` (anything with ``.plugins``: ``request.app.state``, a ``JobContext``), each
  change is announced to the tenant's enabled plugins' ``on_event`` as
  ``smart_service.event.<action>`` through core's outbox (``core.services.events.emit``) — once the
  caller's transaction commits, never on rollback.
  Without one nothing is announced, so services are testable without an app.

Modules by use case: ``report`` (reporting, with ``numbers``), ``transition``, ``dispatch`` (the
catalogue), ``duplicates`` (我也遇到, nearby open events, 并单), ``notes`` (the residents' status
note), ``escalation`` (the SLA job); ``common`` holds what they share. Import from this package:
its names are the services' public API.
"""

from __future__ import annotations

from plugins.smart_service.services.common import (
    DATA_KEYS,
    MAX_PUBLIC_NOTE,
    NUMBER_PREFIX,
    PHONE_PURPOSE,
    PUBLISH,
    SLA_ACTOR,
    SLA_JOB,
    TOP_DOWN_SOURCES,
    DispatchError,
    EventNotFound,
    InvalidInput,
    NotAllowed,
    StaleEvent,
    allowed_actions,
    announcements_sent,
    case_of,
    charged_party,
    get_by_number,
    get_event,
    timeline,
)
from plugins.smart_service.services.dispatch import Target, ancestor_paths, dispatch_target
from plugins.smart_service.services.duplicates import METRES_PER_DEGREE, find_nearby_open, haversine_m, me_too
from plugins.smart_service.services.escalation import escalate_breached, sla_job
from plugins.smart_service.services.notes import publish_note
from plugins.smart_service.services.numbers import bump_counter, next_number
from plugins.smart_service.services.report import report_event
from plugins.smart_service.services.transition import UNIT_WORK, transition

__all__ = [
    "DATA_KEYS",
    "MAX_PUBLIC_NOTE",
    "METRES_PER_DEGREE",
    "NUMBER_PREFIX",
    "PHONE_PURPOSE",
    "PUBLISH",
    "SLA_ACTOR",
    "SLA_JOB",
    "TOP_DOWN_SOURCES",
    "UNIT_WORK",
    "DispatchError",
    "EventNotFound",
    "InvalidInput",
    "NotAllowed",
    "StaleEvent",
    "Target",
    "allowed_actions",
    "ancestor_paths",
    "announcements_sent",
    "bump_counter",
    "case_of",
    "charged_party",
    "dispatch_target",
    "escalate_breached",
    "find_nearby_open",
    "get_by_number",
    "get_event",
    "haversine_m",
    "me_too",
    "next_number",
    "publish_note",
    "report_event",
    "sla_job",
    "timeline",
    "transition",
]
