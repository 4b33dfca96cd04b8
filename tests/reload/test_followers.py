"""After a reload, every input knows the new components and checks (they read the holder)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from monitor.storage.database import Database
from tests.reload.support import Running, running
from tests.support import FakeClock

HEARTBEAT_TOKEN = "nightly-batch-token-0123456789"


def with_eth(exwatch: Running) -> dict[str, Any]:
    """The file's document plus an ETH withdrawals component and a heartbeat check on it."""
    document = exwatch.edited()
    document["components"].append(
        {"id": "eth-withdrawals", "names": {"ja": "ETH出金", "en": "ETH withdrawals"},
         "group": "funding", "impact_class": "assets"}
    )  # fmt: skip
    document["checks"].append(
        {"id": "eth-batch", "component": "eth-withdrawals", "kind": "heartbeat",
         "token": HEARTBEAT_TOKEN, "every": "1h", "interval": "60s"}
    )  # fmt: skip
    return document


async def test_a_new_heartbeat_check_accepts_pushes(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        push = f"/api/heartbeat/{HEARTBEAT_TOKEN}"
        assert (await exwatch.client.post(push)).status_code == 404
        exwatch.write(with_eth(exwatch))
        assert (await exwatch.reload()).status_code == 200
        assert (await exwatch.client.post(push)).status_code == 200


async def test_a_new_component_takes_maintenance_reports_and_alertmanager_alerts(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        exwatch.write(with_eth(exwatch))
        assert (await exwatch.reload()).status_code == 200
        start = clock.now() + timedelta(days=1)
        window = await exwatch.call("POST", "/api/admin/maintenance", json={
            "name_ja": "作業", "name_en": "Work", "components": ["eth-withdrawals"],
            "scheduled_start": start.isoformat(),
            "scheduled_end": (start + timedelta(hours=1)).isoformat(),
        })  # fmt: skip
        assert window.status_code == 201, window.text
        report = await exwatch.client.post(
            "/api/reports", json={"component": "eth-withdrawals", "body": "cannot withdraw"}
        )
        assert report.status_code == 201, report.text
        fired = await exwatch.call("POST", "/api/alertmanager", json=_alertmanager_payload())
        assert fired.status_code == 200, fired.text
        assert fired.json()["ignored"] == 0
        page = await exwatch.client.get("/subscribe", params={"lang": "en"})
        assert "ETH withdrawals" in page.text


async def test_a_removed_component_is_refused_by_the_inputs(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        document = exwatch.edited()
        document["components"] = [c for c in document["components"] if c["id"] != "api"]
        document["checks"] = [c for c in document["checks"] if c["component"] != "api"]
        exwatch.write(document)
        assert (await exwatch.reload()).status_code == 200
        report = await exwatch.client.post("/api/reports", json={"component": "api", "body": "x"})
        assert report.status_code == 422
        override = await exwatch.call(
            "PUT", "/api/admin/components/api/override",
            json={"status": "major_outage", "reason": "halt"},
        )  # fmt: skip
        assert override.status_code == 422, override.text
        assert "unknown component" in override.text
        kept = await exwatch.call(
            "PUT", "/api/admin/components/spot/override",
            json={"status": "major_outage", "reason": "halt"},
        )  # fmt: skip
        assert kept.status_code == 200, kept.text


def _alertmanager_payload() -> dict[str, Any]:
    alert = {
        "status": "firing", "labels": {"alertname": "EthStuck", "component": "eth-withdrawals"},
        "annotations": {}, "startsAt": "2026-11-21T09:00:00Z",
        "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "0123456789abcdef",
    }  # fmt: skip
    return {
        "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
        "receiver": "exwatch", "groupLabels": {}, "commonLabels": {}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093", "alerts": [alert],
    }  # fmt: skip
