"""Alembic environment: run with the connection the caller passes (``core.db.migrate``)."""

from alembic import context

from core.db.base import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # ``liuzhi db revision --plugin``: which tables are the plugin's, and the RLS step (core/db/autogen.py).
    **config.attributes.get("configure", {}),
)
with context.begin_transaction():
    context.run_migrations()
