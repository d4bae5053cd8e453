"""Import pages: upload a file → preview its first rows → confirm → progress → summary and error report.

Every page needs ``core.grid.import``; a run is visible to the user who started it only (another
user's run answers 404). Where rows may go is decided per row by the importer's area.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect
from sqlalchemy import select, update

from core.audit import record
from core.db.base import new_id
from core.i18n import gettext as _
from core.imports.models import FAILED, KINDS, PREVIEWED, RESIDENTS, RUNNING, TREE, UPLOADED, ImportRun
from core.imports.outcome import Area, field_titles
from core.imports.readers import MAX_BYTES, FileProblem, Sheet, file_type, open_sheet
from core.imports.runner import AREA_ACTION, IMPORT_ACTION, JOB_NAME, PREVIEW_ROWS, layout_for, preview
from core.services.files.models import StoredFile
from core.services.files.storage import UploadError
from core.services.files.uploads import read_limited
from core.services.jobs import enqueue
from core.services.jobs.models import FAILED as JOB_FAILED
from core.services.jobs.models import Job
from core.web.context import ctx
from core.web.deps import Ctx, DbSession
from core.web.excel import excel_response
from core.web.guards import requires
from core.web.pagination import paginate
from core.web.render import render, render_string
from core.web.uploads import upload_state

GUARD = [requires(IMPORT_ACTION)]
UPLOAD_LIMIT = MAX_BYTES + 1024 * 1024  # the file plus the form around it
ERRORS_ON_PAGE = 50
CONTENT_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def kind_titles() -> dict[str, str]:
    return {TREE: _("Territory tree"), RESIDENTS: _("Residents")}


def status_titles() -> dict[str, str]:
    return {
        UPLOADED: _("Uploaded"),
        PREVIEWED: _("Previewed"),
        RUNNING: _("Importing"),
        "done": _("Finished"),
        FAILED: _("Failed"),
    }


def outcome_titles() -> dict[str, str]:
    return {
        "created": _("Will be added"),
        "updated": _("Will be updated"),
        "unchanged": _("Unchanged"),
        "error": _("Error"),
    }


def _columns(kind: str) -> list[dict[str, Any]]:
    titles = field_titles()
    return [
        {"field": col.field, "label": col.label, "title": titles[col.field], "required": col.required}
        for col in layout_for(kind).columns
    ]


async def _index(
    request: Request, *, error: str | None = None, kind: str = RESIDENTS, page: int = 1, status_code: int = 200
) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    stmt = select(ImportRun).where(ImportRun.user_id == c.user.id).order_by(ImportRun.created_at.desc())
    runs = await paginate(c.db, stmt, page, 20)
    return await render(
        request,
        "core/imports/index.html",
        {
            "error": error,
            "kind": kind,
            "kinds": kind_titles(),
            "columns": {k: _columns(k) for k in KINDS},
            "runs": runs,
            "statuses": status_titles(),
            "max_mb": MAX_BYTES >> 20,
            "storage": await upload_state(request),
        },
        status_code=status_code,
    )


@get("/import/", guards=GUARD)
async def import_index(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _index(request, page=page)


@post("/import/", guards=GUARD, status_code=200, request_max_body_size=UPLOAD_LIMIT)
async def upload(request: Request, db: DbSession, rc: Ctx) -> Any:
    """Check the file as a whole (type, size, encoding, columns) before anything is stored."""
    assert rc.user is not None and rc.tenant is not None
    form = await request.form()
    kind = str(form.get("kind") or "")
    file = form.get("file")

    async def refuse(message: str, status: int = 400) -> Any:
        return await _index(request, error=message, kind=kind or RESIDENTS, status_code=status)

    if kind not in KINDS:
        return await refuse(_("Choose what the file holds: the territory tree or residents."))
    if not isinstance(file, UploadFile) or not file.filename:
        return await refuse(_("Choose a .csv or .xlsx file to import."))
    try:
        ftype = file_type(file.filename)
        data = await read_limited(file, MAX_BYTES)
        sheet = await asyncio.to_thread(open_sheet, data, file.filename, layout_for(kind))
        total = await asyncio.to_thread(sheet.count)
    except FileProblem as exc:
        return await refuse(str(exc))
    except UploadError as exc:
        return await refuse(str(exc), exc.status)
    if not total:
        return await refuse(_("The file has column names but no rows to import."))
    run = ImportRun(id=new_id(), kind=kind, filename=file.filename[:255], user_id=rc.user.id, locale=rc.locale)
    run.total = total
    try:
        stored = await request.app.state.storage.save(
            db,
            rc.tenant.id,
            data=data,
            filename=file.filename,
            content_type=CONTENT_TYPES[ftype],
            owner_type="core.import",
            owner_id=run.id,
            uploaded_by=rc.user.id,
            max_bytes=MAX_BYTES,
        )
    except UploadError as exc:  # the district's upload size or storage quota
        return await refuse(str(exc), exc.status)
    run.file_id = stored.id
    db.add(run)
    await db.commit()
    return Redirect(rc.url(f"/import/{run.id}"), status_code=303)


async def _own_run(request: Request, run_id: int) -> ImportRun:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    run = (
        await c.db.execute(select(ImportRun).where(ImportRun.id == run_id, ImportRun.user_id == c.user.id))
    ).scalar_one_or_none()
    if run is None:
        raise NotFoundException()
    return run


async def _settle(request: Request, run: ImportRun) -> None:
    """A run whose job gave up (its runner died too often) is shown as failed, not importing forever."""
    c = ctx(request)
    assert c.db is not None
    if run.status != RUNNING or run.job_id is None:
        return
    job = await c.db.get(Job, run.job_id)
    if job is not None and job.status == JOB_FAILED:
        run.status = FAILED
        run.message = _("The import stopped unexpectedly. Import the file again: rows already saved stay unchanged.")
        await c.db.commit()


async def _sheet(request: Request, run: ImportRun) -> Sheet:
    c = ctx(request)
    assert c.db is not None
    stored = await c.db.get(StoredFile, (run.tenant_id, run.file_id)) if run.file_id else None
    storage = request.app.state.storage
    if stored is None or not storage.exists(stored):
        raise FileProblem(_("The uploaded file is no longer there: upload it again."))
    data = await asyncio.to_thread(storage.read, stored)
    return await asyncio.to_thread(open_sheet, data, run.filename, layout_for(run.kind))


def _progress_context(run: ImportRun) -> dict[str, Any]:
    return {
        "run": run,
        "statuses": status_titles(),
        "columns": _columns(run.kind),
        "errors": (run.errors or [])[:ERRORS_ON_PAGE],
    }


@get("/import/{run_id:int}", guards=GUARD)
async def show(request: Request, run_id: FromPath[int], db: DbSession, rc: Ctx) -> Any:
    run = await _own_run(request, run_id)
    await _settle(request, run)
    extra: dict[str, Any] = {"outcomes": None, "problem": None, "sheet": None}
    if run.status in (UPLOADED, PREVIEWED):
        try:
            sheet = await _sheet(request, run)
            area = Area(tuple(rc.scope_prefixes(AREA_ACTION[run.kind])))
            extra["outcomes"] = await preview(db, run.kind, sheet, request.app.state.vault, area)
            extra["sheet"] = sheet
        except FileProblem as exc:
            extra["problem"] = str(exc)
        if run.status == UPLOADED and extra["problem"] is None:
            run.status = PREVIEWED
            await db.commit()
    return await render(
        request,
        "core/imports/show.html",
        {
            **_progress_context(run),
            **extra,
            "kinds": kind_titles(),
            "outcome_titles": outcome_titles(),
            "preview_rows": PREVIEW_ROWS,
        },
    )


@post("/import/{run_id:int}/confirm", guards=GUARD, status_code=303)
async def confirm(request: Request, run_id: FromPath[int], db: DbSession, rc: Ctx) -> Redirect:
    assert rc.tenant is not None
    run = await _own_run(request, run_id)
    # Compare-and-set: a double click queues one job, not two.
    res = await db.execute(
        update(ImportRun)
        .where(ImportRun.id == run.id, ImportRun.status.in_((UPLOADED, PREVIEWED)), ImportRun.file_id.is_not(None))
        .values(status=RUNNING)
        .execution_options(synchronize_session=False)
    )
    if res.rowcount == 1:
        job = await enqueue(db, rc.tenant.id, JOB_NAME, {"run_id": run.id})
        await db.flush()
        await db.execute(
            update(ImportRun)
            .where(ImportRun.id == run.id)
            .values(job_id=job.id)
            .execution_options(synchronize_session=False)
        )
        record(db, "import.start", "import_runs", run.id, {"kind": run.kind, "filename": run.filename})
        await db.commit()
    return Redirect(rc.url(f"/import/{run.id}"), status_code=303)


@get("/import/{run_id:int}/progress", guards=GUARD)
async def progress(request: Request, run_id: FromPath[int], rc: Ctx) -> Response[str]:
    """The fragment the run page polls every second; once the run ends it stops asking."""
    run = await _own_run(request, run_id)
    await _settle(request, run)
    html = render_string(request, "core/imports/_progress.html", {"c": rc, **_progress_context(run)})
    return Response(html, media_type="text/html", headers={"Cache-Control": "no-store"})


@get("/import/{run_id:int}/errors", guards=GUARD)
async def error_report(request: Request, run_id: FromPath[int]) -> Response[bytes]:
    run = await _own_run(request, run_id)
    columns = _columns(run.kind)
    rows = (
        [e.get("row"), e.get("reason", ""), *[(e.get("values") or {}).get(col["field"], "") for col in columns]]
        for e in run.errors or []
    )
    headers = [_("Row"), _("Reason"), *[col["label"] for col in columns]]
    return excel_response(f"{_('import errors')}-{run.id}", _("Rows not imported"), headers, rows)


@get("/import/templates/{kind:str}", guards=GUARD)
async def template(request: Request, kind: FromPath[str]) -> Response[bytes]:
    """An empty workbook with the column names the import understands."""
    if kind not in KINDS:
        raise NotFoundException()
    name = _("tree import template") if kind == TREE else _("residents import template")
    return excel_response(name, kind_titles()[kind], [col["label"] for col in _columns(kind)], [])


handlers = [import_index, upload, show, confirm, progress, error_report, template]
