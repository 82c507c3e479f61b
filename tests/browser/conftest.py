"""The demo web client in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright).

Nothing is downloaded: `playwright install` is never run; `make chromium` (a prerequisite of
`make test`) installs Debian's package when /usr/bin/chromium is missing.
"""

import os
import re
from pathlib import Path

import pytest

from tests.e2e.stack import Stack, free_port

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "build" / "artifacts"
# Headless, and nothing in the background that would reach beyond 127.0.0.1.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    """An embedded stack of its own (the e2e tier's fixture is not visible here), free ports."""
    stack = Stack(tmp_path_factory.mktemp("devstack"), free_port(), free_port())
    stack.wait_ready()
    yield stack
    stack.stop()


@pytest.fixture(scope="session")
def demo_url(stack):
    """The demo's origin, as `python -m devstack` prints it."""
    for line in stack.lines:
        found = re.search(r"Echomate demo at (http://\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("the stack printed no demo URL:\n" + "\n".join(stack.lines[-20:]))


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs Debian's package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A fresh page that fails the test on any JS error or any request beyond 127.0.0.1."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(f"JS error: {error}"))
    page.on(
        "request",
        lambda request: (
            None
            if re.match(r"(https?://127\.0\.0\.1[:/]|data:|blob:)", request.url)
            else page.errors.append(f"request beyond 127.0.0.1: {request.url}")
        ),
    )
    yield page
    context.close()
    assert page.errors == []
