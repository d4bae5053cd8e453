"""PDF documents with a verification QR code. ``from core.services import documents``."""

from core.services.documents.models import Document
from core.services.documents.pdf import DocumentTemplate, Rendered, fill, render
from core.services.documents.service import FILE_OWNER, get, issue, of_subject, revoke, verification_path, verify

__all__ = [
    "FILE_OWNER",
    "Document",
    "DocumentTemplate",
    "Rendered",
    "fill",
    "get",
    "issue",
    "of_subject",
    "render",
    "revoke",
    "verification_path",
    "verify",
]
