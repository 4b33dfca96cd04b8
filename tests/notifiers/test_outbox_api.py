"""The outbox through the app: dead letters listed and retried by a responder, the ack link, metrics."""

from __future__ import annotations

import json
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from prometheus_client import CollectorRegistry

from monitor.app import Services, build_services, create_app
from monitor.report import load_report, render
from monitor.storage.database import Database
from notifiers.channel import SendOutcome
from tests.notifiers.outbox_support import RecordingChannel, outbox_config
from tests.support import FakeClock

AUTH = {"authorization": "Bearer t"}
INCIDENT = {
    "name_ja": "取引停止", "name_en": "Trading halted", "description": "orders fail",
    "started_at": "2026-11-21T08:50:00+00:00", "components": {"btc-trading": "major_outage"},
    "severity": "critical",
}  # fmt: skip


class App:
    """The app (engine started, dispatcher run by hand) with recording channels."""

    def __init__(self, services: Services, channels: dict[str, RecordingChannel]) -> None:
        self.services, self.channels = services, channels
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(services, run_checks=False)),
            base_url="http://t", headers=AUTH,
        )  # fmt: skip

    async def json(self, method: str, path: str, status: int = 200, **kw: Any) -> Any:
        response = await self.client.request(method, path, **kw)
        assert response.status_code == status, response.text
        return response.json()

    async def dispatch(self) -> None:
        while await self.services.notifications.dispatcher.run_once():
            pass


@pytest.fixture
async def app(database: Database, clock: FakeClock) -> Any:
    channels = {name: RecordingChannel() for name in ("email", "x", "webhook")}
    services = build_services(
        outbox_config(), database, clock, metrics_registry=CollectorRegistry(),
        admin_token="t", channels=channels,
    )  # fmt: skip
    await services.engine.start()
    client = App(services, channels)
    yield client
    await client.client.aclose()


async def test_a_dead_letter_is_listed_and_a_responder_sends_it_again(app: App) -> None:
    app.channels["webhook"].script.append(SendOutcome.permanent("404 from hooks.example.com"))
    await app.json("POST", "/api/admin/incidents", 201, json=INCIDENT)
    await app.dispatch()
    dead = await app.json("GET", "/api/admin/deliveries", params={"status": "dead"})
    [row] = dead["deliveries"]
    assert (row["channel"], row["recipient"]) == ("webhook", "webhook:ops")
    assert row["last_error"] == "404 from hooks.example.com" and dead["next_after_id"] is None
    retried = await app.json("POST", f"/api/admin/deliveries/{row['id']}/retry")
    assert (retried["status"], retried["attempts"]) == ("pending", 0)
    await app.dispatch()
    again = await app.json("GET", "/api/admin/deliveries", params={"status": "dead"})
    assert again["deliveries"] == []
    conflict = await app.json("POST", f"/api/admin/deliveries/{row['id']}/retry", 409)
    assert "sent, not dead" in conflict["detail"]
    counts = await app.json("GET", "/api/admin/deliveries/counts")
    assert {"channel": "webhook", "status": "sent", "count": 2} in counts
    metrics = (await app.client.get("/metrics")).text
    assert 'exwatch_notification_dead_letters_total{channel="webhook"} 1.0' in metrics


async def test_the_delivery_api_refuses_bad_input_and_strangers(app: App) -> None:
    bad = await app.json("GET", "/api/admin/deliveries", 422, params={"status": "lost"})
    assert bad["detail"][0]["loc"] == ["query", "status"]
    await app.json("GET", "/api/admin/deliveries", 422, params={"colour": "red"})
    await app.json("POST", "/api/admin/deliveries/999/retry", 404)
    stranger = await app.client.get("/api/admin/deliveries", headers={"authorization": "Bearer x"})
    assert stranger.status_code == 401


async def test_the_ack_link_in_a_page_acknowledges_once(app: App) -> None:
    created = await app.json("POST", "/api/admin/incidents", 201, json=INCIDENT)
    await app.dispatch()
    [page] = [d for d in app.channels["email"].sent if d.notice.kind == "page"]
    assert page.links.ack_url is not None
    path = page.links.ack_url.removeprefix("https://status.example.com")
    shown = await app.client.get(path)
    assert shown.status_code == 200 and "primary@example.com" in shown.text
    incident = await app.json("GET", f"/api/admin/incidents/{created['id']}")
    assert incident["acknowledged_at"] is None  # opening the link changes nothing
    done = await app.client.post(path)
    assert done.status_code == 200 and "Acknowledged" in done.text
    incident = await app.json("GET", f"/api/admin/incidents/{created['id']}")
    assert incident["acknowledged_by"] == "ack link: email:primary@example.com"
    twice = await app.client.post(path)
    assert twice.status_code == 409
    forged = await app.client.post(path[:-3] + "abc")
    assert forged.status_code == 400 and "not valid" in forged.text


async def test_the_incident_report_says_what_was_sent(app: App) -> None:
    app.channels["x"].script.append(SendOutcome.permanent("duplicate content"))
    created = await app.json("POST", "/api/admin/incidents", 201, json=INCIDENT)
    await app.dispatch()
    report = await load_report(app.services.database, created["id"], now=app.services.clock.now())
    assert report is not None
    by_channel = {(n.kind, n.channel): n for n in report.notifications}
    assert by_channel[("page", "email")].counts == {"sent": 1}
    assert by_channel[("update_posted", "x")].counts == {"dead": 1}
    assert by_channel[("update_posted", "webhook")].first_sent_at is not None
    markdown = render(report, "md", zone=ZoneInfo("Asia/Tokyo"))
    assert "## Notifications" in markdown and "| Public update posted |" in markdown
    document = json.loads(render(report, "json", zone=ZoneInfo("Asia/Tokyo")))
    assert {n["channel"] for n in document["notifications"]} == {"email", "x", "webhook"}
