"""Stored files: served only when the owning plugin vouches (or to the uploader), within the district."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

import httpx
import pytest
from litestar import Request, Response, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body

from core import hookimpl
from core.app import create_app
from core.pluginhost.manifest import Manifest
from core.services.files import IMAGES, UploadError
from core.tenancy.service import ensure_user, set_plugin
from core.web.context import ctx
from core.web.guards import signed_in
from core.web.uploads import save_upload
from tests.conftest import DEMO_PASSWORD, csrf_of, login, make_client, start_app

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
UPLOAD_LIMIT = 2000


class OpenFiles:
    """Always on (no manifest): vouches for "test.open", refuses "test.closed", and offers an upload form."""

    __liuzhi_name__ = "test_open_files"

    @hookimpl
    def file_access(self, request: Any, file: Any) -> bool | None:
        return {"test.open": True, "test.closed": False}.get(file.owner_type)

    @hookimpl
    def register_routes(self) -> list[Any]:
        @post("/_test/upload", guards=[signed_in], status_code=201)
        async def upload(
            request: Request, data: Annotated[dict[str, UploadFile], Body(media_type=RequestEncodingType.MULTI_PART)]
        ) -> Response[dict[str, Any]]:
            c = ctx(request)
            try:
                row = await save_upload(
                    request, data["upload"], "test.upload", "r1", allowed_types=IMAGES, max_bytes=UPLOAD_LIMIT
                )
            except UploadError as exc:
                return Response({"error": str(exc)}, status_code=400)
            await c.db.commit()
            return Response({"id": str(row.id), "content_type": row.content_type}, status_code=201)

        return [upload]


class GatedFiles:
    """A pillar-like plugin a district switches on: vouches for its documents marked "ok"."""

    __liuzhi_name__ = "test_gated"

    @hookimpl
    def plugin_manifest(self) -> Manifest:
        return Manifest("test_gated", "other", "测试文件", "Test files", "1.0")

    @hookimpl
    def file_access(self, request: Any, file: Any) -> bool | None:
        if file.owner_type != "test_gated.doc":
            return None
        return file.owner_id == "ok"


@pytest.fixture(scope="module")
async def files_app(migrated: Any) -> AsyncIterator[Any]:
    application = create_app(migrated, extra_plugins=[OpenFiles(), GatedFiles()])
    stack = await start_app(application)
    yield application
    await stack.aclose()


@pytest.fixture
async def district(files_app: Any, fresh_tenant: Any) -> AsyncIterator[dict[str, Any]]:
    """A new district with two staff members (ana, bo) and signed-in clients for them."""
    ids = {}
    async with files_app.state.db.transaction(fresh_tenant.id) as s:
        for name in ("ana", "bo"):
            user, _ = await ensure_user(s, name, name.title(), DEMO_PASSWORD, None, None)
            user.locale = "en"  # messages asserted below are the English ones
            ids[name] = user.id
    clients = {}
    for name in ("ana", "bo"):
        clients[name] = make_client(files_app)
        assert (await login(clients[name], fresh_tenant.slug, name)).status_code == 303
    yield {"tenant": fresh_tenant, "slug": fresh_tenant.slug, "ids": ids, **clients}
    for c in clients.values():
        await c.aclose()


async def store(
    application: Any,
    tenant_id: int,
    owner_type: str,
    owner_id: str | None = None,
    *,
    data: bytes = PNG,
    content_type: str = "image/png",
    filename: str = "photo.png",
) -> int:
    async with application.state.db.transaction(tenant_id) as s:
        row = await application.state.storage.save(
            s,
            tenant_id,
            data=data,
            filename=filename,
            content_type=content_type,
            owner_type=owner_type,
            owner_id=owner_id,
        )
    return row.id


async def test_a_file_its_plugin_vouches_for_is_shown(files_app: Any, district: dict[str, Any]) -> None:
    file_id = await store(files_app, district["tenant"].id, "test.open", filename="路灯 photo.png")
    r = await district["ana"].get(f"/t/{district['slug']}/files/{file_id}")
    assert r.status_code == 200 and r.content == PNG
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline;") and "photo.png" in r.headers["content-disposition"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "private" in r.headers["cache-control"]


async def test_a_file_its_plugin_refuses_or_nobody_claims_is_not_found(
    files_app: Any, district: dict[str, Any]
) -> None:
    tid, slug = district["tenant"].id, district["slug"]
    refused = await store(files_app, tid, "test.closed")
    unclaimed = await store(files_app, tid, "nobody.knows")
    assert (await district["ana"].get(f"/t/{slug}/files/{refused}")).status_code == 404
    assert (await district["ana"].get(f"/t/{slug}/files/{unclaimed}")).status_code == 404
    assert (await district["ana"].get(f"/t/{slug}/files/123456789")).status_code == 404


async def test_a_switched_off_plugin_no_longer_vouches_for_its_files(files_app: Any, district: dict[str, Any]) -> None:
    tenant, slug, ana = district["tenant"], district["slug"], district["ana"]
    ok = await store(files_app, tenant.id, "test_gated.doc", "ok")
    not_ok = await store(files_app, tenant.id, "test_gated.doc", "secret")
    assert (await ana.get(f"/t/{slug}/files/{ok}")).status_code == 404  # the district has the plugin off

    await set_plugin(files_app.state.db, files_app.state.plugins, tenant, "test_gated", True)
    files_app.state.tenant_cache.clear()
    assert (await ana.get(f"/t/{slug}/files/{ok}")).status_code == 200
    assert (await ana.get(f"/t/{slug}/files/{not_ok}")).status_code == 404

    await set_plugin(files_app.state.db, files_app.state.plugins, tenant, "test_gated", False)
    files_app.state.tenant_cache.clear()
    assert (await ana.get(f"/t/{slug}/files/{ok}")).status_code == 404


async def test_another_districts_file_is_not_found(files_app: Any, district: dict[str, Any]) -> None:
    file_id = await store(files_app, district["tenant"].id, "test.open")
    async with make_client(files_app) as other:
        assert (await login(other, "shuangluan", "admin")).status_code == 303
        # The plugin vouches for "test.open" files everywhere; the district boundary still holds.
        assert (await other.get(f"/t/shuangluan/files/{file_id}")).status_code == 404
    assert (await district["ana"].get(f"/t/{district['slug']}/files/{file_id}")).status_code == 200


async def test_an_anonymous_visitor_is_asked_to_sign_in(files_app: Any, district: dict[str, Any]) -> None:
    file_id = await store(files_app, district["tenant"].id, "test.open")
    async with make_client(files_app) as anonymous:
        r = await anonymous.get(f"/t/{district['slug']}/files/{file_id}")
    assert r.status_code in (302, 303) and "/login" in r.headers["location"]


async def test_a_page_uploaded_as_a_file_is_downloaded_not_shown(files_app: Any, district: dict[str, Any]) -> None:
    page = b"<html><script>alert(document.cookie)</script></html>"
    file_id = await store(files_app, district["tenant"].id, "test.open", data=page, content_type="text/html")
    r = await district["ana"].get(f"/t/{district['slug']}/files/{file_id}")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "sandbox" in r.headers["content-security-policy"]


async def upload(client: httpx.AsyncClient, slug: str, data: bytes, content_type: str, name: str = "a.png") -> Any:
    return await client.post(
        f"/t/{slug}/_test/upload",
        files={"upload": (name, data, content_type)},
        headers={"x-csrftoken": csrf_of(client)},
    )


async def test_the_uploader_sees_their_own_upload_and_a_colleague_does_not(
    files_app: Any, district: dict[str, Any]
) -> None:
    slug = district["slug"]
    r = await upload(district["ana"], slug, PNG, "image/png", "../../etc/照片.png")
    assert r.status_code == 201, r.text
    file_id = r.json()["id"]
    mine = await district["ana"].get(f"/t/{slug}/files/{file_id}")
    assert mine.status_code == 200 and mine.content == PNG and mine.headers["content-type"] == "image/png"
    assert "etc" not in mine.headers["content-disposition"]
    assert (await district["bo"].get(f"/t/{slug}/files/{file_id}")).status_code == 404


async def test_an_upload_over_the_limit_is_refused_with_a_clear_message(
    files_app: Any, district: dict[str, Any]
) -> None:
    r = await upload(district["ana"], district["slug"], PNG + b"\x00" * UPLOAD_LIMIT, "image/png", "big.png")
    assert r.status_code == 400
    assert "big.png" in r.json()["error"] and "too large" in r.json()["error"]


async def test_a_page_claiming_to_be_a_picture_is_refused(files_app: Any, district: dict[str, Any]) -> None:
    r = await upload(district["ana"], district["slug"], b"<html><script>x()</script></html>", "image/png", "cat.png")
    assert r.status_code == 400
    assert "cat.png" in r.json()["error"] and "not an accepted kind" in r.json()["error"]
