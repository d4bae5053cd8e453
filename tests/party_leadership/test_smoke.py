from typing import Any


async def test_overview_opens(as_admin: Any) -> None:
    r = await as_admin.get("/t/shuangluan/party/")
    assert r.status_code == 200, r.text[:2000]
