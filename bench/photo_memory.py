"""A worker's memory through a burst of large photo uploads: peak, and how near baseline it settles.

Each variant runs in a fresh Python process that does what the app does with photos: the upload
path's ``process`` (smart_service.photos) in the default thread pool, as many at once as concurrent
requests bring (``--concurrency``). Reported per variant: resident memory at baseline (imports
done), the peak during the burst (VmHWM), right after it and after a few idle seconds.

  python bench/photo_memory.py                      # this tree's photos.py
  python bench/photo_memory.py --compare OLD.py     # … and another photos.py (e.g. main's) beside it

Inputs are made once in bench/results/photos/: JPEGs of 8000×6000 (48 MP, a phone's full
resolution) and PNGs of 4900×4900 (24 MP), smooth enough to stay under the 10 MB upload limit.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
INPUTS = HERE / "results" / "photos"
CURRENT = HERE.parent / "plugins" / "smart_service" / "photos.py"


def make_inputs() -> list[Path]:
    from PIL import Image, ImageDraw, ImageFilter

    INPUTS.mkdir(parents=True, exist_ok=True)
    out = []
    for name, size, fmt in (("large-48mp.jpg", (8000, 6000), "JPEG"), ("large-24mp.png", (4900, 4900), "PNG")):
        path = INPUTS / name
        if not path.exists():
            image = Image.radial_gradient("L").resize(size).convert("RGB")
            draw = ImageDraw.Draw(image)
            for i in range(0, size[0], 400):
                draw.line([(i, 0), (size[0] - i, size[1])], fill=(180, 40 + i % 200, 60), width=25)
            image = image.filter(ImageFilter.GaussianBlur(2))
            image.save(path, fmt, **({"quality": 80} if fmt == "JPEG" else {"optimize": True}))
        out.append(path)
    return out


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024  # MiB
    return 0


def child(module_path: str, photos: list[str], count: int, concurrency: int) -> None:
    """Runs in the measured process: baseline, burst, after."""
    import gc

    spec = importlib.util.spec_from_file_location("photos_under_test", module_path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    datas = [(Path(p).name, Path(p).read_bytes()) for p in photos]
    gc.collect()
    baseline = _status("VmRSS")

    async def burst() -> int:
        sem = asyncio.Semaphore(concurrency)
        done = 0

        async def one(i: int) -> None:
            nonlocal done
            name, data = datas[i % len(datas)]
            async with sem:
                result = await asyncio.to_thread(module.process, data, name)
                assert max(result.width, result.height) <= 2048
                done += 1

        await asyncio.gather(*(one(i) for i in range(count)))
        return done

    started = time.perf_counter()
    processed = asyncio.run(burst())
    seconds = time.perf_counter() - started
    peak = _status("VmHWM")
    gc.collect()
    after = _status("VmRSS")
    time.sleep(3)
    idle = _status("VmRSS")
    print(
        json.dumps(
            {
                "photos": processed,
                "concurrency": concurrency,
                "seconds": round(seconds, 1),
                "baseline_mib": baseline,
                "peak_mib": peak,
                "after_mib": after,
                "after_idle_mib": idle,
            }
        )
    )


def measure(module_path: Path, photos: list[Path], count: int, concurrency: int) -> dict[str, object]:
    cmd = [
        sys.executable,
        __file__,
        "--child",
        str(module_path),
        "--count",
        str(count),
        "--concurrency",
        str(concurrency),
    ]
    out = subprocess.run([*cmd, *map(str, photos)], capture_output=True, text=True, check=True, cwd=HERE.parent)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--compare", type=Path, help="another photos.py to measure beside this tree's")
    parser.add_argument("--count", type=int, default=24)
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("photos", nargs="*")
    args = parser.parse_args()
    if args.child:
        child(args.child, args.photos, args.count, args.concurrency)
        return
    photos = make_inputs()
    rows = {"this tree": measure(CURRENT, photos, args.count, args.concurrency)}
    if args.compare:
        rows[str(args.compare)] = measure(args.compare, photos, args.count, args.concurrency)
    for name, row in rows.items():
        print(f"{name:>40}: {json.dumps(row)}")
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / f"photo_memory-{int(time.time())}.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
