"""One import of a file: what it imports, how far it got, and every rejected row with its reason."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.base import Base, TenantScoped, utcnow

TREE, RESIDENTS = "tree", "residents"
KINDS = (TREE, RESIDENTS)
UPLOADED, PREVIEWED, RUNNING, DONE, FAILED = "uploaded", "previewed", "running", "done", "failed"
MAX_ERRORS = 10_000  # rows beyond this are counted as failed but not listed


class ImportRun(TenantScoped, Base):
    __tablename__ = "import_runs"
    __table_args__ = (Index("ix_import_runs_tenant_user", "tenant_id", "user_id", "created_at"),)
    # Progress counters change after every batch; the rows imported are audited, and the run's
    # start and end are recorded as named actions (import.start / import.finish).
    __audit__ = False

    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=UPLOADED)
    filename: Mapped[str] = mapped_column(String(255))
    file_id: Mapped[int | None]  # the uploaded file (stored_files); removed once the run ends
    user_id: Mapped[int | None]
    locale: Mapped[str] = mapped_column(String(16), default="zh_Hans")  # row reasons are written in it
    job_id: Mapped[int | None]
    total: Mapped[int] = mapped_column(Integer, default=0)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # {row, reason, values}
    message: Mapped[str] = mapped_column(Text, default="")  # why the run as a whole failed
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]

    @property
    def finished(self) -> bool:
        return self.status in (DONE, FAILED)

    @property
    def percent(self) -> int:
        if self.status == DONE:
            return 100
        return min(99, self.processed * 100 // self.total) if self.total else 0
