"""律师参与信访: an officer registers a petition for a lawyer, who records advice and the outcome."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import form_post, main_text

T = "/t/shuangluan"


async def test_a_lawyer_sees_their_petition_and_concludes_it_after_acceptance(signed_in: Any) -> None:
    officer = await signed_in("shuangluan", "subdistrict_officer")
    page = await officer.get(f"{T}/rule-of-law/petitions/")
    community = re.search(r'name="node"><option value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    lawyer_id = re.search(r'name="lawyer"><option value="">—</option><option value="(\d+)"', page.text).group(1)  # type: ignore[union-attr]
    r = await form_post(
        officer,
        f"{T}/rule-of-law/petitions/",
        {
            "subject": "楼顶防水维修资金使用有异议",
            "petitioner": "孔德胜",
            "node": community,
            "received_on": "2026-12-01",
            "lawyer": lawyer_id,
        },
    )
    assert r.status_code == 303
    url = r.headers["location"]
    assert "2026-12-16前决定是否受理" in main_text((await officer.get(url)).text)  # 15 days

    lawyer = await signed_in("shuangluan", "lawyer")
    assert "楼顶防水维修资金使用有异议" in main_text((await lawyer.get(f"{T}/rule-of-law/petitions/")).text)
    r = await form_post(lawyer, f"{url}/advise", {"advice": "建议依法公示维修资金使用明细", "outcome": "已办结"})
    assert r.status_code == 400 and "须先受理" in main_text(r.text)
    assert (await form_post(officer, f"{url}/accept", {})).status_code == 303
    assert (await form_post(lawyer, f"{url}/accept", {})).status_code == 404  # not the lawyer's to accept
    r = await form_post(
        lawyer, f"{url}/advise", {"advice": "建议依法公示维修资金使用明细", "outcome": "信访人表示认可"}
    )
    assert r.status_code == 303
    text = main_text((await lawyer.get(url)).text)
    assert "已办结" in text and "信访人表示认可" in text

    worker = await signed_in("shuangluan", "grid_worker")
    assert (await worker.get(url)).status_code == 403
