"""The SRE console in Debian's Chromium: sign in, acknowledge, post a bilingual update, see it public."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, Page

from tests.browser.conftest import ARTIFACTS, Site


async def _signed_in(browser: Browser, site: Site, *, width: int) -> tuple[Page, list[str]]:
    """A page signed in with the operator's token; the list collects CSP violations and errors."""
    context = await browser.new_context(viewport={"width": width, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: (
            problems.append(m.text)
            if m.type == "error" and "Failed to load" not in m.text
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(f"{site.url}/console")
    assert page.url.startswith(f"{site.url}/console/sign-in")
    await page.fill("#token", "t")
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{site.url}/console")
    return page, problems


async def _public_text(page: Page, url: str, expected: str) -> str:
    """The public page's text once ``expected`` is on it (the snapshot re-renders on change)."""
    for _ in range(100):
        await page.goto(url)
        body = await page.inner_text("body")
        if expected in body:
            return body
        await asyncio.sleep(0.1)
    return body


async def test_sign_in_acknowledge_and_post_a_bilingual_update(
    site: Site, browser: Browser
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page, problems = await _signed_in(browser, site, width=1280)
    await page.screenshot(path=str(ARTIFACTS / "console-now-1280.png"), full_page=True)
    assert "not acknowledged" in await page.inner_text("main")
    await page.click("text=Acknowledge #1")
    await page.wait_for_url(f"{site.url}/console/incidents/1?done=acknowledged")
    assert "by admin" in await page.inner_text(".facts")

    await page.goto(f"{site.url}/console/incidents/2")
    await page.select_option("select[name=status]", "monitoring")
    await page.fill("textarea[name=body_ja]", "修正を適用しました。経過を観察しています。")
    await page.fill("textarea[name=body_en]", "A fix is in place; we are watching withdrawals.")
    assert "of X's 280" in await page.inner_text("main")  # console.js runs under the CSP
    await page.click("button[value=preview]")
    preview = await page.inner_text(".preview")
    assert "経過観察中" in preview and "Monitoring" in preview
    await page.screenshot(path=str(ARTIFACTS / "console-incident-preview-1280.png"), full_page=True)
    await page.click("button[value=post]")
    await page.wait_for_url(f"{site.url}/console/incidents/2?done=posted")
    assert await page.evaluate("window.__xss") is None  # the seeded script-like titles stay text

    japanese = await _public_text(page, f"{site.url}/incidents/2?lang=ja", "修正を適用しました")
    english = await _public_text(page, f"{site.url}/incidents/2?lang=en", "A fix is in place")
    assert "修正を適用しました。経過を観察しています。" in japanese
    assert "A fix is in place; we are watching withdrawals." in english
    assert problems == []


async def test_the_console_fits_a_phone(site: Site, browser: Browser) -> None:
    page, problems = await _signed_in(browser, site, width=390)
    for path in ("/console", "/console/incidents/2"):
        await page.goto(f"{site.url}{path}")
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} overflows a phone ({width} px)"
        name = path.strip("/").replace("/", "-")
        await page.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    ack = await page.query_selector("button.ack")
    assert ack is not None
    box = await ack.bounding_box()
    assert box is not None and box["height"] >= 44  # a thumb-sized target
    assert problems == []
