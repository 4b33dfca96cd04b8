"""The public pages in Debian's Chromium (Playwright): both languages, no JavaScript needed,
escaped texts, the uptime bar's tooltip, the subscribe round trip, and screenshots to look at.
"""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page

from tests.browser.conftest import ARTIFACTS, Site, confirmation_link


async def _open(browser: Browser, url: str, *, width: int = 1280, js: bool = True) -> Page:
    context = await browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=js
    )
    page = await context.new_page()
    response = await page.goto(url)
    assert response is not None and response.status == 200, url
    return page


@pytest.mark.parametrize(
    ("language", "heading", "component"),
    [("ja", "発生中の障害", "trading-engine(ja)"), ("en", "Active incidents", "trading-engine")],
)
async def test_both_languages_render_and_screenshots_are_kept(
    site: Site, browser: Browser, language: str, heading: str, component: str
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    for width in (1280, 360):
        page = await _open(browser, f"{site.url}/?lang={language}", width=width)
        assert await page.get_attribute("html", "lang") == language
        body = await page.inner_text("body")
        assert heading in body and component in body
        scroll_width = await page.evaluate("document.documentElement.scrollWidth")
        assert scroll_width <= width, f"the page overflows {width} px ({scroll_width} px)"
        await page.screenshot(path=str(ARTIFACTS / f"index-{language}-{width}.png"), full_page=True)


async def test_injected_script_in_titles_never_runs_and_shows_as_text(
    site: Site, browser: Browser
) -> None:
    for path in ("/?lang=en", "/incidents/2?lang=en", "/history?lang=en"):
        page = await _open(browser, site.url + path)
        assert await page.evaluate("window.__xss") is None, path
        assert "<script>window.__xss=1</script>" in await page.inner_text("body"), path


async def test_the_page_works_without_javascript(site: Site, browser: Browser) -> None:
    page = await _open(browser, f"{site.url}/?lang=en", js=False)
    groups = page.locator("details")
    assert await groups.count() >= 3  # component groups (and the forms) fold without script
    assert await page.locator("form[action='/api/reports']").count() == 1
    assert await page.locator("form[action='/subscribe']").count() == 1
    incident = page.get_by_role("link", name="Withdrawals delayed", exact=False).first
    await incident.click()
    assert "Investigating" in await page.inner_text("body")


async def test_an_uptime_cell_has_a_tooltip(site: Site, browser: Browser) -> None:
    page = await _open(browser, f"{site.url}/?lang=en")
    cell = page.locator("[title*='%']").first
    await cell.hover()
    title = await cell.get_attribute("title")
    assert title is not None and "%" in title


async def test_the_subscribe_form_round_trip(site: Site, browser: Browser) -> None:
    page = await _open(browser, f"{site.url}/?lang=en")
    form = page.locator("form[action='/subscribe']")
    await page.locator("details:has(form[action='/subscribe']) summary").click()
    await form.locator("input[name='email']").fill("Visitor@Example.COM")
    await form.locator("[type='submit']").click()
    await page.wait_for_load_state()
    assert "inbox" in (await page.inner_text("body")).lower()
    confirm = await confirmation_link(site)
    await page.goto(confirm)
    text = (await page.inner_text("body")).lower()
    assert "subscribed" in text or "confirmed" in text
    await page.screenshot(path=str(ARTIFACTS / "subscribed-en-1280.png"), full_page=True)
