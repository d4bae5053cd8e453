"""CSRF tokens are bound to the session: a token minted for one session is refused with another's
cookie, even when the attacker plants the matching CSRF cookie too (cookie tossing from a sibling
sub-domain)."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import DEMO_PASSWORD, csrf_of


async def _post_locale(client: Any, token: str, csrf_cookie: str, locale: str = "en") -> Any:
    session = client.cookies.get("liuzhi_session")
    return await client.post(
        "/t/shuangluan/account/locale",
        data={"locale": locale, "next": "/t/shuangluan/", "_csrf_token": token},
        headers={"Cookie": f"liuzhi_session={session}; liuzhi_csrf={csrf_cookie}"},
    )


async def test_a_token_from_another_session_is_refused_even_with_its_cookie(signed_in: Any) -> None:
    attacker = await signed_in("shuangluan", "grid_worker")
    victim = await signed_in("shuangluan", "community")
    await attacker.get("/t/shuangluan/account/")
    stolen = csrf_of(attacker)
    r = await _post_locale(victim, stolen, stolen)
    assert r.status_code == 403
    assert "表单已过期" in r.text or "form has expired" in r.text
    # The victim's own pair still works: the refusal is about whose session minted the token.
    await victim.get("/t/shuangluan/account/")
    own = csrf_of(victim)
    assert (await _post_locale(victim, own, own, "zh_Hans")).status_code == 303


async def test_signing_in_issues_a_token_for_the_new_session(app: Any, signed_in: Any) -> None:
    client = await signed_in("shuangluan", "grid_worker")
    token = csrf_of(client)
    r = await client.post("/t/shuangluan/account/locale", data={"locale": "zh_Hans", "next": "/", "_csrf_token": token})
    assert r.status_code == 303


async def test_an_anonymous_token_does_not_work_once_signed_in(signed_in: Any, client: Any) -> None:
    await client.get("/t/shuangluan/login")
    anonymous = csrf_of(client)
    victim = await signed_in("shuangluan", "grid_worker")
    r = await _post_locale(victim, anonymous, anonymous)
    assert r.status_code == 403


async def test_the_token_a_page_renders_works_after_the_browser_fetches_its_assets(signed_in: Any) -> None:
    """What a browser does: load the page, fetch its stylesheets and scripts, post the form with
    the token the page carries (not one read from the cookie jar)."""
    c = await signed_in("shuangluan", "grid_worker")
    page = await c.get("/t/shuangluan/account/")
    rendered = re.search(r'name="_csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    for asset in ("/static/core/liuzhi.css", "/static/core/liuzhi.js", "/healthz"):
        r = await c.get(asset)
        assert not any(h.startswith("liuzhi_csrf=") for h in r.headers.get_list("set-cookie")), asset
    r = await c.post(
        "/t/shuangluan/account/locale", data={"locale": "zh_Hans", "next": "/t/shuangluan/", "_csrf_token": rendered}
    )
    assert r.status_code == 303


async def test_the_login_form_token_works_as_rendered(client: Any) -> None:
    page = await client.get("/t/shuangluan/login")
    rendered = re.search(r'name="_csrf_token" value="([0-9a-f]+)"', page.text).group(1)
    r = await client.post(
        "/t/shuangluan/login",
        data={"username": "grid_worker", "password": DEMO_PASSWORD, "_csrf_token": rendered, "next": ""},
    )
    assert r.status_code == 303
