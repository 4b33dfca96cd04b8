"""A published postmortem on the public side: the incident page in both languages (sanitised),
the Statuspage v2 status ``postmortem``, and old incidents' pages from the history."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from monitor.app import Services, build_services, create_app, site_view
from monitor.domain import ComponentStatus
from monitor.postmortems.service import PostmortemService
from monitor.responder import ManualIncident
from monitor.storage.database import Database
from monitor.storage.history import load_history
from monitor.storage.tables import incidents
from monitor.storage.views import load_status
from statuspage.html import build_environment
from statuspage.snapshot import render_all
from statuspage.timefmt import local_text
from tests.lifecycle_support import lifecycle_config
from tests.postmortems.support import XSS_PAYLOADS, elements, unsafe_parts
from tests.support import FakeClock

MARKER = "Root cause: a stuck feed"
MARKDOWN = f"# {MARKER}\n\n" + "\n\n".join(XSS_PAYLOADS) + "\n\n[runbook](https://ok.example/rb)"


async def start(database: Database, clock: FakeClock) -> tuple[Services, PostmortemService]:
    config = lifecycle_config(site={"name": "Test", "languages": ["ja", "en"]})
    services = build_services(config, database, clock, metrics_registry=CollectorRegistry())
    await services.engine.start()
    service = PostmortemService(database, clock, on_change=services.publisher.changed)
    return services, service


async def resolved(services: Services, clock: FakeClock) -> int:
    report = ManualIncident(
        "ログイン障害", "Login failures", "Logins fail", clock.now(),
        {"login": ComponentStatus.PARTIAL_OUTAGE},
    )  # fmt: skip
    incident_id = await services.responder.open(report, clock.now(), actor="sre")
    clock.advance(600)
    await services.responder.resolve(incident_id, clock.now(), actor="sre", force=True)
    clock.advance(600)
    return incident_id


async def fetch(services: Services, *paths: str) -> dict[str, httpx.Response]:
    await services.publisher.publish_now()
    app = create_app(services, run_checks=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status.test") as client:
        return {path: await client.get(path) for path in paths}


def section(page: str) -> str:
    """The postmortem section of an incident page (empty when there is none)."""
    start = page.find('<section class="postmortem"')
    return "" if start < 0 else page[start : page.index("</section>", start)]


def rendered(page: str) -> str:
    """What the postmortem's Markdown became on the page (rendered HTML has no ``div``)."""
    shown = section(page)
    start = shown.index('<div class="postmortem-body">') + len('<div class="postmortem-body">')
    return shown[start : shown.index("</div>", start)]


@pytest.mark.parametrize(
    ("language", "heading", "label"),
    [("en", "Postmortem", "Published"), ("ja", "事後報告", "公開日時")],
)
async def test_the_incident_page_shows_the_published_postmortem_sanitised(
    database: Database, clock: FakeClock, language: str, heading: str, label: str
) -> None:
    services, service = await start(database, clock)
    incident_id = await resolved(services, clock)
    await service.save_draft(incident_id, MARKDOWN, "alice")
    page = f"/incidents/{incident_id}?lang={language}"
    draft = (await fetch(services, page))[page]
    assert draft.status_code == 200 and section(draft.text) == ""
    assert MARKER not in draft.text  # a draft is never public
    published = await service.publish(incident_id, "bob")
    text = (await fetch(services, page))[page].text
    shown = section(text)
    assert f"<h2>{heading}</h2>" in shown
    assert f"{label}:" in shown
    assert local_text(published.published_at, "Asia/Tokyo") in shown  # type: ignore[arg-type]
    assert f"<h3>{MARKER}</h3>" in shown
    assert '<a href="https://ok.example/rb" rel="nofollow noopener">runbook</a>' in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown  # shown as typed, never run
    assert unsafe_parts(rendered(text)) == []
    assert "<script" not in text.lower()


async def test_the_v2_api_says_postmortem_for_that_incident_only(
    database: Database, clock: FakeClock
) -> None:
    services, service = await start(database, clock)
    with_postmortem = await resolved(services, clock)
    without = await resolved(services, clock)
    await service.save_draft(with_postmortem, MARKDOWN, "alice")
    await service.publish(with_postmortem, "bob")
    await service.save_draft(without, "a draft only", "alice")
    served = await fetch(services, "/api/v2/incidents.json", "/api/v2/incidents/unresolved.json")
    statuses = {i["id"]: i["status"] for i in served["/api/v2/incidents.json"].json()["incidents"]}
    assert statuses == {str(with_postmortem): "postmortem", str(without): "resolved"}
    assert served["/api/v2/incidents/unresolved.json"].json()["incidents"] == []


async def test_a_reopened_incident_hides_its_postmortem_until_resolved_again(
    database: Database, clock: FakeClock
) -> None:
    services, service = await start(database, clock)
    incident_id = await resolved(services, clock)
    await service.save_draft(incident_id, MARKDOWN, "alice")
    await service.publish(incident_id, "bob")
    assert (await _incident(services, clock, incident_id)).postmortem is not None
    async with database.transaction() as session:
        await session.execute(
            incidents.update().where(incidents.c.id == incident_id).values(status="investigating")
        )
    assert (await _incident(services, clock, incident_id)).postmortem is None


async def _incident(services: Services, clock: FakeClock, incident_id: int) -> Any:
    async with services.database.transaction() as session:
        view = await load_status(session=session, site=site_view(services.config), now=clock.now())
    return next(i for i in view.incidents if i.id == incident_id)


async def test_an_old_incident_rendered_from_the_history_shows_its_postmortem(
    database: Database, clock: FakeClock
) -> None:
    services, service = await start(database, clock)
    incident_id = await resolved(services, clock)
    await service.save_draft(incident_id, MARKDOWN, "alice")
    published = await service.publish(incident_id, "bob")
    async with database.transaction() as session:
        site = site_view(services.config)
        view = await load_status(session=session, site=site, now=clock.now(), recent=0)
        history = await load_history(session=session)
    assert view.incidents == ()  # only the history holds it
    [old] = history.incidents
    assert old.postmortem is not None and old.postmortem.markdown == MARKDOWN
    assert old.postmortem.published_at == published.published_at
    documents = render_all(build_environment(), view, history)
    body, _ = documents[(f"/incidents/{incident_id}", "en")]
    shown = section(body.decode())
    assert MARKER in shown and unsafe_parts(rendered(body.decode())) == []
    assert [tag for tag, _ in elements(shown)].count("h2") == 1
