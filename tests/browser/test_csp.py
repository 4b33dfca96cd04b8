"""No page breaks under the Content-Security-Policy: Chromium reports no violation anywhere.

The site has brand colours (the page's one inline ``<style>``, allowed by its hash) and a
maintenance window; the visit covers the status page, incidents, history, maintenance, the
report form and the subscribe round trip. A style injected on purpose must be caught, so the
listener is known to work.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, ConsoleMessage, Page
from prometheus_client import CollectorRegistry

from monitor.app import build_services
from monitor.maintenance.models import NewMaintenance
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from tests.browser.conftest import Site, _seed, confirmation_link, require_chromium, serving
from tests.lifecycle_support import lifecycle_config
from tests.support import FakeClock

BRAND = "#0052cc"
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`);
});
"""


@pytest.fixture
async def branded(tmp_path: Path) -> AsyncIterator[tuple[Site, int]]:
    """The seeded site with brand colours and maintenance window; yields it and the window's id."""
    require_chromium()
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'exwatch.db'}")
    await upgrade(database)
    clock = FakeClock()
    site = {"name": "Test", "colors": {"brand": BRAND, "accent": "#d4a000"}}
    services = build_services(
        lifecycle_config(site=site), database, clock, metrics_registry=CollectorRegistry(),
        admin_token="t",
    )  # fmt: skip
    await _seed(services, clock)
    start = clock.now() + timedelta(hours=2)
    window = await services.maintenance.schedule(
        NewMaintenance(
            name_ja="メンテナンス", name_en="Maintenance", body_ja="本文", body_en="Body",
            scheduled_start=start, scheduled_end=start + timedelta(hours=1),
            components=("trading-engine",),
        ),
        actor="alice",
    )  # fmt: skip
    try:
        async with serving(services) as url:
            yield Site(url, services), window.id
    finally:
        await database.close()


class Watched:
    """A page whose CSP violations and console messages about them are collected."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.console: list[str] = []
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if "Content Security Policy" in text or "Refused to" in text:
            self.console.append(f"{self.page.url}: {text}")

    async def visit(self, url: str, status: int = 200) -> None:
        response = await self.page.goto(url)
        assert response is not None and response.status == status, url
        await self.assert_clean()

    async def assert_clean(self) -> None:
        await self.page.wait_for_load_state("load")
        violations = await self.page.evaluate("window.__violations")
        assert violations == [], (self.page.url, violations)
        assert self.console == []


async def watched(browser: Browser) -> Watched:
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await context.add_init_script(WATCH)
    return Watched(await context.new_page())


async def test_no_public_page_violates_the_policy(
    branded: tuple[Site, int], browser: Browser
) -> None:
    site, window = branded
    tab = await watched(browser)
    for path in ("/?lang=en", "/?lang=ja", "/incidents/1", "/incidents/2?lang=en", "/history",
                 f"/maintenance/{window}", "/subscribe?lang=en", "/subscribe?lang=ja"):  # fmt: skip
        await tab.visit(site.url + path)
    await tab.visit(f"{site.url}/?lang=en")
    brand = "getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()"
    assert await tab.page.evaluate(brand) == BRAND  # the hashed inline style applied
    await tab.visit(f"{site.url}/subscribe/confirm?token=forged", status=400)


async def test_the_forms_post_and_redirect_within_the_policy(
    branded: tuple[Site, int], browser: Browser
) -> None:
    site, _ = branded
    tab = await watched(browser)
    await tab.visit(f"{site.url}/?lang=en")
    page = tab.page
    await page.locator("details:has(form[action='/api/reports']) summary").click()
    report = page.locator("form[action='/api/reports']")
    await report.locator("select[name='component']").select_option(index=1)
    await report.locator("textarea").fill("cannot log in")
    await report.locator("[type='submit']").click()
    await tab.assert_clean()
    assert "reported=1" in page.url
    await page.locator("details:has(form[action='/subscribe']) summary").click()
    form = page.locator("form[action='/subscribe']")
    await form.locator("input[name='email']").fill("visitor@example.com")
    await form.locator("[type='submit']").click()
    await tab.assert_clean()
    assert "inbox" in (await page.inner_text("body")).lower()
    await tab.visit(await confirmation_link(site))


async def test_an_injected_inline_style_is_caught(
    branded: tuple[Site, int], browser: Browser
) -> None:
    site, _ = branded
    tab = await watched(browser)
    await tab.visit(f"{site.url}/?lang=en")
    inject = "const s = document.createElement('style'); s.textContent = 'b{}';"
    await tab.page.evaluate(f"() => {{ {inject} document.head.append(s); }}")
    await tab.page.wait_for_function("window.__violations.length > 0")
    assert (await tab.page.evaluate("window.__violations"))[0].startswith("style-src")
