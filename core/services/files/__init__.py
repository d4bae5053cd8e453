"""Per-tenant file storage: a local directory by default; served only to who may see the owner.

Handlers store uploads with ``await core.web.uploads.save_upload(request, upload, "<plugin>.<record>",
record_id)`` (``store_upload`` here takes the session, storage and tenant explicitly)
and answer the ``file_access`` hook for their ``owner_type``; ``/files/<id>`` serves the bytes.
"""

from core.services.files.models import StoredFile
from core.services.files.storage import MAX_BYTES, FileTooLarge, FileTypeNotAllowed, LocalStorage, UploadError
from core.services.files.uploads import DOCUMENTS, IMAGES, save_upload, store_upload

__all__ = [
    "DOCUMENTS",
    "IMAGES",
    "MAX_BYTES",
    "FileTooLarge",
    "FileTypeNotAllowed",
    "LocalStorage",
    "StoredFile",
    "UploadError",
    "save_upload",
    "store_upload",
]
