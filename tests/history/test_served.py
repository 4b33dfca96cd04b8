"""History pages, feeds and badges are served by the app from the snapshot."""

from __future__ import annotations

import feedparser
import httpx
from prometheus_client import CollectorRegistry

from monitor.app import build_services, create_app
from monitor.storage.database import Database
from statuspage.routes import history_page_path
from tests.lifecycle_support import lifecycle_config
from tests.support import FAIL, FakeClock


async def test_history_feeds_and_badges_are_served(database: Database, clock: FakeClock) -> None:
    services = build_services(
        lifecycle_config(), database, clock, metrics_registry=CollectorRegistry()
    )
    await services.engine.start()
    check = next(c for c in services.config.checks if c.id == "login-check")
    for _ in range(2):
        clock.advance(10)
        await services.engine.ingest(check, FAIL)
    await services.publisher.publish_now()
    app = create_app(services, run_checks=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        history = await client.get("/history?lang=en")
        atom = await client.get("/history.atom", headers={"accept-language": "en"})
        badge = await client.get("/components/login/badge.svg")
        missing = await client.get("/history/99")
        first_page = await client.get("/history?page=1&lang=en")
        no_page = await client.get("/history?page=99")
    assert history.status_code == 200 and "login" in history.text
    assert atom.headers["content-type"].startswith("application/atom+xml")
    parsed = feedparser.parse(atom.content)
    assert not parsed.bozo and parsed.entries
    assert atom.headers["content-language"] == "ja"  # the site's default, not Accept-Language
    assert badge.headers["content-type"].startswith("image/svg+xml") and "<svg" in badge.text
    assert missing.status_code == 404
    assert first_page.text == history.text  # ?page=N is /history/N; page 1 is /history
    assert no_page.status_code == 404


def test_a_page_number_in_the_query_names_the_page_file() -> None:
    assert history_page_path(b"page=3&lang=ja") == "/history/3"
    assert history_page_path(b"lang=ja&page=2") == "/history/2"
    for ignored in (b"", b"page=1", b"page=0", b"page=-2", b"page=x", b"page=9999999"):
        assert history_page_path(ignored) == "/history"
