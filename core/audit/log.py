"""Recording audit entries: automatically on flush, and explicitly for actions that are not row writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from core.audit.models import AuditEntry
from core.db.base import TenantScoped
from core.db.context import Actor, current_actor

MASK = "***"
SYSTEM = Actor("system", None, "system")


def _actor(session: Session) -> Actor:
    return session.info.get("actor") or current_actor() or SYSTEM


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return MASK
    return str(value)


def _object_type(obj: Any) -> str:
    return type(obj).__tablename__


def _changes(obj: Any, kind: str) -> dict[str, Any]:
    state = inspect(obj)
    out: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        col = attr.columns[0]
        if attr.key in ("tenant_id", "id"):
            continue
        sensitive = bool(col.info.get("sensitive"))
        if kind == "create":
            value = getattr(obj, attr.key)
            if value is not None:
                out[attr.key] = MASK if sensitive else _jsonable(value)
        elif kind == "update":
            hist = state.attrs[attr.key].history
            if hist.has_changes():
                old = hist.deleted[0] if hist.deleted else None
                new = hist.added[0] if hist.added else None
                if old != new:
                    out[attr.key] = MASK if sensitive else [_jsonable(old), _jsonable(new)]
    return out


def record(
    session: Session | Any,
    action: str,
    object_type: str,
    object_id: Any = None,
    changes: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record a named action (login, export, reveal, transition …) beside the row-level entries."""
    sync = getattr(session, "sync_session", session)
    actor = _actor(sync)
    entry = AuditEntry(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_name=actor.name,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        changes=_jsonable(changes or {}),
    )
    sync.add(entry)
    return entry


_INSTALLED: set[type[Session]] = set()


def install(session_class: type[Session]) -> None:
    """Write an audit entry for every tenant-owned row a flush creates, changes or deletes. Installed
    once per session class by the app (``core.app.load_models``), after the tenant filter's stamping."""
    if session_class in _INSTALLED:
        return
    _INSTALLED.add(session_class)

    @event.listens_for(session_class, "before_flush")
    def _audit(session: Session, flush_context: Any, instances: Any) -> None:
        if session.info.get("no_audit"):
            return
        actor = _actor(session)
        entries = []
        for kind, objs in (("create", session.new), ("update", session.dirty), ("delete", session.deleted)):
            for obj in list(objs):
                if not isinstance(obj, TenantScoped) or not getattr(type(obj), "__audit__", True):
                    continue
                if kind == "update" and not session.is_modified(obj, include_collections=False):
                    continue
                changes = _changes(obj, kind)
                if kind == "update" and not changes:
                    continue
                entries.append(
                    AuditEntry(
                        tenant_id=obj.tenant_id,
                        actor_kind=actor.kind,
                        actor_id=actor.id,
                        actor_name=actor.name,
                        action=f"{_object_type(obj)}.{kind}",
                        object_type=_object_type(obj),
                        object_id=None if obj.id is None else str(obj.id),
                        changes=changes,
                    )
                )
        for entry in entries:
            session.add(entry)
