"""The import job and its preview: the same row rules, the job writing 500 rows per transaction.

Each batch commits its rows together with the run's counters, so the progress shown is what is
saved. A job that is retried (a crash, a lost lease) resumes after the last committed batch; the
rows before it are only re-read for the duplicate check.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import i18n
from core.audit import record
from core.db.context import Actor
from core.i18n import gettext as _
from core.identity.models import User
from core.imports import residents, tree
from core.imports.models import DONE, FAILED, MAX_ERRORS, RESIDENTS, RUNNING, TREE, ImportRun
from core.imports.outcome import CREATED, ERROR, UNCHANGED, UPDATED, Area, Outcome, Row
from core.imports.readers import FileProblem, Layout, Sheet, open_sheet
from core.rbac.enforcer import Subject, TenantPolicy
from core.rbac.models import RolePermission
from core.services.files.models import StoredFile
from core.services.jobs import JobContext, JobSpec
from core.web.context import load_subject

log = logging.getLogger("liuzhi.imports")
JOB_NAME = "core.import.run"
IMPORT_ACTION = "core.grid.import"
BATCH = 500
PREVIEW_ROWS = 20
MAX_ATTEMPTS = 3
SYSTEM = Actor("system", None, "imports")

# The action whose area limits where rows may go, per kind of import.
AREA_ACTION = {TREE: IMPORT_ACTION, RESIDENTS: "core.resident.edit"}


def layout_for(kind: str) -> Layout:
    return tree.LAYOUT if kind == TREE else residents.LAYOUT


def importer_for(kind: str, vault: Any, area: Area) -> Any:
    return tree.TreeImporter(area) if kind == TREE else residents.ResidentImporter(vault, area)


def ordered_rows(kind: str, sheet: Sheet) -> tuple[Iterable[Row], int]:
    """The rows in the order they are imported, and how many there are."""
    if kind == TREE:
        rows = tree.order_rows(list(sheet.rows()))  # a tree file is small: order it in memory
        return rows, len(rows)
    return sheet.rows(), sheet.count()


def batches(rows: Iterable[Row], size: int = BATCH) -> Iterator[list[Row]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


async def preview(session: AsyncSession, kind: str, sheet: Sheet, vault: Any, area: Area) -> list[Outcome]:
    """The first rows of the file as the import would treat them; nothing is written."""
    importer = importer_for(kind, vault, area)
    await importer.prepare(session)
    if kind == RESIDENTS:
        return await importer.process(session, list(islice(sheet.rows(), PREVIEW_ROWS)), write=False)
    all_rows = list(sheet.rows())
    wanted = {n for n, _v in all_rows[:PREVIEW_ROWS]}
    outcomes: dict[int, Outcome] = {}
    # Parents placed lower in the file come first; stop once the first rows are all decided.
    for batch in batches(tree.order_rows(all_rows)):
        for o in await importer.process(session, batch, write=False):
            if o.row in wanted:
                outcomes[o.row] = o
        if len(outcomes) == len(wanted):
            break
    return [outcomes[n] for n in sorted(outcomes)]


async def user_area(session: AsyncSession, user_id: int, action: str) -> tuple[Subject, TenantPolicy, Area]:
    """The importing user's area, as the request had it (the job has no request)."""
    subject = await load_subject(session, user_id)
    rules = (await session.execute(select(RolePermission.role_code, RolePermission.action))).all()
    policy = TenantPolicy([(r[0], r[1]) for r in rules], 0)
    return subject, policy, Area(tuple(policy.prefixes(subject, action)))


def count(run: ImportRun, outcomes: list[Outcome]) -> None:
    errors = list(run.errors or [])
    listed = len(errors)
    for o in outcomes:
        if o.status == CREATED:
            run.created += 1
        elif o.status == UPDATED:
            run.updated += 1
        elif o.status == UNCHANGED:
            run.unchanged += 1
        elif o.status == ERROR:
            run.failed += 1
            if len(errors) < MAX_ERRORS:
                errors.append({"row": o.row, "reason": o.reason, "values": o.values})
    run.processed += len(outcomes)
    if len(errors) != listed:
        run.errors = errors  # a new list, so the JSON column is written (only when it grew)


def _now() -> datetime:
    return datetime.now(UTC)


class ImportJob:
    """The handler of ``core.import.run``; needs the app's storage and vault (given at start-up)."""

    def __init__(self) -> None:
        self.state: Any = None

    def spec(self) -> JobSpec:
        return JobSpec(JOB_NAME, self.run, max_attempts=MAX_ATTEMPTS, retry_seconds=10)

    async def run(self, jc: JobContext, payload: dict[str, Any]) -> None:
        if self.state is None:
            raise RuntimeError("the import job runs only in a started app")
        run_id = int(payload["run_id"])
        locale = i18n.current_locale()
        try:
            await self._run(jc, run_id)
        except Exception as exc:
            if jc.attempt >= MAX_ATTEMPTS:
                log.exception("import %s failed for good", run_id)
                reason = _("The import stopped because of an internal error (%(error)s).", error=type(exc).__name__)
                await self._fail(jc, run_id, reason)
            raise
        finally:
            i18n.set_locale(locale)

    async def _run(self, jc: JobContext, run_id: int) -> None:
        tid = jc.tenant_id
        async with jc.db.transaction(tid, SYSTEM) as s:
            run = await s.get(ImportRun, (tid, run_id))
            if run is None or run.status != RUNNING:
                return  # gone, or already finished by an earlier attempt
            i18n.set_locale(run.locale)  # row reasons are written in the importer's language
            user = await s.get(User, (tid, run.user_id)) if run.user_id else None
            stored = await s.get(StoredFile, (tid, run.file_id)) if run.file_id else None
            if user is None or not user.is_active:
                problem = _("The account that started the import is no longer active.")
            elif stored is None or not self.state.storage.exists(stored):
                problem = _("The uploaded file is no longer there: upload it again.")
            else:
                subject, policy, area = await user_area(s, user.id, AREA_ACTION[run.kind])
                problem = None if policy.allows(subject, IMPORT_ACTION) else _("You may no longer import.")
            if problem is None:
                assert user is not None and stored is not None
                data = await asyncio.to_thread(self.state.storage.read, stored)
                actor = Actor("user", user.id, user.username)
                kind, filename, skip = run.kind, run.filename, run.processed
                if run.started_at is None:
                    run.started_at = _now()
        if problem is not None:
            await self._fail(jc, run_id, problem)
            return
        try:
            # Reading the header and counting (or, for a tree, ordering) the rows: off the event loop.
            sheet = await asyncio.to_thread(open_sheet, data, filename, layout_for(kind))
            rows, total = await asyncio.to_thread(ordered_rows, kind, sheet)
        except FileProblem as exc:
            await self._fail(jc, run_id, str(exc))
            return
        importer = importer_for(kind, self.state.vault, area)
        async with jc.db.transaction(tid, SYSTEM) as s:
            await importer.prepare(s)
            run = await s.get(ImportRun, (tid, run_id))
            assert run is not None
            run.total = total
        it = iter(rows)
        if skip:
            importer.remember(list(islice(it, skip)))
        for batch in batches(it):
            async with jc.db.transaction(tid, actor) as s:
                outcomes = await importer.process(s, batch, write=True)
                run = await s.get(ImportRun, (tid, run_id))
                assert run is not None
                count(run, outcomes)
        await self._finish(jc, run_id, actor)

    async def _finish(self, jc: JobContext, run_id: int, actor: Actor) -> None:
        async with jc.db.transaction(jc.tenant_id, actor) as s:
            run = await s.get(ImportRun, (jc.tenant_id, run_id))
            assert run is not None
            run.status, run.finished_at, run.total = DONE, _now(), run.processed
            summary = {k: getattr(run, k) for k in ("kind", "filename", "created", "updated", "unchanged", "failed")}
            record(s, "import.finish", "import_runs", run.id, summary)
            await self._drop_file(s, run)

    async def _fail(self, jc: JobContext, run_id: int, message: str) -> None:
        async with jc.db.transaction(jc.tenant_id, SYSTEM) as s:
            run = await s.get(ImportRun, (jc.tenant_id, run_id))
            if run is None or run.finished:
                return
            run.status, run.finished_at, run.message = FAILED, _now(), message
            record(s, "import.fail", "import_runs", run.id, {"filename": run.filename, "processed": run.processed})
            await self._drop_file(s, run)

    async def _drop_file(self, s: AsyncSession, run: ImportRun) -> None:
        """The upload holds full ID numbers in clear: keep it no longer than the import needs it."""
        if run.file_id is None:
            return
        stored = await s.get(StoredFile, (run.tenant_id, run.file_id))
        run.file_id = None
        if stored is not None:
            self.state.storage.delete(stored)
            await s.delete(stored)
