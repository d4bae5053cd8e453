"""What a handler receives by declaring it (Litestar dependency injection, app-wide).

    @post("/example/notes", guards=[requires(VIEW)])
    async def add_note(request: Request, data: Form, db: DbSession, rc: Ctx) -> Any:
        ...
        await db.commit()

The parameter's name picks the dependency; its type says so to Litestar (``NamedDependency``:
Litestar 3 no longer infers a dependency from a bare type), and to the reader what arrives:

- ``db: DbSession`` (an ``AsyncSession``): the request's session, bound to the tenant (the tenant filter, and on
  PostgreSQL the RLS setting per transaction). It is the one ``ContextMiddleware`` opened to find
  the user, so the signed-in ``User`` belongs to it; the middleware closes it after the answer has
  been sent. Nothing commits for the handler: it commits its writes (``await db.commit()``), a
  rollback or an exception discards them, and events queued with ``emit(db, …)`` are delivered
  after the commit (core/services/events.py). Not on ``opt={"area": "public"}`` routes (they have
  no session): declaring it there is a 500 that says so.
- ``rc: Ctx`` (a ``RequestContext``): tenant, user, subject and policy (``rc.can``, ``rc.scope_prefixes``),
  locale, plugin settings, ``rc.url(path)``.
- ``app_services: Services`` (an ``AppServices``): the app's services, typed (core/appservices.py).

The providers are synchronous and cheap (they hand over what the middleware resolved), so they run
on the event loop (``sync_to_thread=False``). Not generator dependencies: the session must exist
before the guard and outlive the response, which only the middleware spans.
"""

from __future__ import annotations

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation
from sqlalchemy.ext.asyncio import AsyncSession

from core.appservices import AppServices, app_services
from core.web.context import STATE_KEY, RequestContext

# What a handler writes as the parameter's type: a named dependency, handed over as it is (the
# signature model does not re-validate objects core built itself).
DbSession = NamedDependency[SkipValidation[AsyncSession]]
Ctx = NamedDependency[SkipValidation[RequestContext]]
Services = NamedDependency[SkipValidation[AppServices]]


def provide_rc(request: Request) -> RequestContext:
    found: RequestContext = request.scope["state"][STATE_KEY]
    return found


def provide_db(request: Request) -> AsyncSession:
    session = request.scope["state"][STATE_KEY].db
    if session is None:
        raise RuntimeError(
            f"{request.url.path}: a public route has no request session (declare opt area 'tenant' or 'platform')"
        )
    found: AsyncSession = session
    return found


def provide_app_services(request: Request) -> AppServices:
    return app_services(request.app)


def dependencies() -> dict[str, Provide]:
    """The app-wide dependencies, by the parameter name a handler declares."""
    return {
        "db": Provide(provide_db, sync_to_thread=False),
        "rc": Provide(provide_rc, sync_to_thread=False),
        "app_services": Provide(provide_app_services, sync_to_thread=False),
    }


__all__ = ["AppServices", "AsyncSession", "Ctx", "DbSession", "RequestContext", "Services", "dependencies"]
