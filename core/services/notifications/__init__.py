"""In-app notifications with a live unread count; SMS/WeChat senders are adapters behind a hook."""
