"""Per-tenant file storage: a local directory by default; served only to who may see the owner.

Plugins store uploads with ``await save_upload(request, upload, "<plugin>.<record>", record_id)``
and answer the ``file_access`` hook for their ``owner_type``; ``/files/<id>`` serves the bytes.
"""

from core.services.files.models import StoredFile
from core.services.files.storage import MAX_BYTES, FileTooLarge, FileTypeNotAllowed, LocalStorage, UploadError
from core.services.files.uploads import DOCUMENTS, IMAGES, save_upload

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
]
