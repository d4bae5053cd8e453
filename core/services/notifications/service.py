"""Send a notification: store it in-app, push the new count live, hand other channels to adapters."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.pluginhost.manifest import Notification
from core.pluginhost.markers import hookimpl
from core.services.notifications.models import InAppNotification

log = logging.getLogger("liuzhi.notify")


def channel_name(tenant_id: int, user_id: int) -> str:
    """Live-update channel of one user; tenant-prefixed like every cache or channel key."""
    return f"t{tenant_id}:u{user_id}:notifications"


async def unread(session: AsyncSession, user_id: int) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(InAppNotification)
            .where(InAppNotification.user_id == user_id, InAppNotification.read_at.is_(None))
        )
        or 0
    )


async def notify(app_state: Any, session: AsyncSession, note: Notification) -> InAppNotification:
    """Store ``note`` in-app (in the caller's transaction), then deliver other channels."""
    row = InAppNotification(user_id=note.user_id, title=note.title, body=note.body, link=note.link)
    session.add(row)
    await session.flush()
    count = await unread(session, note.user_id)
    app_state.channels.publish(str(count), channel_name(note.tenant_id, note.user_id))
    for channel in note.channels:
        if channel == "inapp":
            continue
        await app_state.plugins.call_first("send_notification", notification=note, channel=channel)
    return row


class LoggingSender:
    """The fallback adapter: no outside network here, so other channels are written to the log."""

    __liuzhi_name__ = "core.logging_sender"

    @hookimpl(trylast=True)
    def send_notification(self, notification: Notification, channel: str) -> bool:
        log.info("[%s] to user %s: %s", channel, notification.user_id, notification.title)
        return True
