"""Browser-test harness: a live uvicorn server on the test database and a headless Debian Chromium.

The server is a second app instance (not the ``app`` fixture) on the same migrated database, run in
a thread with its own event loop, so the browser talks to it over real HTTP with the real
front-end files from node_modules (htmx, Pico CSS).
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from core.config import REPO_ROOT, Settings
from tests.conftest import DEMO_PASSWORD, PG_URL

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO_ROOT / "tests" / "artifacts"
DB_NAME = "postgresql" if PG_URL else "sqlite"


class LiveServer:
    """uvicorn in a background thread; ``url("/t/x/")`` gives an absolute address on it."""

    def __init__(self, settings: Settings) -> None:
        from core.app import create_app

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(settings),
            log_level="warning",
            lifespan="on",
            # The notification bell keeps an SSE stream open; do not wait on it for long at shutdown.
            timeout_graceful_shutdown=3,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self._run, name="liuzhi-live-server", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.server.serve(sockets=[self.sock]))
        except BaseException as exc:  # reported by start() instead of dying silently in the thread
            self.error = exc

    def url(self, path: str) -> str:
        return self.base + path

    def start(self, timeout: float = 30.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None or not self.thread.is_alive():
                raise RuntimeError(f"live server did not start: {self.error!r}")
            try:
                with urllib.request.urlopen(self.url("/healthz"), timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"live server did not answer /healthz within {timeout:.0f}s")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)
        self.sock.close()


@pytest.fixture(scope="session")
def live_server(migrated: Settings) -> Iterator[LiveServer]:
    server = LiveServer(migrated)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def browser(live_server: LiveServer) -> AsyncIterator[Any]:
    """Headless Debian Chromium; depends on the live server so it closes (and drops its streams) first."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason} (CI must run them)")
        pytest.skip(reason)
    from playwright.async_api import async_playwright, expect

    # Assertions wait as long as actions do (5 s by default): the two suites share CI's two CPUs.
    expect.set_options(timeout=10_000)

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()


@pytest.fixture
async def new_context(browser: Any) -> AsyncIterator[Any]:
    """``await new_context(viewport=...)`` → a fresh browser context (own cookies); closed after the test."""
    contexts: list[Any] = []

    async def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1280, "height": 800})
        options.setdefault("locale", "zh-CN")
        context = await browser.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        await context.close()


def shot_path(name: str) -> Path:
    """tests/artifacts/<name>-<database>.png, e.g. kernel-dashboard-zh-sqlite.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}-{DB_NAME}.png"


async def sign_in(page: Any, live: LiveServer, tenant: str, username: str, password: str = DEMO_PASSWORD) -> None:
    """Open the tenant's start page, get sent to its login page, fill the form and land on the dashboard."""
    await page.goto(live.url(f"/t/{tenant}/"))
    await page.wait_for_url(f"**/t/{tenant}/login**")
    await page.locator("input[name=username]").fill(username)
    await page.locator("input[name=password]").fill(password)
    await page.locator("main form button[type=submit]").click()
    await page.wait_for_url(live.url(f"/t/{tenant}/"))
