"""Event photos: checked by their content, turned upright, located, stripped of metadata, shrunk,
and stored as core ``StoredFile`` rows owned by ``smart_service.event`` (the plugin's
``file_access`` hook decides who may see them).

What a stored photo is:

- The photo itself: a JPEG (quality 85) at most 2048 px on its long side, without any EXIF, ICC
  profile or comment, named ``<kind>-<n>.jpg`` where ``kind`` is "report", "before" or "after" —
  so staff pages can put before and after side by side (``kind_of``).
- Its thumbnail: a second row, at most 320 px, named ``thumb-<photo id>.jpg``, with the same owner.
  ``thumbnails(session, ids)`` maps photo ids to thumbnail ids.

The GPS position is read from EXIF *before* the metadata goes (``read_gps``); ``store_photos``
returns the rows with ``.gps``, the first position found (lon, lat), for a report without one.

Photos of a report are stored before the event exists: pass ``event_id=None`` and ``attach`` them
once the event has its id.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.i18n import gettext as _
from core.services.files.models import StoredFile
from core.services.files.storage import UploadError, clean_filename

try:  # HEIC (iPhone photos) when the optional pillow-heif is installed
    from pillow_heif import register_heif_opener  # type: ignore[import-not-found]

    register_heif_opener()
    HEIC = True
except ImportError:  # pragma: no cover - depends on the environment
    HEIC = False

OWNER_TYPE = "smart_service.event"
KINDS = ("report", "before", "after")
MAX_BYTES = 10 * 1024 * 1024
MAX_COUNT = 6
MAX_SIDE = 2048
THUMB_SIDE = 320
QUALITY = 85
FORMATS = {"JPEG", "PNG", "WEBP", *({"HEIF"} if HEIC else set())}
ACCEPT = "image/jpeg,image/png,image/webp" + (",image/heic,image/heif" if HEIC else "")
THUMB_PREFIX = "thumb-"

# Memory is bounded three ways. A JPEG is decoded straight at a reduced scale (libjpeg's DCT
# scaling through ``draft``: a 48 MP phone photo decodes at 1/2 or 1/4 size, never in full);
# a format without that (PNG, WebP, HEIF) is decoded in full only up to FULL_DECODE_PIXELS;
# and at most DECODERS photos are decoded at once per process, however many uploads arrive.
MAX_PIXELS = 100_000_000  # what a JPEG may have (read scaled); more is a decompression bomb
FULL_DECODE_PIXELS = 25_000_000  # ~100 MB as RGBA: the most any one full decode may take
DECODERS = 2
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
_decoding = threading.BoundedSemaphore(DECODERS)  # threads, not the event loop: process() runs in one

_GPS_IFD = 0x8825
_ORIENTATION = 0x0112


class PhotoError(UploadError):
    """A photo was refused; ``str(exc)`` is a message for the person who sent it (translated)."""


@dataclass(frozen=True)
class Processed:
    """One photo after processing: clean JPEG bytes, its thumbnail, and where it was taken."""

    filename: str
    data: bytes
    thumbnail: bytes
    gps: tuple[float, float] | None
    width: int
    height: int


class StoredPhotos(list[StoredFile]):
    """The stored photo rows (thumbnails not included), with the first GPS position any carried."""

    gps: tuple[float, float] | None = None
    thumbnails: dict[int, StoredFile]

    def __init__(self, rows: Iterable[StoredFile] = (), gps: tuple[float, float] | None = None) -> None:
        super().__init__(rows)
        self.gps = gps
        self.thumbnails = {}

    @property
    def ids(self) -> list[int]:
        return [row.id for row in self]


# ---- reading GPS -------------------------------------------------------------------------------


def _degrees(value: Any) -> float:
    """EXIF degrees/minutes/seconds (three rationals) → decimal degrees."""
    d, m, s = (float(part) for part in value)
    return d + m / 60.0 + s / 3600.0


def gps_of(image: Image.Image) -> tuple[float, float] | None:
    """(lon, lat) in decimal degrees from an opened image's EXIF GPS block, or None."""
    try:
        gps = image.getexif().get_ifd(_GPS_IFD)
        if not gps or 2 not in gps or 4 not in gps:
            return None
        lat = _degrees(gps[2])
        lon = _degrees(gps[4])
    except (TypeError, ValueError, ZeroDivisionError, KeyError, AttributeError):
        return None
    if str(gps.get(1, "N")).strip().upper().startswith("S"):
        lat = -lat
    if str(gps.get(3, "E")).strip().upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None
    return round(lon, 6), round(lat, 6)


def read_gps(data: bytes) -> tuple[float, float] | None:
    """(lon, lat) where the photo says it was taken, or None (no EXIF GPS, or not an image)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            return gps_of(image)
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


# ---- processing --------------------------------------------------------------------------------


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # No exif=, no icc_profile=: Pillow writes none unless given, so the output carries no metadata.
    image.save(out, "JPEG", quality=QUALITY, optimize=True)
    return out.getvalue()


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def process(data: bytes, filename: str) -> Processed:
    """Check, locate, upright, strip, shrink one photo (CPU work: call in a thread).

    Raises ``PhotoError`` naming the file when it is too large or not a photo we accept.
    """
    name = clean_filename(filename)
    if len(data) > MAX_BYTES:
        raise PhotoError(_("%(name)s is too large: photos may be at most %(mb)s MB.", name=name, mb=MAX_BYTES >> 20))
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in FORMATS:
                raise PhotoError(
                    _(
                        "%(name)s is not a photo we accept (%(kind)s). Send JPEG, PNG or WebP.",
                        name=name,
                        kind=opened.format or "?",
                    )
                )
            width, height = opened.size
            if width * height > (MAX_PIXELS if opened.format == "JPEG" else FULL_DECODE_PIXELS):
                raise Image.DecompressionBombError(f"{width}x{height}")
            gps = gps_of(opened)
            with _decoding:
                if opened.format == "JPEG":
                    # Decode at the smallest DCT scale still at least MAX_SIDE on each side.
                    opened.draft("RGB", (MAX_SIDE, MAX_SIDE))
                # Shrink in place first (the box fits either orientation): the one full-size
                # buffer is the decoded image; turning and converting work on the small one.
                opened.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
                image = _rgb(ImageOps.exif_transpose(opened))
    except PhotoError:
        raise
    except Image.DecompressionBombError:
        raise PhotoError(_("%(name)s has too many pixels to be a photo.", name=name)) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise PhotoError(_("%(name)s is not a photo: send JPEG, PNG or WebP pictures.", name=name)) from None
    image.info.clear()
    full = _jpeg(image)
    thumb_image = image.copy()
    thumb_image.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    return Processed(name, full, _jpeg(thumb_image), gps, image.width, image.height)


# ---- uploads -----------------------------------------------------------------------------------


async def _read(upload: Any) -> tuple[str, bytes]:
    """(filename, bytes) of an ``UploadFile``, a ``(filename, bytes)`` pair or raw bytes; at most
    one byte beyond the limit is read, so a huge upload is refused without reading it all."""
    if isinstance(upload, bytes | bytearray):
        return "photo.jpg", bytes(upload)
    if isinstance(upload, tuple):
        return str(upload[0]), bytes(upload[1])
    name = clean_filename(getattr(upload, "filename", None) or "photo")
    chunks, size = [], 0
    while True:
        chunk = await upload.read(1024 * 1024)
        if not chunk:
            break
        size += len(chunk)
        chunks.append(chunk)
        if size > MAX_BYTES:
            break
    return name, b"".join(chunks)


def real_uploads(uploads: Iterable[Any] | Any | None) -> list[Any]:
    """The uploads a form really carried: a form's empty file input arrives as a nameless, empty part."""
    if uploads is None:
        return []
    if not isinstance(uploads, list):
        uploads = [uploads]
    kept = []
    for upload in uploads:
        if isinstance(upload, bytes | bytearray | tuple) or getattr(upload, "filename", None):
            kept.append(upload)
    return kept


def _storage(request_or_state: Any) -> Any:
    app = getattr(request_or_state, "app", None)
    state = app.state if app is not None else request_or_state
    return state.storage


async def store_photos(
    request_or_state: Any,
    session: AsyncSession,
    tenant_id: int,
    uploads: Sequence[Any],
    *,
    event_id: int | None,
    kind: str = "report",
    uploaded_by: int | None,
) -> StoredPhotos:
    """Process and store up to six photos (and their thumbnails) for an event; the caller commits.

    ``uploads``: litestar ``UploadFile``s, ``(filename, bytes)`` pairs or bytes. Every photo is
    checked before anything is written, so a refusal (``PhotoError``) stores nothing.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown photo kind {kind!r}")
    uploads = real_uploads(list(uploads) if not isinstance(uploads, list) else uploads)
    if len(uploads) > MAX_COUNT:
        raise PhotoError(_("Send at most %(max)s photos at a time.", max=MAX_COUNT))
    processed = []
    for upload in uploads:
        name, data = await _read(upload)
        processed.append(await asyncio.to_thread(process, data, name))
    storage = _storage(request_or_state)
    if processed and hasattr(storage, "check_room"):  # all the photos fit the district's quota, or none is stored
        await storage.check_room(session, tenant_id, sum(len(p.data) + len(p.thumbnail) for p in processed))
    gps = next((p.gps for p in processed if p.gps is not None), None)
    stored = StoredPhotos(gps=gps)
    for n, photo in enumerate(processed, 1):
        common = {
            "content_type": "image/jpeg",
            "owner_type": OWNER_TYPE,
            "owner_id": event_id,
            "uploaded_by": uploaded_by,
            "max_bytes": MAX_BYTES,
        }
        row = await storage.save(session, tenant_id, data=photo.data, filename=f"{kind}-{n}.jpg", **common)
        thumb = await storage.save(
            session, tenant_id, data=photo.thumbnail, filename=f"{THUMB_PREFIX}{row.id}.jpg", **common
        )
        stored.append(row)
        stored.thumbnails[row.id] = thumb
    return stored


def attach(photos: StoredPhotos, event_id: int) -> None:
    """Give photos stored before their event existed (and their thumbnails) to ``event_id``."""
    for row in [*photos, *photos.thumbnails.values()]:
        row.owner_id = str(event_id)


def kind_of(row: StoredFile) -> str:
    """ "report", "before", "after" or "thumb" from the stored name."""
    return row.filename.split("-", 1)[0]


async def thumbnails(session: AsyncSession, photo_ids: Iterable[int]) -> dict[int, int]:
    """Photo id → its thumbnail's id (photos without one are left out)."""
    ids = [int(i) for i in photo_ids]
    if not ids:
        return {}
    names = {f"{THUMB_PREFIX}{i}.jpg": i for i in ids}
    rows = await session.execute(
        select(StoredFile.id, StoredFile.filename).where(
            StoredFile.owner_type == OWNER_TYPE, StoredFile.filename.in_(list(names))
        )
    )
    return {names[filename]: file_id for file_id, filename in rows}


async def photos_by_id(session: AsyncSession, photo_ids: Iterable[int]) -> dict[int, StoredFile]:
    ids = [int(i) for i in photo_ids]
    if not ids:
        return {}
    rows = await session.execute(select(StoredFile).where(StoredFile.id.in_(ids)))
    return {row.id: row for row in rows.scalars()}
