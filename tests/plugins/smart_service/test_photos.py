"""Photos of events: checked by content, turned upright, located, stripped of all metadata, shrunk,
stored with a thumbnail — and refused with a message naming the file when they are not photos,
too large or too many."""

from __future__ import annotations

import io
from types import SimpleNamespace
from typing import Any

import pytest
from PIL import Image

from core import i18n
from core.services.files.models import StoredFile
from core.services.files.storage import LocalStorage
from plugins.smart_service import photos as ph
from tests.plugins.smart_service.fixtures.images import GPS, gif, phone_jpeg, png


@pytest.fixture(autouse=True)
def english() -> Any:
    """Messages are asserted in English (the source language)."""
    before = i18n.current_locale()
    i18n.set_locale("en")
    yield
    i18n.set_locale(before)


def test_gps_is_read_in_decimal_degrees_with_its_hemispheres() -> None:
    assert ph.read_gps(phone_jpeg()) == pytest.approx(GPS, abs=1e-6)
    assert ph.read_gps(phone_jpeg(gps=False)) is None
    assert ph.read_gps(b"not an image") is None


def test_southern_and_western_references_make_the_degrees_negative() -> None:
    image = Image.open(io.BytesIO(phone_jpeg()))
    exif = image.getexif()
    block = exif.get_ifd(0x8825)
    block[1], block[3] = "S", "W"
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    assert ph.read_gps(out.getvalue()) == pytest.approx((-GPS[0], -GPS[1]), abs=1e-6)


def test_a_phone_photo_comes_out_upright_without_any_metadata_and_its_location_read() -> None:
    original = phone_jpeg()
    assert b"PhoneMaker" in original
    done = ph.process(original, "IMG_0001.JPG")
    assert done.gps == pytest.approx(GPS, abs=1e-6)
    out = Image.open(io.BytesIO(done.data))
    assert out.format == "JPEG"
    assert out.size == (200, 400)  # rotated as the EXIF orientation said
    assert out.getpixel((100, 20))[2] > 150  # the blue strip, on the left before, is now on top
    assert out.getpixel((100, 380))[0] > 150
    assert dict(out.getexif()) == {}
    assert "exif" not in out.info and "icc_profile" not in out.info
    assert b"PhoneMaker" not in done.data and b"Exif" not in done.data
    assert ph.read_gps(done.data) is None


def test_large_photos_are_shrunk_to_2048_pixels_with_a_320_pixel_thumbnail() -> None:
    done = ph.process(phone_jpeg(3000, 1000, orientation=1), "big.jpg")
    assert Image.open(io.BytesIO(done.data)).size == (2048, 683)
    assert max(Image.open(io.BytesIO(done.thumbnail)).size) == 320


def test_png_with_transparency_is_accepted_and_stored_as_jpeg() -> None:
    done = ph.process(png(), "screen.png")
    assert Image.open(io.BytesIO(done.data)).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<html><script>alert(1)</script></html>", "fake.jpg is not a photo"),
        (gif(), "fake.jpg is not a photo we accept (GIF)"),
    ],
)
def test_what_is_not_a_photo_is_refused_naming_the_file(data: bytes, expected: str) -> None:
    with pytest.raises(ph.PhotoError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        ph.process(data, "fake.jpg")


def test_a_photo_over_10_mb_is_refused_naming_the_file() -> None:
    with pytest.raises(ph.PhotoError, match=r"huge\.jpg is too large: photos may be at most 10 MB"):
        ph.process(b"\xff\xd8\xff" + b"0" * ph.MAX_BYTES, "huge.jpg")


class FakeSession:
    def __init__(self) -> None:
        self.added: list[Any] = []

    def add(self, row: Any) -> None:
        self.added.append(row)


async def test_photos_are_stored_with_their_thumbnails_and_attached_to_the_event_later(tmp_path: Any) -> None:
    state = SimpleNamespace(storage=LocalStorage(tmp_path))
    session = FakeSession()
    stored = await ph.store_photos(
        state,
        session,
        7,
        [("a.jpg", phone_jpeg()), ("b.png", png())],
        event_id=None,
        uploaded_by=3,  # type: ignore[arg-type]
    )
    assert len(stored) == 2 and len(session.added) == 4
    assert stored.gps == pytest.approx(GPS, abs=1e-6)
    assert [row.filename for row in stored] == ["report-1.jpg", "report-2.jpg"]
    thumb = stored.thumbnails[stored[0].id]
    assert thumb.filename == f"thumb-{stored[0].id}.jpg" and ph.kind_of(stored[0]) == "report"
    assert all(isinstance(r, StoredFile) and r.owner_type == "smart_service.event" for r in session.added)
    written = state.storage.read(stored[0])
    assert b"PhoneMaker" not in written and ph.read_gps(written) is None
    ph.attach(stored, 42)
    assert {row.owner_id for row in session.added} == {"42"}


async def test_more_than_six_photos_at_once_are_refused_and_nothing_is_stored(tmp_path: Any) -> None:
    state = SimpleNamespace(storage=LocalStorage(tmp_path))
    session = FakeSession()
    with pytest.raises(ph.PhotoError, match="Send at most 6 photos at a time"):
        await ph.store_photos(
            state,
            session,
            7,
            [(f"{i}.jpg", phone_jpeg()) for i in range(7)],
            event_id=1,
            uploaded_by=3,  # type: ignore[arg-type]
        )
    assert session.added == []


async def test_one_bad_photo_among_good_ones_stores_none_of_them(tmp_path: Any) -> None:
    state = SimpleNamespace(storage=LocalStorage(tmp_path))
    session = FakeSession()
    with pytest.raises(ph.PhotoError, match=r"notes\.jpg is not a photo"):
        await ph.store_photos(
            state,
            session,
            7,
            [("ok.jpg", phone_jpeg()), ("notes.jpg", b"hello")],
            event_id=1,
            uploaded_by=3,  # type: ignore[arg-type]
        )
    assert session.added == []
