"""Documents: a PDF with CJK text, the district's name and a QR code that opens its record, stored
through core's file storage; placeholders must all be filled; a wrong document is revoked."""

from __future__ import annotations

import io
from typing import Any

import pypdf
import pytest
from sqlalchemy import select

from core.services import documents, events
from core.services.errors import Conflict, InvalidInput
from core.services.files.models import StoredFile
from core.services.files.storage import LocalStorage

CERTIFICATE = documents.DocumentTemplate(
    kind="certificate",
    title="志愿服务证明",
    fields=(("姓名", "{name}"), ("志愿者编号", "{number}"), ("服务时长", "{hours} 小时")),
    paragraphs=("兹证明{name}同志于{period}在{place}参加志愿服务，累计服务{hours}小时，表现突出。",),
    closing="特此证明。",
    signatures=("记录人",),
)
VALUES = {"name": "张安安", "number": "SL-2026-000123", "hours": "12.5", "period": "2026年", "place": "双安社区"}


def pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


async def test_a_certificate_is_issued_as_a_pdf_with_cjk_text_district_and_verification(world: Any, app: Any) -> None:
    storage = LocalStorage(app.state.settings.data_dir / "files")
    async with world.transaction("staff") as s:
        doc = await documents.issue(
            s,
            storage,
            tenant=world.tenant,
            template=CERTIFICATE,
            values=VALUES,
            base_url="https://liuzhi.example.cn",
            subject=("test.volunteer", "7"),
            source="test",
            rows=[["日期", "活动", "时长"], ["2026-05-01", "社区清扫", "2.5"]],
        )
        stored = (await s.execute(select(StoredFile).where(StoredFile.id == doc.file_id))).scalar_one()
        assert stored.owner_type == "core.documents" and stored.content_type == "application/pdf"
        assert events.pending(s)[-1].name == "document.issued"
    data = storage.path(stored.storage_key).read_bytes()
    assert data.startswith(b"%PDF") and stored.sha256 == doc.sha256
    text = pdf_text(data)
    for expected in ("志愿服务证明", "测试区", "张安安", "累计服务12.5小时", "社区清扫", "特此证明", doc.verify_code):
        assert expected in text.replace("\n", ""), expected
    assert f"/t/{world.tenant.slug}/verify/{doc.verify_code}" in text.replace("\n", "")
    async with world.session() as s:
        assert (await documents.verify(s, doc.verify_code)).id == doc.id
        assert await documents.verify(s, "not-a-code") is None
        assert [d.id for d in await documents.of_subject(s, ("test.volunteer", "7"))] == [doc.id]


def test_the_verification_qr_code_holds_the_record_address() -> None:
    from reportlab.graphics.barcode.qr import QrCodeWidget

    url = "https://liuzhi.example.cn" + documents.verification_path("shuangluan", "abc")
    assert QrCodeWidget(url).value == url  # what render() draws into the page


async def test_a_missing_value_is_a_clear_error_and_nothing_is_stored(world: Any, app: Any) -> None:
    storage = LocalStorage(app.state.settings.data_dir / "files")
    async with world.transaction("staff") as s:
        with pytest.raises(InvalidInput, match="hours, number"):
            await documents.issue(
                s,
                storage,
                tenant=world.tenant,
                template=CERTIFICATE,
                values={"name": "x", "period": "y", "place": "z"},
                base_url="https://x.cn",
            )
        with pytest.raises(InvalidInput, match="http"):
            await documents.issue(s, storage, tenant=world.tenant, template=CERTIFICATE, values=VALUES, base_url="x.cn")
        assert (await s.execute(select(StoredFile).where(StoredFile.owner_type == "core.documents"))).first() is None


async def test_a_wrong_document_is_revoked_and_its_record_says_so(world: Any, app: Any) -> None:
    storage = LocalStorage(app.state.settings.data_dir / "files")
    async with world.transaction("staff") as s:
        doc = await documents.issue(
            s, storage, tenant=world.tenant, template=CERTIFICATE, values=VALUES, base_url="https://x.cn"
        )
        with pytest.raises(InvalidInput):
            await documents.revoke(s, doc, "")
        await documents.revoke(s, doc, "服务时长录入错误，已重新开具")
        with pytest.raises(Conflict):
            await documents.revoke(s, doc, "again")
        assert (await documents.verify(s, doc.verify_code)).revoked_at is not None


def test_text_lays_out_in_one_pdf_for_a_long_agreement() -> None:
    from datetime import UTC, datetime

    template = documents.DocumentTemplate(
        kind="agreement",
        title="人民调解协议书",
        paragraphs=("{facts}",) * 3,
        signatures=("当事人甲", "当事人乙", "调解员"),
    )
    out = documents.render(
        template,
        {"facts": "邻里因漏水引发纠纷，" * 120},
        district="双滦区",
        verify_url="https://x.cn/v/1",
        verify_code="1",
        issued_at=datetime(2026, 5, 1, tzinfo=UTC),
    )
    reader = pypdf.PdfReader(io.BytesIO(out.data))
    assert len(reader.pages) >= 2 and "当事人乙（签名）" in pdf_text(out.data)
