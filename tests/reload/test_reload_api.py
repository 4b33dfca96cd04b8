"""POST /api/admin/config/reload against a running app, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.storage.database import Database
from monitor.storage.tables import checks, components
from tests.reload.support import check, running
from tests.support import FakeClock


async def test_a_changed_interval_replaces_the_checks_job(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path, run_checks=True) as exwatch:
        assert exwatch.services.scheduler.intervals()["spot-check"] == 300
        document = exwatch.edited()
        document["checks"][0]["interval"] = "45s"
        exwatch.write(document)
        response = await exwatch.reload()
        assert response.status_code == 200, response.text
        assert response.json()["checks"] == {"added": [], "removed": [], "changed": ["spot-check"]}
        assert exwatch.services.scheduler.intervals() == {
            "spot-check": 45, "api-check": 300, "btc-check": 300,
        }  # fmt: skip
        assert exwatch.services.config.checks[0].interval == 45


async def test_added_and_removed_checks_and_components(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path, run_checks=True) as exwatch:
        document = exwatch.edited()
        document["components"].append(
            {"id": "eth-withdrawals", "names": {"ja": "ETH出金", "en": "ETH withdrawals"},
             "group": "funding", "impact_class": "assets"}
        )  # fmt: skip
        document["checks"] = [
            c for c in document["checks"] if c["id"] != "api-check"
        ] + [check("eth-check", "eth-withdrawals"), check("eth-tokyo", "eth-withdrawals",
                                                       regions=["tokyo"])]  # fmt: skip
        exwatch.write(document)
        body = (await exwatch.reload()).json()
        assert body["checks"] == {
            "added": ["eth-check", "eth-tokyo"], "removed": ["api-check"], "changed": [],
        }  # fmt: skip
        assert body["components"]["added"] == ["eth-withdrawals"]
        assert body["restart_required"] == []
        # The scheduler runs the local checks; the agent of tokyo is handed its new check.
        assert set(exwatch.services.scheduler.intervals()) == {
            "spot-check",
            "btc-check",
            "eth-check",
        }
        handed = await exwatch.client.get(
            "/api/agent/checks", params={"region": "tokyo"},
            headers={"authorization": "Bearer agent-token"},
        )  # fmt: skip
        assert [c["id"] for c in handed.json()["checks"]] == ["eth-tokyo"]
        async with database.transaction() as session:
            active = dict((await session.execute(select(checks.c.id, checks.c.active))).all())
            shown = set((await session.execute(
                select(components.c.id).where(components.c.active)
            )).scalars())  # fmt: skip
        assert active["api-check"] is False and active["eth-check"] is True
        assert "eth-withdrawals" in shown
        summary = (await exwatch.client.get("/api/v2/components.json")).json()
        assert "ETH出金" in {c["name"] for c in summary["components"]}  # ja: the first language


async def test_an_invalid_file_is_422_with_every_problem_and_nothing_changes(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path, run_checks=True) as exwatch:
        before = exwatch.services.config
        document = exwatch.edited()
        document["checks"][0]["interval"] = "45s"  # a valid change in an invalid file
        document["checks"][1]["component"] = "apii"
        document["components"][0]["group"] = "tradin"
        exwatch.write(document)
        response = await exwatch.reload()
        assert response.status_code == 422
        body = response.json()
        assert body["source"] == str(exwatch.path)
        paths = {p["path"]: p["message"] for p in body["problems"]}
        assert paths["components[0].group"] == "unknown group 'tradin' (did you mean 'trading'?)"
        assert paths["checks[1].component"] == "unknown component 'apii' (did you mean 'api'?)"
        assert exwatch.services.config is before
        assert exwatch.services.scheduler.intervals()["spot-check"] == 300
        assert await exwatch.events("config_reloaded") == []


async def test_a_wrong_value_is_422_naming_its_field(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        document = exwatch.edited()
        document["components"][0]["impact_class"] = "gold"
        document["checks"][2]["interval"] = "0.5s"
        exwatch.write(document)
        problems = (await exwatch.reload()).json()["problems"]
        assert {p["path"] for p in problems} == {"components[0].impact_class", "checks[2].interval"}
        assert {"path": "checks[2].interval", "message": "must be at least 1s"} in problems


async def test_broken_yaml_is_422_naming_the_line(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        exwatch.write("site: {name: x\ncomponents: [")
        response = await exwatch.reload()
        assert response.status_code == 422
        [problem] = response.json()["problems"]
        assert problem["path"].startswith("line ")


async def test_restart_required_fields_keep_their_running_value(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        document = exwatch.edited()
        document["site"]["url"] = "https://elsewhere.example.com"
        document["site"]["name"] = "Exchange status"
        document["retention"] = {"raw": "2d"}
        exwatch.write(document)
        body = (await exwatch.reload()).json()
        assert body["restart_required"] == ["site.url", "retention"]
        assert body["sections"] == ["site.name"]
        config = exwatch.services.config
        assert config.site.url == "https://status.example.com"
        assert config.site.name == "Exchange status"
        assert config.retention.raw == 7 * 86400
        page = (await exwatch.client.get("/api/v2/summary.json")).json()
        assert page["page"]["name"] == "Exchange status"  # the snapshot was rendered again
        # Reloading the same file again: still waiting for the restart, nothing new applied.
        again = (await exwatch.reload()).json()
        assert again["applied"] is False
        assert again["restart_required"] == ["site.url", "retention"]


async def test_an_unchanged_file_applies_nothing(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        before = exwatch.services.config
        body = (await exwatch.reload()).json()
        assert body["applied"] is False
        assert exwatch.services.config is before
        assert await exwatch.events("config_reloaded") == []


@pytest.mark.parametrize(
    ("caller", "status"),
    [(None, 401), ("viewer", 403), ("responder", 403), ("revoked", 401), ("admin", 200)],
)
async def test_only_an_admin_reloads(
    database: Database, clock: FakeClock, tmp_path: Path, caller: str | None, status: int
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        assert (await exwatch.reload(caller)).status_code == status


async def test_a_reload_is_audited_and_on_the_timeline(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        document = exwatch.edited()
        document["severity"] = {"major_outage_count": 2}
        exwatch.write(document)
        assert (await exwatch.reload("admin")).status_code == 200
        audit = (await exwatch.call("GET", "/api/admin/audit")).json()["entries"]
        [entry] = [e for e in audit if e["route"] == "/api/admin/config/reload"]
        assert (entry["actor"], entry["method"], entry["status"]) == ("token:admin-1", "POST", 200)
        [event] = await exwatch.events("config_reloaded")
        assert event.actor == "token:admin-1"
        assert event.data["sections"] == ["severity"]


async def test_a_process_not_started_from_a_file_says_so(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    async with running(database, clock, tmp_path) as exwatch:
        exwatch.services.reloader.path = None
        response = await exwatch.reload()
        assert response.status_code == 409
        assert "--config" in response.json()["problems"][0]
