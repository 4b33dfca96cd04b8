"""The audit log: every authenticated write through the admin API, with no secret in it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from monitor.storage.database import Database
from tests.access.support import OPERATOR, Access, running
from tests.support import FakeClock

REPORT = {
    "name_ja": "ログインできない",
    "name_en": "Cannot log in",
    "description": "Login returns 500",
    "started_at": "2026-11-21T08:50:00+00:00",
    "components": {"login": "partial_outage"},
}


async def entries(access: Access, **params: Any) -> list[dict[str, Any]]:
    response = await access.call("GET", "/api/admin/audit", "admin", params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["entries"]
    return found


async def test_writes_are_audited_with_actor_route_and_change(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        opened = await access.call("POST", "/api/admin/incidents", "responder", json=REPORT)
        assert opened.status_code == 201, opened.text
        number = opened.json()["id"]
        acked = await access.call("POST", f"/api/admin/incidents/{number}/ack", "operator")
        assert acked.status_code == 200
        await access.call("GET", "/api/admin/incidents", "viewer")  # reads are not audited
        await access.call("POST", f"/api/admin/incidents/{number}/ack", None)  # nor strangers
        denied = await access.call("POST", f"/api/admin/incidents/{number}/resolve", "viewer")
        assert denied.status_code == 403
        log = await entries(access)
        timeline = await access.call("GET", f"/api/admin/incidents/{number}/timeline", "viewer")
    actors = {event.get("actor") for event in timeline.json()["events"]}
    assert {"token:responder-1", "admin"} <= actors  # the change names who made it
    assert [(e["actor"], e["role"], e["method"], e["route"], e["status"]) for e in log] == [
        ("token:responder-1", "responder", "POST", "/api/admin/incidents", 201),
        ("admin", "admin", "POST", "/api/admin/incidents/{incident_id}/ack", 200),
        ("token:viewer-1", "viewer", "POST", "/api/admin/incidents/{incident_id}/resolve", 403),
    ]
    assert '"name_en": "Cannot log in"' in log[0]["summary"]
    assert log[1]["summary"] == f'{{"path": {{"incident_id": "{number}"}}}}'
    assert log[0]["client"] == "127.0.0.1" and log[0]["at"].startswith("2026-")


async def test_secrets_never_reach_the_audit_log_or_the_logs(
    database: Database, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with running(database, clock) as access:
        pasted = access.secrets["viewer"]
        body = {
            "status": "major_outage",
            "reason": f"halt; old token {pasted} and the operator's {OPERATOR}",
            "api_key": "k-123456", "password": "hunter2", "nested": [{"client_secret": "s3"}],
        }  # fmt: skip
        response = await access.call(
            "PUT", "/api/admin/components/login/override", "admin", json=body
        )
        assert response.status_code == 422  # unknown fields, but the attempt is audited
        made = await access.call(
            "POST", "/api/admin/tokens", "admin", json={"name": "ci", "role": "viewer"}
        )
        new_token = made.json()["token"]
        await access.client.get("/api/admin/alerts", headers={"authorization": "Bearer x"})
        text = str(await entries(access, after_id=0, limit=1000))
    assert "[redacted]" in text and "halt; old token" in text
    for secret in (pasted, OPERATOR, "k-123456", "hunter2", "s3", new_token):
        assert secret not in text
        assert secret not in caplog.text
    for secret in access.secrets.values():
        assert secret not in caplog.text


async def test_the_audit_log_pages_and_is_for_admins(database: Database, clock: FakeClock) -> None:
    async with running(database, clock) as access:
        for name in ("a", "b", "c"):
            await access.call(
                "POST", "/api/admin/tokens", "admin", json={"name": name, "role": "viewer"}
            )
        first = (await access.call("GET", "/api/admin/audit?limit=2", "admin")).json()
        assert len(first["entries"]) == 2 and first["next_after_id"] == first["entries"][1]["id"]
        rest = await entries(access, after_id=first["next_after_id"])
        assert [e["summary"] for e in rest] == ['{"body": {"name": "c", "role": "viewer"}}']
        for caller, status in (("viewer", 403), ("responder", 403), (None, 401)):
            assert (await access.call("GET", "/api/admin/audit", caller)).status_code == status


async def test_a_lone_surrogate_in_a_body_is_refused_and_still_audited(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        body = b'{"status": "major_outage", "reason": "bad \\ud800 text"}'
        response = await access.client.put(
            "/api/admin/components/login/override", content=body,
            headers={**access.bearer("admin"), "content-type": "application/json"},
        )  # fmt: skip
        assert response.status_code in (200, 422), response.text  # never a 500
        log = await entries(access)
    assert log[-1]["route"] == "/api/admin/components/{component_id}/override"
    assert "bad ? text" in log[-1]["summary"]


async def test_an_erased_subscribers_address_does_not_live_on_in_the_audit_log(
    database: Database, clock: FakeClock
) -> None:
    async with running(database, clock) as access:
        for route in ("/api/admin/subscribers/export", "/api/admin/subscribers/erase"):
            await access.call("POST", route, "admin", json={"address": "alice@example.com"})
        text = str(await entries(access))
    assert "subscribers/erase" in text and "[redacted]" in text
    assert "alice@example.com" not in text
