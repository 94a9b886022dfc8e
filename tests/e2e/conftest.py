"""A real headless Chromium (Debian's, never a downloaded one) driven by Playwright."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from services import service_missing


def chromium_path() -> str | None:
    """Debian's Chromium (``apt-get install chromium``), or STRIPEKIT_CHROMIUM."""
    for candidate in (os.environ.get("STRIPEKIT_CHROMIUM"), "chromium", "chromium-browser"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


# Per module, not per session: Playwright's sync API keeps an event loop running in
# this thread, and pytest-asyncio's tests elsewhere need the thread to themselves.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        service_missing("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_missing("playwright is not installed (pip install 'stripekit[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=path,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    yield tab
    context.close()


ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "e2e-artifacts"


@pytest.fixture
def screenshot(page: Any, request: pytest.FixtureRequest) -> Callable[[str], Path]:
    """``screenshot("account")`` saves the page, numbered in order, under the test's own
    folder of STRIPEKIT_ARTIFACTS (default: build/e2e-artifacts), for CI to keep."""
    root = Path(os.environ.get("STRIPEKIT_ARTIFACTS") or ARTIFACTS)
    folder = root / re.sub(r"[^\w.-]+", "_", request.node.name)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    taken: list[Path] = []

    def take(name: str) -> Path:
        path = folder / f"{len(taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        taken.append(path)
        return path

    return take
