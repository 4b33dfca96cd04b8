"""POST /api/alertmanager on SQLite and PostgreSQL: firing, resends, resolves, refusals, failures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from sqlalchemy import text

from monitor.admin.auth import AccessGuard
from monitor.alertmanager import build_alertmanager_router
from monitor.alertmanager.payload import label_fingerprint
from monitor.app import build_services
from monitor.storage.database import Database
from monitor.storage.tables import alerts, incidents
from tests.alertmanager.support import (
    T0,
    Receiver,
    alert,
    load_2447,
    make_config,
    payload,
    running,
)
from tests.support import UNREACHABLE_DATABASE_URL, FakeClock

FP = "alertmanager:a1b2c3d4e5f60718"
T1 = T0 + timedelta(minutes=10)
E0, E1 = T0.isoformat(timespec="microseconds"), T1.isoformat(timespec="microseconds")
FIRE0, FIRE1 = payload(alert(starts=T0)), payload(alert(starts=T1))
RESOLVE0, RESOLVE1 = payload(alert("resolved", starts=T0)), payload(alert("resolved", starts=T1))


@pytest.fixture
async def receiver(database: Database, clock: FakeClock) -> AsyncIterator[Receiver]:
    async with running(database, clock) as value:
        yield value


def counts(fired: int = 0, resolved: int = 0, unchanged: int = 0) -> dict[str, int]:
    return {"fired": fired, "resolved": resolved, "unchanged": unchanged, "ignored": 0}


# (steps: (notification, expected counts)), the alerts after them, trading-engine's status.
SCENARIOS = [
    pytest.param([(FIRE0, counts(fired=1))], [(E0, "firing")], "major_outage", id="firing-opens"),
    pytest.param(
        [(FIRE0, counts(fired=1)), (FIRE0, counts(unchanged=1))],
        [(E0, "firing")],
        "major_outage",
        id="resend-is-idempotent",
    ),
    pytest.param(
        [(FIRE0, counts(fired=1)), (RESOLVE0, counts(resolved=1))],
        [(E0, "resolved")],
        "operational",
        id="resolved-resolves",
    ),
    pytest.param(
        [
            (FIRE0, counts(fired=1)),
            (RESOLVE0, counts(resolved=1)),
            (FIRE0, counts(unchanged=1)),
            (RESOLVE0, counts(unchanged=1)),
        ],
        [(E0, "resolved")],
        "operational",
        id="retry-after-resolve-does-not-reopen",
    ),
    pytest.param(
        [(FIRE0, counts(fired=1)), (FIRE1, counts(fired=1))],
        [(E0, "resolved"), (E1, "firing")],
        "major_outage",
        id="new-startsAt-closes-the-old-episode",
    ),
    pytest.param(
        [(FIRE1, counts(fired=1)), (FIRE0, counts(unchanged=1))],
        [(E1, "firing")],
        "major_outage",
        id="late-resend-of-an-older-episode",
    ),
    pytest.param(
        [(RESOLVE0, counts(unchanged=1))],
        [(E0, "resolved")],
        "operational",
        id="resolve-of-an-unseen-episode",
    ),
    pytest.param(
        [(FIRE1, counts(fired=1)), (RESOLVE0, counts(unchanged=1))],
        [(E1, "firing"), (E0, "resolved")],  # the late resolve is remembered as ended
        "major_outage",
        id="late-resolve-of-an-older-episode",
    ),
    pytest.param(
        [(FIRE0, counts(fired=1)), (RESOLVE1, counts(resolved=1))],
        [(E0, "resolved"), (E1, "resolved")],
        "operational",
        id="resolve-of-a-newer-episode-ends-the-older",
    ),
    pytest.param(
        [(RESOLVE0, counts(unchanged=1)), (FIRE0, counts(unchanged=1))],
        [(E0, "resolved")],  # stored as ended, so the late firing is known even after a restart
        "operational",
        id="firing-delivered-after-its-resolve",
    ),
    pytest.param(
        [(FIRE1, counts(fired=1)), (RESOLVE1, counts(resolved=1)), (FIRE0, counts(unchanged=1))],
        [(E1, "resolved")],
        "operational",
        id="older-episode-after-a-newer-resolve",
    ),
    pytest.param(
        [(FIRE0, counts(fired=1)), (RESOLVE0, counts(resolved=1)), (FIRE1, counts(fired=1))],
        [(E0, "resolved"), (E1, "firing")],
        "major_outage",
        id="next-episode-after-a-resolve-fires",
    ),
]


@pytest.mark.parametrize(("steps", "expected", "status"), SCENARIOS)
async def test_notifications(
    receiver: Receiver,
    steps: list[tuple[dict[str, Any], dict[str, int]]],
    expected: list[tuple[str, str]],
    status: str,
) -> None:
    for index, (notification, answer) in enumerate(steps):
        response = await receiver.post(notification)
        assert response.status_code == 200, (index, response.text)
        assert response.json() == {**answer, "ignored_alerts": []}, index
    assert await receiver.alerts() == [(FP, e, s, "trading-engine") for e, s in expected]
    assert await receiver.status("trading-engine") == status


async def test_a_firing_alert_opens_an_incident(receiver: Receiver) -> None:
    await receiver.post(FIRE0)
    assert await receiver.open_incidents() == 1
    [row] = await receiver.rows(alerts)
    assert row.incident_id is not None and row.source == "alertmanager"
    assert row.summary == "EngineDown is firing"
    assert row.labels["component"] == "trading-engine"
    [fired] = await receiver.events("alert_fired")
    assert fired.data["alertmanager"]["severity_label"] == "critical"
    assert fired.data["alertmanager"]["routed_by"] == "label component='trading-engine'"
    await receiver.post(FIRE0)
    assert await receiver.count(incidents) == 1  # a resend opens nothing more


async def test_the_2447_sequence_is_one_alert(receiver: Receiver) -> None:
    """HA peers resend the firing after its resolve (alertmanager#2447): nothing reopens."""
    answers = []
    for notification in load_2447():
        response = await receiver.post(notification["payload"])
        assert response.status_code == 200, response.text
        answers.append({k: v for k, v in response.json().items() if k != "ignored_alerts"})
    assert answers == [
        counts(fired=1),
        counts(resolved=1),
        counts(unchanged=1),
        counts(unchanged=1),
        counts(unchanged=1),
    ]
    [row] = await receiver.rows(alerts)
    assert (row.fingerprint, row.status, row.component_id) == (
        "alertmanager:c8e22972744d092d",
        "resolved",
        "monitoring",  # routed by the DemoAlert matcher
    )
    assert row.episode == "2021-01-07T08:38:00.956617+00:00"
    assert row.summary == "Fewer than 3 Prometheus servers are up"
    assert await receiver.status("monitoring") == "operational"
    assert len(await receiver.events("alert_fired")) == 1
    assert len(await receiver.events("alert_recovered")) == 1


def _without(key: str) -> dict[str, Any]:
    item = alert()
    del item[key]
    return payload(item)


REFUSALS = [
    pytest.param(
        payload(alert(), version="5"), 422, "version: exwatch reads version 4", id="version"
    ),
    pytest.param(_without("startsAt"), 422, "alerts[0].startsAt: Field required", id="no-startsAt"),
    pytest.param(_without("status"), 422, "alerts[0].status: Field required", id="no-status"),
    pytest.param(_without("labels"), 422, "alerts[0].labels: Field required", id="no-labels"),
    pytest.param({"version": "4"}, 422, "alerts: Field required", id="no-alerts"),
    pytest.param(payload(), 422, "alerts: List should have at least 1 item", id="empty-alerts"),
    pytest.param(
        payload({**alert(), "status": "pending"}),
        422,
        "alerts[0].status: Input should be",
        id="status",
    ),
    pytest.param(
        payload({**alert(), "startsAt": "2026-11-21T08:55:01"}),
        422,
        "alerts[0].startsAt: Input should have timezone info",
        id="naive-startsAt",
    ),
    pytest.param(
        payload({**alert(), "labels": {"component": 3}}),
        422,
        "alerts[0].labels.component: Input should be a valid string",
        id="label-not-a-string",
    ),
    pytest.param(b"{not json", 400, "<body>: Invalid JSON", id="not-json"),
    pytest.param(b"[1, 2]", 422, "<body>: Input should be an object", id="not-an-object"),
    pytest.param(
        payload(alert(component="nope", alertname="X")),
        422,
        "alerts: no alert maps to a component",
        id="unknown-component",
    ),
    pytest.param(b" " * (4 * 1024 * 1024 + 1), 413, "<body>: larger than", id="too-large"),
]


@pytest.mark.parametrize(("body", "status", "error"), REFUSALS)
async def test_payloads_that_can_never_be_accepted_are_4xx(
    receiver: Receiver, body: Any, status: int, error: str
) -> None:
    response = await receiver.post(body)
    assert response.status_code == status, response.text
    assert response.json()["error"].startswith(error), response.json()
    assert await receiver.count(alerts) == 0


async def test_an_unknown_component_says_which_alert_and_why(receiver: Receiver) -> None:
    response = await receiver.post(payload(alert(component="chart", alertname="X")))
    assert response.status_code == 422
    assert response.json()["problems"][1] == (
        "alerts[0]: label component='chart' names no component (did you mean 'charts'?)"
    )
    [event] = await receiver.events("alert_unrouted")  # refused, yet on the timeline
    assert event.actor == "alertmanager" and event.data["labels"]["component"] == "chart"


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"authorization": "Bearer wrong"}, 401), ({"authorization": "Basic x"}, 401)],
)
async def test_a_missing_or_wrong_token_is_401(
    receiver: Receiver, headers: dict[str, str], status: int
) -> None:
    response = await receiver.post(b"not even json", headers=headers)
    assert response.status_code == status
    assert "not even json" not in response.text
    assert await receiver.count(alerts) == 0


async def test_without_a_token_configured_the_receiver_is_off(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock, token=None) as receiver:
        response = await receiver.post(FIRE0)
    assert response.status_code == 503 and "EXWATCH_ADMIN_TOKEN" in response.text


async def test_unknown_fields_are_ignored(receiver: Receiver) -> None:
    item = {**alert(), "silenceURL": "http://x", "values": {"A": 1.5}}
    body = payload(item, routeLabels={"a": "b"}, notification_reason="first notification")
    response = await receiver.post(body)
    assert response.status_code == 200 and response.json()["fired"] == 1


async def test_unrouted_alerts_are_ignored_and_recorded_once(receiver: Receiver) -> None:
    stray = alert(fingerprint="ffff000011112222", alertname="Stray", team="x")
    body = payload(alert(), stray)
    first = (await receiver.post(body)).json()
    assert (first["fired"], first["ignored"]) == (1, 1)
    assert first["ignored_alerts"] == [
        {
            "index": 1,
            "fingerprint": "ffff000011112222",
            "alertname": "Stray",
            "reason": "no 'component' label and no alertmanager.matchers entry matches",
        }
    ]
    again = (await receiver.post(body)).json()
    assert (again["unchanged"], again["ignored"]) == (1, 1)
    [event] = await receiver.events("alert_unrouted")  # a resend does not repeat it
    assert event.reason == first["ignored_alerts"][0]["reason"]
    assert event.data["fingerprint"] == "ffff000011112222"


async def test_routing_by_matcher_and_status_from_labels(receiver: Receiver) -> None:
    wallet = alert(fingerprint="1", alertname="Backlog", job="wallet", severity="info")
    auth = alert(fingerprint="2", alertname="Slow", service="auth", severity="info")
    chosen = alert(fingerprint="3", component="charts", exwatch_status="degraded_performance")
    response = await receiver.post(payload(wallet, auth, chosen))
    assert response.json()["fired"] == 3
    assert await receiver.status("btc-withdrawals") == "partial_outage"  # matcher's on_failure
    assert await receiver.status("login") == "degraded_performance"  # severity=info
    assert await receiver.status("charts") == "degraded_performance"  # exwatch_status


async def test_without_a_fingerprint_alertmanagers_own_is_computed(receiver: Receiver) -> None:
    item = alert(fingerprint=None)
    await receiver.post(payload(item))
    [row] = await receiver.rows(alerts)
    assert row.fingerprint == f"alertmanager:{label_fingerprint(item['labels'])}"
    assert (await receiver.post(payload(item))).json()["unchanged"] == 1


async def test_nul_characters_are_stored_without_them(receiver: Receiver) -> None:
    item = alert(component="charts", alertname="Nul\0Name", note="a\0b")
    item["annotations"] = {"summary": "bad\0byte"}
    assert (await receiver.post(payload(item))).status_code == 200
    [row] = await receiver.rows(alerts)
    assert row.summary == "badbyte" and row.labels["note"] == "ab"


async def test_a_database_error_is_503_so_alertmanager_retries(receiver: Receiver) -> None:
    async with receiver.database.transaction() as session:
        await session.execute(text("DROP TABLE alerts"))
    response = await receiver.post(FIRE0)
    assert response.status_code == 503
    assert response.json() == {"error": "the database is unavailable; retry later"}
    assert response.headers["retry-after"] == "10"


async def test_an_unreachable_database_is_503(clock: FakeClock) -> None:
    database = Database(UNREACHABLE_DATABASE_URL)
    services = build_services(
        make_config(), database, clock, metrics_registry=CollectorRegistry(), admin_token="t"
    )
    app = FastAPI()
    app.include_router(
        build_alertmanager_router(services, AccessGuard(database, clock, admin_token="t"))
    )
    receiver = Receiver(app, services, database, clock)
    try:
        response = await receiver.post(FIRE0, headers={"authorization": "Bearer t"})
    finally:
        await database.close()
    assert response.status_code == 503, response.text
