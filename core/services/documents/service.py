"""Issued documents: render a template to PDF, store it through core's file storage, keep the
record its verification QR code opens, revoke it if it was wrong.

Owns ``documents`` (the files are ``stored_files`` rows with ``owner_type = "core.documents"``).
The QR code holds ``<base>/t/<district>/verify/<code>``: anyone who scans it sees whether the
document is genuine and current — the page is phase 2's; ``verify`` is what it calls.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import record
from core.db.base import new_id
from core.services._common import actor_user_id, announce, now
from core.services.documents.models import Document
from core.services.documents.pdf import DocumentTemplate, render
from core.services.errors import Conflict, InvalidInput, NotFound, lazy

FILE_OWNER = "core.documents"


def verification_path(tenant_slug: str, code: str) -> str:
    """The tenant-relative page a document's QR code opens."""
    return f"/t/{tenant_slug}/verify/{code}"


async def issue(
    session: AsyncSession,
    storage: Any,
    *,
    tenant: Any,
    template: DocumentTemplate,
    values: dict[str, Any],
    base_url: str,
    subject: tuple[str, str] | None = None,
    node_path: str | None = None,
    source: str = "",
    rows: list[list[str]] | None = None,
    font_path: Path | None = None,
    at: datetime | None = None,
) -> Document:
    """Render ``template`` with ``values`` for ``tenant`` (its name heads the page), store the PDF,
    record it. ``base_url`` is the deployment's public address (``https://liuzhi.example.cn``)."""
    if not base_url.startswith(("http://", "https://")):
        raise InvalidInput(lazy("The public address must start with http:// or https://."), field="base_url")
    code = secrets.token_urlsafe(12)
    url = base_url.rstrip("/") + verification_path(tenant.slug, code)
    issued_at = at or now()
    rendered = render(
        template,
        values,
        district=tenant.name_zh,
        verify_url=url,
        verify_code=code,
        issued_at=issued_at,
        rows=rows,
        font_path=font_path,
    )
    doc_id = new_id()
    stored = await storage.save(
        session,
        tenant.id,
        data=rendered.data,
        filename=f"{rendered.title}-{code[:6]}.pdf",
        content_type="application/pdf",
        owner_type=FILE_OWNER,
        owner_id=doc_id,
        uploaded_by=actor_user_id(session),
    )
    await session.flush()
    doc = Document(
        id=doc_id,
        kind=template.kind,
        title=rendered.title[:300],
        source=source,
        subject_type=subject[0] if subject else None,
        subject_id=str(subject[1]) if subject else None,
        node_path=node_path,
        file_id=stored.id,
        sha256=stored.sha256,
        verify_code=code,
        issued_by=actor_user_id(session),
        issued_at=issued_at,
    )
    session.add(doc)
    await session.flush()
    await announce(
        session,
        "document.issued",
        {"document_id": doc.id, "kind": doc.kind, "source": source, "subject": list(subject or ())},
    )
    return doc


async def verify(session: AsyncSession, code: str) -> Document | None:
    """The record behind a verification code (revoked ones included: the page says so)."""
    code = (code or "").strip()
    if not code or len(code) > 32:
        return None
    return (await session.execute(select(Document).where(Document.verify_code == code))).scalar_one_or_none()


async def get(session: AsyncSession, document_id: int) -> Document:
    found = (await session.execute(select(Document).where(Document.id == document_id))).scalar_one_or_none()
    if found is None:
        raise NotFound(lazy("There is no document %(id)s."), id=document_id)
    return found


async def of_subject(session: AsyncSession, subject: tuple[str, str]) -> list[Document]:
    stmt = (
        select(Document)
        .where(Document.subject_type == subject[0], Document.subject_id == str(subject[1]))
        .order_by(Document.issued_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def revoke(session: AsyncSession, doc: Document, reason: str) -> Document:
    """Mark a document void (its QR code then says so); the file is kept as issued."""
    if not reason.strip():
        raise InvalidInput(lazy("Say why the document is revoked."), field="reason")
    if doc.revoked_at is not None:
        raise Conflict(lazy("The document is already revoked."))
    doc.revoked_at, doc.revoked_reason = now(), reason.strip()[:300]
    record(session, "document.revoke", "documents", doc.id, {"reason": doc.revoked_reason})
    await session.flush()
    await announce(session, "document.revoked", {"document_id": doc.id, "kind": doc.kind, "source": doc.source})
    return doc
