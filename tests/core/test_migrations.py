"""The schema the migrations build matches the models (core and every installed plugin)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from core.db.base import Base
from core.db.engine import make_engine
from core.db.migrate import CORE_HEAD, current_heads


async def test_models_and_migrations_agree(migrated: Any) -> None:
    engine = make_engine(migrated.owner_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata)
            )
    finally:
        await engine.dispose()
    # Tables of plugins installed only for a test (tests/external_plugin) may exist without models here.
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("example_"))]
    assert diff == [], f"models differ from migrations: {diff}"


async def test_every_branch_is_at_its_head(migrated: Any, host: Any) -> None:
    heads = await current_heads(migrated)
    assert CORE_HEAD in heads
