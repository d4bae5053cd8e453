"""In-app notifications with a live unread count; SMS/WeChat senders are adapters behind a hook.

Plugins call ``await notify(request.app.state, c.db, Notification(...))`` and commit.
"""

from core.pluginhost.manifest import Notification
from core.services.notifications.service import channel_name, mark_read, notify, unread

__all__ = ["Notification", "channel_name", "mark_read", "notify", "unread"]
