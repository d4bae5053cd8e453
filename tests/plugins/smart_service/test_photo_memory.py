"""Large photos are decoded with bounded memory: a 48 MP JPEG is read at a reduced DCT scale, a
PNG too large to decode in full is refused, and the burst bench (bench/photo_memory.py) has the
figures for a worker under many uploads at once."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from typing import Any

import pytest
from PIL import Image

from core import i18n
from plugins.smart_service import photos

# Runs in a fresh interpreter: makes the photo, then measures only what processing it adds.
PROBE = r"""
import gc, io, json, sys
from pathlib import Path
from PIL import Image
from plugins.smart_service.photos import process

image = Image.linear_gradient("L").resize((8000, 6000)).convert("RGB")
buf = io.BytesIO(); image.save(buf, "JPEG", quality=80); data = buf.getvalue()
del image, buf; gc.collect()

def status(field):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(field + ":"))
    return int(line.split()[1]) // 1024

Path("/proc/self/clear_refs").write_text("5")  # reset the peak (VmHWM) to the current size
before = status("VmRSS")
result = process(data, "big.jpg")
print(json.dumps({"added_mib": status("VmHWM") - before, "size": [result.width, result.height]}))
"""


def test_a_48_megapixel_jpeg_is_decoded_at_a_reduced_scale() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["size"] == [2048, 1536]
    # A full decode alone is 8000×6000×3 bytes = 137 MiB; scaled by the DCT it is a quarter.
    assert found["added_mib"] < 120, found


@pytest.fixture
def english() -> Any:
    i18n.set_locale("en")
    yield
    i18n.set_locale(i18n.DEFAULT_LOCALE)


def test_a_png_too_large_to_decode_in_full_is_refused(english: Any) -> None:
    buf = io.BytesIO()
    Image.new("L", (6000, 5000)).save(buf, "PNG")  # 30 MP; tiny as a file, 90 MB decoded as RGB
    with pytest.raises(photos.PhotoError, match="too many pixels"):
        photos.process(buf.getvalue(), "huge.png")
