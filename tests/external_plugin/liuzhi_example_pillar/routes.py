"""Pages: the note list with its form, and adding a note. Thin: parse, call notes.py, render.
Handlers declare the request's session (``db: DbSession``) and context (``rc: Ctx``); core injects
them. The helper takes them as arguments."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from liuzhi.api import FORM_ERROR_STATUS, AsyncSession, Ctx, DbSession, Form, RequestContext, render, requires
from liuzhi_example_pillar import notes

NAME = "example_pillar"
VIEW = f"{NAME}.note.view"  # <plugin>.<thing>.<verb>


async def _notes_page(request: Request, db: AsyncSession, rc: RequestContext, page: int = 1, **extra: Any) -> Any:
    context = {
        "page": await notes.page_of_notes(db, page),
        "settings": rc.plugin_settings.get(NAME, {}),
        "values": {"title": "", "body": ""},
        "errors": {},
        **extra,
    }
    status = FORM_ERROR_STATUS if context["errors"] else 200
    return await render(request, "example_pillar/notes.html", context, status_code=status)


@get("/example/", guards=[requires(VIEW)])
async def notes_page(request: Request, db: DbSession, rc: Ctx, page: FromQuery[int] = 1) -> Any:
    return await _notes_page(request, db, rc, page)


@post("/example/notes", guards=[requires(VIEW)], status_code=200)
async def add_note(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
    assert rc.user is not None  # requires(): a signed-in user
    values, errors = notes.validate(data)
    if errors:  # the form again with its reasons: 400, which core's script swaps like a 200 (htmx)
        return await _notes_page(request, db, rc, values=values, errors=errors)
    notes.add_note(db, values["title"], values["body"], rc.user.id)
    await db.commit()
    return Redirect(rc.url("/example/"), status_code=303)


handlers = [notes_page, add_note]
