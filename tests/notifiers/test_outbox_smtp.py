"""The outbox with the real email channel and a real SMTP server on loopback: the server down for
a while then back (everything delivered once), mail in the subscriber's language, threaded, and
a one-click unsubscribe that works.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from monitor.app import build_services, create_app
from monitor.domain import ComponentStatus, IncidentStatus
from monitor.storage.database import Database
from notifiers.email import build_email_channel
from tests.notifiers.email_support import Sink, SmtpServer
from tests.notifiers.outbox_support import Outbox, crash_config
from tests.support import FakeClock

MAJOR = ComponentStatus.MAJOR_OUTAGE


@pytest.fixture
async def smtp() -> Any:
    server = SmtpServer(Sink())
    await server.start()
    yield server
    await server.stop()


async def test_mail_waits_out_a_server_outage_and_arrives_once(
    database: Database, clock: FakeClock, smtp: SmtpServer
) -> None:
    config = crash_config(smtp.port)
    box = Outbox(database, config, clock)
    channel = build_email_channel(config, {})
    assert channel is not None
    box.service.dispatcher._channels["email"] = channel  # the real channel, not the recorder
    await box.engine.start()
    for i in range(5):
        await box.subscribe(f"user{i}@example.com", language="ja" if i % 2 else "en")
    await smtp.stop()
    incident = await box.open_manual({"btc-trading": MAJOR}, severity="minor")
    await box.responder.post(
        incident, IncidentStatus.IDENTIFIED, {"ja": "原因を特定しました", "en": "Cause found"},
        clock.now(), actor="alice",
    )  # fmt: skip
    await box.drain()
    assert {r.status for r in await box.rows()} == {"pending"} and not smtp.sink.messages
    await smtp.start()
    for _ in range(4):  # backoff: 1s then 2s (the crash config), with jitter
        clock.advance(3)
        await box.drain()
    await box.service.stop()
    rows = await box.rows()
    assert {r.status for r in rows} == {"sent"} and len(rows) == 10
    per_address = Counter(str(m["To"]) for m in smtp.sink.messages)
    assert per_address == {f"user{i}@example.com": 2 for i in range(5)}
    by_language = {str(m["To"]): str(m["Subject"]) for m in smtp.sink.messages}
    assert (
        "調査中" in by_language["user1@example.com"] or "原因" in by_language["user1@example.com"]
    )
    roots = {str(m["References"]) for m in smtp.sink.messages}
    assert roots == {f"<incident-{incident}@example.com>"}  # one thread per incident


async def test_the_one_click_unsubscribe_in_a_mail_works(
    database: Database, clock: FakeClock, smtp: SmtpServer
) -> None:
    config = crash_config(smtp.port)
    services = build_services(
        config, database, clock, metrics_registry=CollectorRegistry(), admin_token="t", env={}
    )
    await services.engine.start()
    box = Outbox(database, config, clock)
    await box.subscribe("leaver@example.com")
    app = create_app(services, run_checks=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://t"
    ) as client:
        auth = {"authorization": "Bearer t"}
        body = {"name_ja": "障害", "name_en": "Outage", "description": "x",
                "started_at": clock.now().isoformat(), "components": {"btc-trading": "major_outage"},
                "severity": "minor"}  # fmt: skip
        assert (
            await client.post("/api/admin/incidents", json=body, headers=auth)
        ).status_code == 201
        while await services.notifications.dispatcher.run_once():
            pass
        [mail] = smtp.sink.messages
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = str(mail["List-Unsubscribe"]).strip("<>").removeprefix(config.site.url)
        # RFC 8058: the mail client POSTs the body below to the header's URL.
        left = await client.post(
            link, content=b"List-Unsubscribe=One-Click",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )  # fmt: skip
        assert left.status_code == 200
        listed = await client.get("/api/admin/subscribers", headers=auth)
    await services.notifications.stop()
    [subscriber] = listed.json()["subscribers"]
    assert subscriber["state"] == "unsubscribed"
