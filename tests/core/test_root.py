"""The bare root of a deployment and the error pages: somewhere useful, in the user's language,
with a way back."""

from __future__ import annotations

from typing import Any

from tests.conftest import main_text


async def test_the_bare_root_of_a_multi_district_deployment_is_a_plain_landing_page(client: Any) -> None:
    r = await client.get("/", headers={"accept-language": "zh-CN"})
    assert r.status_code == 200
    assert "每个辖区都有自己的网址" in main_text(r.text)
    assert 'href="/platform/login"' in r.text
    en = await client.get("/", headers={"accept-language": "en"})
    assert "Each district has its own address" in main_text(en.text)


async def test_an_operator_at_the_bare_root_goes_to_the_tenant_list(as_operator: Any) -> None:
    r = await as_operator.get("/")
    assert r.status_code in (302, 303, 307) and r.headers["location"] == "/platform/"


async def test_a_missing_page_is_404_styled_in_the_users_language_with_a_way_back(as_admin: Any, client: Any) -> None:
    r = await as_admin.get("/t/shuangluan/no-such-page")
    assert r.status_code == 404
    assert ("lz-main" in r.text and "页面不存在" in main_text(r.text)) or "未找到" in main_text(r.text)
    assert 'href="/t/shuangluan/"' in r.text and 'data-testid="way-back"' in r.text
    anon = await client.get("/no-such-place/x", headers={"accept-language": "en"})
    assert anon.status_code == 404
    assert "Page not found" in main_text(anon.text) and 'data-testid="way-back"' in anon.text
