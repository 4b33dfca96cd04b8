"""Heartbeat checks: pushes in, failure when a batch job goes quiet, survives a restart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry

from monitor.app import build_services, create_app
from monitor.config import ConfigError, parse_config
from monitor.heartbeats import HeartbeatLedger
from monitor.storage.database import Database
from monitor.storage.migrate import upgrade
from probes import HeartbeatProbe, HeartbeatSpec
from tests.support import FakeClock

TOKEN = "s3ttlement-job-0123456789"


def spec(**fields: Any) -> HeartbeatSpec:
    return HeartbeatSpec.model_validate(
        {"kind": "heartbeat", "token": TOKEN, "every": "1h", "grace": "5m", **fields}
    )


class Times:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.pushed: float | None = None

    def clock(self) -> float:
        return self.now

    def last_push(self, token: str) -> float | None:
        return self.pushed if token == TOKEN else None


async def test_a_job_never_seen_fails_only_after_its_window() -> None:
    times = Times()
    probe = HeartbeatProbe(times.last_push, times.clock)
    assert (await probe.run(spec())).ok
    times.now += 3600 + 301
    result = await probe.run(spec())
    assert not result.ok
    assert result.error == "no push yet in 3901s (expected every 3600s + 300s grace)"


async def test_a_recent_push_passes_and_a_stale_one_fails() -> None:
    times = Times()
    probe = HeartbeatProbe(times.last_push, times.clock)
    times.pushed = times.now - 120
    result = await probe.run(spec(conditions=["[LAST_PUSH_AGE] < 10m"]))
    assert result.ok and result.observed["LAST_PUSH_AGE"] == 120
    times.pushed = times.now - 4000
    assert (
        await probe.run(spec())
    ).error == "no push for 4000s (expected every 3600s + 300s grace)"


def config_text(token: str = "${SETTLEMENT_TOKEN}") -> str:
    return yaml.safe_dump(
        {
            "site": {"name": "t"},
            "components": [
                {
                    "id": "settlement",
                    "names": {"ja": "決済", "en": "Settlement"},
                    "impact_class": "assets",
                }
            ],
            "checks": [
                {
                    "id": "settlement-run",
                    "component": "settlement",
                    "kind": "heartbeat",
                    "token": token,
                    "every": "1h",
                    "interval": "1m",
                }
            ],
        }
    )


def test_the_token_is_secret_and_long() -> None:
    config = parse_config(config_text(), env={"SETTLEMENT_TOKEN": TOKEN})
    assert TOKEN not in repr(config.checks[0])
    with pytest.raises(ConfigError) as raised:
        parse_config(config_text("short"))
    assert raised.value.problems[0].startswith("checks[0].token: must have at least 16 characters")


async def test_pushes_are_received_judged_and_kept_across_restarts(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'hb.db'}")
    await upgrade(database)
    config = parse_config(config_text(), env={"SETTLEMENT_TOKEN": TOKEN})
    registry = CollectorRegistry()
    services = build_services(config, database, FakeClock(), metrics_registry=registry)
    app = create_app(services, run_checks=False)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://t"
        ) as client:
            assert (await client.post(f"/api/heartbeat/{TOKEN}")).json() == {"ok": True}
            unknown = await client.post("/api/heartbeat/not-a-real-token-at-all")
        await services.scheduler.run_check(config.checks[0])
    assert unknown.status_code == 404 and unknown.json() == {"error": "unknown heartbeat token"}
    labels = {
        "check": "settlement-run",
        "component": "settlement",
        "kind": "heartbeat",
        "region": "local",
    }
    assert registry.get_sample_value("exwatch_probe_success", labels) == 1
    reloaded = HeartbeatLedger(database, config, FakeClock())
    await reloaded.load()
    assert reloaded.last_push(TOKEN) == FakeClock().now().timestamp()
    assert reloaded.last_push("nope") is None
    await database.close()


def test_a_token_must_fit_in_a_url() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(config_text("not/safe+token==abcdef"))
    assert raised.value.problems[0].startswith("checks[0].token: use only letters, digits")
