"""Send a notification: store it in-app, push the new count live, hand other channels to adapters.

The live count goes out on a per-user channel (Litestar channels: in memory, or Redis so every
app process hears it) only once the caller's transaction commits: a rolled-back notification is
never announced, and a browser that reloads on the announcement finds the row already there.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from core.db.engine import TenantSession
from core.pluginhost.manifest import Notification
from core.pluginhost.markers import hookimpl
from core.services.notifications.models import InAppNotification

log = logging.getLogger("liuzhi.notify")

INAPP = "inapp"
_PENDING = "liuzhi.notify.pending"  # session.info key: {channel name: (channels plugin, count)}


def channel_name(tenant_id: int, user_id: int) -> str:
    """Live-update channel of one user; tenant-prefixed like every cache or channel key."""
    return f"t{tenant_id}:u{user_id}:notifications"


async def unread(session: AsyncSession, user_id: int) -> int:
    """How many of ``user_id``'s notifications are unread (the session's tenant only)."""
    return int(
        await session.scalar(
            select(func.count())
            .select_from(InAppNotification)
            .where(InAppNotification.user_id == user_id, InAppNotification.read_at.is_(None))
        )
        or 0
    )


def publish_after_commit(app_state: Any, session: AsyncSession, user_id: int, count: int) -> None:
    """Announce ``user_id``'s unread ``count`` once ``session`` commits (dropped on rollback).

    ``app_state`` is anything with a ``channels`` attribute (the app's state, a job's context);
    without one there is nobody in this process to tell, and pages show the count on next load.
    """
    channels = getattr(app_state, "channels", None)
    tenant_id = session.info.get("tenant_id")
    if channels is None or tenant_id is None:
        return
    session.info.setdefault(_PENDING, {})[channel_name(tenant_id, user_id)] = (channels, count)


@event.listens_for(TenantSession, "after_commit")
def _publish_pending(session: Session) -> None:
    for channel, (channels, count) in session.info.pop(_PENDING, {}).items():
        try:
            channels.publish(str(count), channel)
        except Exception:  # a live update is a nicety: the commit stands regardless
            log.exception("could not publish the unread count on %s", channel)


@event.listens_for(TenantSession, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)


async def notify(
    app_state: Any, session: AsyncSession, note: Notification, enabled: Iterable[str] | None = None
) -> InAppNotification:
    """Store ``note`` in-app (in the caller's transaction: commit it), then deliver its other channels.

    The in-app row is always kept: it is the user's record of what they were told. Other channels
    ("sms", "wechat" …) go to the first ``send_notification`` adapter of the tenant's enabled
    plugins (``enabled``; read from the database when not given) that answers; core's
    ``LoggingSender`` answers last. A failing adapter is logged and does not undo the notification.
    """
    row = InAppNotification(
        tenant_id=note.tenant_id, user_id=note.user_id, title=note.title[:200], body=note.body, link=note.link
    )
    session.add(row)
    await session.flush()  # the tenant filter refuses a note for another tenant here
    publish_after_commit(app_state, session, note.user_id, await unread(session, note.user_id))
    others = [ch for ch in dict.fromkeys(note.channels) if ch != INAPP]
    if others:
        if enabled is None:
            enabled = await _enabled_plugins(session)
        for channel in others:
            await deliver(app_state.plugins, note, channel, enabled)
    return row


async def deliver(plugins: Any, note: Notification, channel: str, enabled: Iterable[str] | None) -> bool:
    """Hand ``note`` to the first adapter that answers for ``channel``; True when one sent it."""
    try:
        sent = await plugins.run("send_notification", enabled, notification=note, channel=channel)
    except Exception:
        log.exception("sending notification to user %s on %s failed", note.user_id, channel)
        return False
    if not sent:
        log.warning("no adapter sent the %s notification to user %s", channel, note.user_id)
    return bool(sent)


async def mark_read(
    app_state: Any, session: AsyncSession, user_id: int, notification_id: int | None = None
) -> int | None:
    """Mark one notification (or all) of ``user_id`` read; returns the new unread count.

    None when ``notification_id`` is not one of ``user_id``'s notifications. The caller commits;
    the new count is announced then.
    """
    now = datetime.now(UTC)
    if notification_id is not None:
        row = (
            await session.execute(
                select(InAppNotification).where(
                    InAppNotification.id == notification_id, InAppNotification.user_id == user_id
                )
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        if row.read_at is None:
            row.read_at = now
        await session.flush()
    else:
        await session.execute(
            update(InAppNotification)
            .where(InAppNotification.user_id == user_id, InAppNotification.read_at.is_(None))
            .values(read_at=now)
            .execution_options(synchronize_session=False)
        )
    count = await unread(session, user_id)
    publish_after_commit(app_state, session, user_id, count)
    return count


async def _enabled_plugins(session: AsyncSession) -> frozenset[str]:
    from core.tenancy.models import TenantPlugin

    rows = await session.execute(select(TenantPlugin.plugin).where(TenantPlugin.enabled.is_(True)))
    return frozenset(rows.scalars())


class LoggingSender:
    """The fallback adapter: no outside network here, so other channels are written to the log."""

    __liuzhi_name__ = "core.logging_sender"

    @hookimpl(trylast=True)
    def send_notification(self, notification: Notification, channel: str) -> bool:
        log.info(
            "[%s] to user %s of tenant %s: %s",
            channel,
            notification.user_id,
            notification.tenant_id,
            notification.title,
        )
        return True
