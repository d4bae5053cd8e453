"""Phone page load on a weak signal (slow 3G: 400 ms round trip, 50 KB/s), cold and warm.

    .venv/bin/python bench/weak_signal.py --rounds 5 --port 8104

Serves the demo (``liuzhi demo`` on embedded SQLite in ``--data-dir``, seeded once and reused)
and drives Debian's Chromium through Playwright at 390 × 844 with the DevTools network emulation
(``Network.emulateNetworkConditions``: latency 400 ms, download and upload 50 KB/s). Each page is
loaded ``--rounds`` times *cold* (browser cache cleared, same signed-in session) and *warm* (loaded
again, cache kept), each load ``SETTLE_MS`` after the one before and without the service worker,
timed from navigation start to the load event (``PerformanceNavigationTiming.loadEventEnd``);
bytes on the wire are the page's and its resources' ``transferSize``, requests the page and its
resources. Prints min / median / max and writes bench/results/weak-signal-<ts>.json.
Benchmarks only report: nothing here asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "liuzhi-demo"
# (who, page) pairs: every page of the grid worker's tab bar and every page a resident reaches from
# the home tiles on the phone. A path "first:<page> <selector>" is the page the first link matching
# <selector> on <page> leads to (a household's visit form: its id is the demo's).
PAGES = (
    ("grid_worker", "/t/shuangluan/"),
    ("grid_worker", "/t/shuangluan/smart-service/tasks"),
    ("grid_worker", "/t/shuangluan/smart-service/report?source=grid_patrol"),
    ("grid_worker", "/t/shuangluan/field/patrol"),
    ("grid_worker", "/t/shuangluan/field/households"),
    ("grid_worker", "first:/t/shuangluan/field/households a[data-testid^=visit-]"),
    ("grid_worker", "/t/shuangluan/field/log"),
    ("grid_worker", "/t/shuangluan/field/"),
    ("resident", "/t/shuangluan/"),
    ("resident", "/t/shuangluan/smart-service/report"),
    ("resident", "/t/shuangluan/smart-service/mine"),
    ("resident", "/t/shuangluan/smart-service/bookings/"),
    ("resident", "/t/shuangluan/smart-service/bookings/new"),
)
# A page's work after its load event (a map loading, the bell's stream) is over before the next
# load starts, as when a person reads the page before going on: it must not share the link with it.
SETTLE_MS = 3000
SLOW_3G = {"offline": False, "latency": 400, "downloadThroughput": 50 * 1024, "uploadThroughput": 50 * 1024}

TIMING = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  return {ms: nav.loadEventEnd - nav.startTime, page: nav.transferSize,
          bytes: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0), files: res.length};
}"""


def serve(port: int, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "LIUZHI_DATA_DIR": str(data_dir)}
    env.pop("LIUZHI_DATABASE_URL", None)
    log = (data_dir / "server.log").open("ab")
    cmd = [sys.executable, "-m", "core.cli", "demo", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 900  # the first run seeds the demo districts
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"demo server exited; see {data_dir / 'server.log'}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(1)
    proc.terminate()
    raise SystemExit("demo server did not come up")


async def measure(base: str, rounds: int) -> list[dict[str, Any]]:
    from playwright.async_api import async_playwright

    out = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for who, path in PAGES:
            # No service worker: DevTools' emulation throttles the page, not a worker's own fetches, so a
            # page the worker fetched would skip the slow link (it did: "warm" under 0.4 s). Cold is a
            # first visit; warm is the HTTP cache (the worker leaves /assets/ to it).
            context = await browser.new_context(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True, service_workers="block"
            )
            page = await context.new_page()
            await page.goto(f"{base}/t/shuangluan/login")
            await page.fill("input[name=username]", who)
            await page.fill("input[name=password]", PASSWORD)
            await page.click("main form button[type=submit]")
            await page.wait_for_load_state("load")
            if path.startswith("first:"):
                start, selector = path[len("first:") :].split(" ", 1)
                await page.goto(base + start, wait_until="load")
                path = await page.locator(selector).first.get_attribute("href") or start
            cdp = await context.new_cdp_session(page)
            await cdp.send("Network.enable")
            await cdp.send("Network.emulateNetworkConditions", SLOW_3G)
            cold, warm = [], []
            for _ in range(rounds):
                await cdp.send("Network.clearBrowserCache")
                await page.goto(base + path, wait_until="load")
                cold.append(await page.evaluate(TIMING))
                await page.wait_for_timeout(SETTLE_MS)
                await page.goto(base + path, wait_until="load")
                warm.append(await page.evaluate(TIMING))
                await page.wait_for_timeout(SETTLE_MS)
            out.append({"who": who, "path": path, "cold": cold, "warm": warm})
            await context.close()
        await browser.close()
    return out


def spread(values: list[float]) -> str:
    return f"{min(values):7.0f} {statistics.median(values):7.0f} {max(values):7.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8104)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/liuzhi-weak-signal"))
    parser.add_argument("--base", default=None, help="measure a server already running here instead")
    args = parser.parse_args()
    proc = None
    base = args.base
    if base is None:
        args.data_dir.mkdir(parents=True, exist_ok=True)
        proc = serve(args.port, args.data_dir)
        base = f"http://127.0.0.1:{args.port}"
    try:
        results = asyncio.run(measure(base, args.rounds))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
    load = os.getloadavg()
    print(
        f"slow 3G (RTT 400 ms, 50 KB/s), 390x844, {args.rounds} rounds; ms min / median / max; KB and requests median"
    )
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'who':12} {'page':52} {'cold ms':>23} {'KB':>6} {'req':>3} {'warm ms':>23} {'KB':>6} {'req':>3}")
    for r in results:
        cold_kb = statistics.median(x["bytes"] for x in r["cold"]) / 1024
        warm_kb = statistics.median(x["bytes"] for x in r["warm"]) / 1024
        cold_n = statistics.median(x["files"] + 1 for x in r["cold"])
        warm_n = statistics.median(x["files"] + 1 for x in r["warm"])
        print(
            f"{r['who']:12} {r['path'][:52]:52} {spread([x['ms'] for x in r['cold']])} {cold_kb:6.1f} {cold_n:3.0f}"
            f" {spread([x['ms'] for x in r['warm']])} {warm_kb:6.1f} {warm_n:3.0f}"
        )
    folder = HERE / "results"
    folder.mkdir(exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    (folder / f"weak-signal-{stamp}.json").write_text(
        json.dumps({"rounds": args.rounds, "loadavg": load, "results": results}, indent=1)
    )


if __name__ == "__main__":
    main()
