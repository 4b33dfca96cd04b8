"""The console's reports page: user problem reports per component, and the incident they reached."""

from __future__ import annotations

from sqlalchemy import select

from monitor.reports import Accepted, Report
from monitor.storage.database import Database
from monitor.storage.tables import alerts
from tests.access.support import Access, running
from tests.console.support import signed_in
from tests.support import FakeClock

PAGE = "/console/reports"
XSS = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"


async def report(
    access: Access, component: str, body: str, n: int, contact: str | None = None
) -> None:
    """One report from its own address, a second after the one before."""
    access.clock.advance(1)
    outcome = await access.services.reports.submit(
        Report(component, body, contact), f"198.51.100.{n}"
    )
    assert isinstance(outcome, Accepted), outcome


async def test_a_viewer_sees_reports_per_component_with_counts(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        empty = await (await signed_in(access, "viewer")).get(PAGE)
        assert empty.status_code == 200
        assert "No user report in the last 7 days." in empty.text
        assert 'aria-current="page">Reports' in empty.text
        await report(access, "website", "old: the page was blank", 1)
        clock.advance(2 * 3600)  # out of the last hour, still in the last day
        client = await signed_in(access, "viewer")  # the first session has expired meanwhile
        await report(
            access, "website", "cannot log in to the website", 2, contact="bob@example.com"
        )
        await report(access, "api", "api returns 500", 3)
        page = (await client.get(PAGE)).text
        website = page[page.index(">website</h2>") : page.index(">api</h2>")]
        assert (
            "<strong>1</strong> in the last hour" in website
            and "<strong>2</strong> in the last day" in website
        )
        assert "cannot log in to the website" in website and "old: the page was blank" in website
        assert website.index("cannot log in") < website.index("old: the page")  # newest first
        assert "contact bob@example.com" in website
        assert "JST" in website  # times in the site's zone
        assert "No report in 7 days about: trading-engine" in page
        assert "<form" not in page.replace(
            '<form class="who"', ""
        )  # read only: no form but sign-out


async def test_the_report_that_raised_the_alert_opened_the_incident_and_later_ones_joined(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        for n in range(1, 6):  # five within ten minutes raise the user-reported alert
            await report(access, "login", f"login fails {n}", n)
        await report(access, "login", "login fails 6", 6)
        async with database.transaction() as session:
            alert = (
                await session.execute(select(alerts).where(alerts.c.source == "user_reports"))
            ).one()
        assert alert.incident_id is not None
        incident = alert.incident_id
        client = await signed_in(access, "viewer")
        page = (await client.get(PAGE)).text
        assert (
            "alert firing since" in page
            and f'href="/console/incidents/{incident}">incident #{incident}</a>' in page
        )
        line = {
            n: page[page.index(f"login fails {n}<") - 700 : page.index(f"login fails {n}<")]
            for n in range(1, 7)
        }
        assert f"opened incident #{incident}" in line[5].split("login fails")[-1]
        assert f"joined incident #{incident}" in line[6].split("login fails")[-1]
        assert "incident #" not in line[4].split("login fails")[-1]  # before the alert: neither
        assert '<span class="bad-text">6 in the last 10 min</span>' in page


async def test_report_texts_and_contacts_are_shown_escaped(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        await report(access, "website", XSS, 1, contact=XSS)
        client = await signed_in(access, "responder")
        page = (await client.get(PAGE)).text
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert page.count(ESCAPED) == 2
