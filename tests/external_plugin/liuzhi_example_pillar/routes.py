"""Pages: the note list with its form, and adding a note. Thin: parse, call notes.py, render."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post
from litestar.params import FromQuery
from litestar.response import Redirect

from core.web.context import ctx
from core.web.forms import Form
from core.web.guards import requires
from core.web.render import render
from liuzhi_example_pillar import notes

NAME = "example_pillar"
VIEW = f"{NAME}.view"


async def _notes_page(request: Request, page: int = 1, **extra: Any) -> Any:
    c = ctx(request)
    assert c.db is not None
    context = {
        "page": await notes.page_of_notes(c.db, page),
        "settings": c.plugin_settings.get(NAME, {}),
        "values": {"title": "", "body": ""},
        "errors": {},
        **extra,
    }
    return await render(request, "example_pillar/notes.html", context, status_code=400 if context["errors"] else 200)


@get("/example/", guards=[requires(VIEW)])
async def notes_page(request: Request, page: FromQuery[int] = 1) -> Any:
    return await _notes_page(request, page)


@post("/example/notes", guards=[requires(VIEW)], status_code=200)
async def add_note(request: Request, data: Form) -> Any:
    c = ctx(request)
    assert c.db is not None and c.user is not None
    values, errors = notes.validate(data)
    if errors:
        return await _notes_page(request, values=values, errors=errors)
    notes.add_note(c.db, values["title"], values["body"], c.user.id)
    await c.db.commit()
    return Redirect(c.url("/example/"), status_code=303)


handlers = [notes_page, add_note]
