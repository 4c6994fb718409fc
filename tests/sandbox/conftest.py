"""Fixtures for the sandbox: a config on a copy of the bundled glossary, a sandbox running
in its own thread (for the browser, whose driver calls block), and headless Chromium.

The browser tests skip, saying why, when Chromium, its driver or selenium is missing;
CI installs them (see the report in the sandbox's pull request / .ci/run).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config
from bot.sandbox import Sandbox
from tests.conftest import BUNDLED_TERMS

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
DRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 20.0


def sandbox_config(root: Path) -> Config:
    """A config whose content is a private copy of the bundled glossary (tests edit it)."""
    content = Path(shutil.copytree(BUNDLED_TERMS, root / "terms"))
    return Config(
        content_dir=content, database=root / "state" / "glossary.sqlite3",
        cooldown_uses=100, cooldown_seconds=60.0,
    )


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return sandbox_config(tmp_path)


class SandboxThread:
    """A :class:`Sandbox` on its own event loop in a thread.

    Selenium's calls block; a sandbox on the test's own loop could not answer the page
    while the test waits for the browser. Start and stop are bounded.
    """

    def __init__(self, config: Config, **options: Any) -> None:
        self.sandbox = Sandbox(config, port=0, **options)
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="sandbox", daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                async with self.sandbox:
                    self._ready.set()
                    await asyncio.wait_for(self._stop.wait(), 600)
            except BaseException as exc:  # reported to the test thread
                self._error = exc
                self._ready.set()

        asyncio.run(main())

    def start(self) -> SandboxThread:
        self._thread.start()
        if not self._ready.wait(START_TIMEOUT):
            raise AssertionError(f"the sandbox did not start within {START_TIMEOUT}s")
        if self._error is not None:
            raise AssertionError(f"the sandbox failed to start: {self._error!r}")
        return self

    def call(self, coroutine: Any, timeout: float = 10.0) -> Any:
        """Run a coroutine on the sandbox's loop (e.g. to inspect it) and wait, bounded."""
        assert self._loop is not None
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            with contextlib.suppress(RuntimeError):  # loop already closed
                self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(STOP_TIMEOUT)
        assert not self._thread.is_alive(), "the sandbox thread did not stop"

    @property
    def url(self) -> str:
        return self.sandbox.url


def _first_existing(*paths: str | None) -> str | None:
    """Only existing paths: given a missing driver, Selenium would go and download one."""
    return next((p for p in paths if p and Path(p).is_file()), None)


def find_browser() -> tuple[str, str] | str:
    """(chromium, chromedriver) paths, or the reason the browser tests cannot run."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    chromium = _first_existing(os.environ.get("SANDBOX_CHROMIUM"), *CHROMIUM_CANDIDATES,
                               shutil.which("chromium"))
    driver = _first_existing(os.environ.get("SANDBOX_CHROMEDRIVER"), *DRIVER_CANDIDATES,
                             shutil.which("chromedriver"))
    if not chromium or not driver:
        return ("Chromium and chromedriver are not installed "
                "(apt-get install -y chromium chromium-driver)")
    return chromium, driver


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Headless Chromium through selenium, with a fresh profile and no network chatter."""
    found = find_browser()
    if isinstance(found, str):
        pytest.skip(found)
    chromium, driver_path = found
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=en-US",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(argument)
    # An explicit driver path keeps Selenium Manager from looking for (downloading) one.
    service = Service(executable_path=driver_path)
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except Exception as exc:  # noqa: BLE001 - any start-up failure is a skip reason
        pytest.skip(f"headless Chromium did not start: {exc}".splitlines()[0])
    driver.set_page_load_timeout(20)
    driver.set_script_timeout(20)
    try:
        yield driver
    finally:
        driver.quit()
