"""Headless Chromium (Playwright) against the app served on loopback.

Without /usr/bin/chromium the browser tests are skipped with the reason, except under
``CI=true``, where a missing browser fails them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from tests.environment import unavailable
from tests.local_http import serve_app

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the session."""
    if not CHROMIUM.exists():
        unavailable(f"headless Chromium not found at {CHROMIUM} (set CHROMIUM_PATH)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - the dev extra installs it
        unavailable("playwright (python) is not installed")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def live_url(seeded: Flask) -> Iterator[str]:
    """The seeded app, served by werkzeug in a thread on 127.0.0.1."""
    with serve_app(seeded) as url:
        yield url


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    """A fresh browser tab (its own sessionStorage); console errors fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_default_timeout(10_000)
    yield page
    context.close()
    unexpected = [e for e in errors if "412" not in e and "401" not in e]
    assert unexpected == [], unexpected
