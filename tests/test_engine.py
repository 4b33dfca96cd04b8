"""The engine on SQLite and PostgreSQL: thresholds, recovery, severity, grouping, restart."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from monitor.config import Config, parse_config
from monitor.domain import ComponentStatus, IncidentStatus, Severity
from monitor.engine import AlertEngine
from monitor.result_writer import ResultWriter
from monitor.storage.database import Database
from monitor.storage.tables import (
    alerts,
    components,
    incident_updates,
    incidents,
    probe_results,
    timeline_events,
)
from tests.support import FAIL, OK, UNREACHABLE_DATABASE_URL, FakeClock

COMPONENTS: list[tuple[str, str, str, list[str]]] = [
    ("trading-engine", "trading", "trading", []),
    ("order-entry", "trading", "trading", ["trading-engine"]),
    ("btc-trading", "trading", "trading", ["trading-engine"]),
    ("market-data", "trading", "information", []),
    ("charts", "trading", "information", ["market-data"]),
    ("btc-withdrawals", "funding", "assets", []),
    ("eth-withdrawals", "funding", "assets", []),
    ("login", "account", "access", []),
    ("website", "account", "access", []),
    ("api", "account", "access", []),
]


def make_config(on_failure: str = "major_outage", **severity: Any) -> Config:
    """One check per component, failing into ``on_failure``; a latency check on withdrawals."""
    document: dict[str, Any] = {
        "site": {"name": "Test"},
        "groups": [{"id": g, "names": {"ja": g, "en": g}} for g in ("trading", "funding", "account")],
        "components": [
            {"id": cid, "names": {"ja": cid + "(ja)", "en": cid}, "group": group, "impact_class": klass, "depends_on": deps}
            for cid, group, klass, deps in COMPONENTS
        ],
        "checks": [
            {"id": f"{cid}-check", "component": cid, "kind": "http", "url": "http://127.0.0.1:9/",
             "interval": "10s", "timeout": "1s", "failures_to_alert": 2, "successes_to_recover": 2,
             "on_failure": on_failure}
            for cid, *_ in COMPONENTS
        ]
        + [{"id": "eth-withdrawals-latency", "component": "eth-withdrawals", "kind": "http",
            "url": "http://127.0.0.1:9/", "interval": "10s", "timeout": "1s",
            "on_failure": "degraded_performance"}],
        "incidents": {"resolve_after": {"minor": "0s", "moderate": "0s", "critical": "0s"}},
    }  # fmt: skip
    if severity:
        document["severity"] = severity
    return parse_config(yaml.safe_dump(document))


class Harness:
    """An engine plus shortcuts to feed results and read state."""

    def __init__(self, database: Database, config: Config, clock: FakeClock) -> None:
        self.database, self.config, self.clock = database, config, clock
        self.changes = 0
        self.writer = ResultWriter(database, clock)
        self.engine = AlertEngine(database, config, clock, self.writer, on_change=self._changed)

    async def _changed(self) -> None:
        self.changes += 1

    async def feed(self, check_id: str, *results: Any) -> None:
        check = next(c for c in self.config.checks if c.id == check_id)
        for result in results:
            self.clock.advance(10)
            await self.engine.ingest(check, result)

    async def status(self, component_id: str) -> ComponentStatus:
        async with self.database.transaction() as s:
            value = await s.scalar(
                select(components.c.status).where(components.c.id == component_id)
            )
        return ComponentStatus(str(value))

    async def incidents(self) -> list[Any]:
        async with self.database.transaction() as s:
            return list((await s.execute(select(incidents).order_by(incidents.c.id))).all())

    async def count(self, table: Any, *where: Any) -> int:
        async with self.database.transaction() as s:
            return int(await s.scalar(select(func.count()).select_from(table).where(*where)) or 0)


async def started(database: Database, config: Config, clock: FakeClock) -> Harness:
    """Return a harness whose engine has started (synced the catalog)."""
    h = Harness(database, config, clock)
    await h.engine.start()
    return h


@pytest.fixture
async def harness(database: Database, clock: FakeClock) -> Harness:
    h = await started(database, make_config(), clock)
    return h


async def test_a_single_failure_below_the_threshold_changes_nothing(harness: Harness) -> None:
    await harness.feed("trading-engine-check", FAIL, OK, FAIL)
    assert await harness.status("trading-engine") == ComponentStatus.OPERATIONAL
    assert await harness.incidents() == []
    assert harness.changes == 0


async def test_failures_to_alert_fire_and_open_a_critical_incident(harness: Harness) -> None:
    await harness.feed("trading-engine-check", FAIL, FAIL)
    assert await harness.status("trading-engine") == ComponentStatus.MAJOR_OUTAGE
    [incident] = await harness.incidents()
    assert incident.severity == Severity.CRITICAL
    assert (
        incident.severity_reason
        == "critical: trading-engine is major_outage (impact class trading)"
    )
    assert incident.status == IncidentStatus.INVESTIGATING
    assert (incident.name_en, incident.name_ja) == (
        "trading-engine: major outage",
        "trading-engine(ja)の大規模障害",
    )
    kinds = await _timeline_kinds(harness)
    assert kinds == ["alert_fired", "component_status_changed", "incident_opened", "update_posted"]
    assert await harness.count(alerts, alerts.c.incident_id == incident.id) == 1


async def test_successes_to_recover_resolve_the_incident(harness: Harness) -> None:
    await harness.feed("trading-engine-check", FAIL, FAIL, FAIL, OK)
    assert await harness.status("trading-engine") == ComponentStatus.MAJOR_OUTAGE
    await harness.feed("trading-engine-check", FAIL, OK, OK)
    assert await harness.status("trading-engine") == ComponentStatus.OPERATIONAL
    [incident] = await harness.incidents()
    assert incident.status == IncidentStatus.RESOLVED
    assert incident.resolved_at == harness.clock.now()
    assert await harness.count(incident_updates, incident_updates.c.status == "resolved") == 1
    assert (await _timeline_kinds(harness))[-5:] == [
        "alert_recovered", "component_status_changed", "incident_recovered", "incident_resolved",
        "update_posted",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("component", "on_failure", "expected"),
    [
        ("trading-engine", "degraded_performance", Severity.MODERATE),
        ("trading-engine", "partial_outage", Severity.MODERATE),
        ("trading-engine", "major_outage", Severity.CRITICAL),
        ("eth-withdrawals", "degraded_performance", Severity.MODERATE),
        ("eth-withdrawals", "partial_outage", Severity.MODERATE),
        ("eth-withdrawals", "major_outage", Severity.MODERATE),
        ("login", "degraded_performance", Severity.MINOR),
        ("login", "partial_outage", Severity.MODERATE),
        ("login", "major_outage", Severity.CRITICAL),
        ("market-data", "degraded_performance", Severity.MINOR),
        ("market-data", "partial_outage", Severity.MINOR),
        ("market-data", "major_outage", Severity.MODERATE),
    ],
)
async def test_severity_follows_the_policy_table(
    database: Database, clock: FakeClock, component: str, on_failure: str, expected: Severity
) -> None:
    h = await started(database, make_config(on_failure=on_failure), clock)
    await h.feed(f"{component}-check", FAIL, FAIL)
    [incident] = await h.incidents()
    assert incident.severity == expected
    assert incident.severity_reason.startswith(f"{expected}: {component} is {on_failure}")


async def test_every_withdrawal_down_is_critical_and_severity_only_rises(harness: Harness) -> None:
    await harness.feed("eth-withdrawals-latency", FAIL, FAIL)
    [incident] = await harness.incidents()
    assert incident.severity == Severity.MODERATE
    await harness.feed("eth-withdrawals-check", FAIL, FAIL)
    await harness.feed("btc-withdrawals-check", FAIL, FAIL)
    assert len(await harness.incidents()) == 2  # unrelated components: separate incidents
    [first, second] = await harness.incidents()
    assert second.severity == Severity.CRITICAL
    assert (
        second.severity_reason
        == "critical: every assets component of group funding (2) is major_outage"
    )
    await harness.feed("btc-withdrawals-check", OK, OK)
    [_, second] = await harness.incidents()
    assert second.status == IncidentStatus.RESOLVED
    await harness.feed("eth-withdrawals-check", OK, OK)
    [first, _] = await harness.incidents()
    assert await harness.status("eth-withdrawals") == ComponentStatus.DEGRADED_PERFORMANCE
    assert first.severity == Severity.MODERATE  # never lowered by itself
    assert first.status == IncidentStatus.INVESTIGATING


async def test_a_dependent_component_joins_its_parents_incident(harness: Harness) -> None:
    await harness.feed("trading-engine-check", FAIL, FAIL)
    await harness.feed("order-entry-check", FAIL, FAIL)
    [incident] = await harness.incidents()
    assert await harness.count(timeline_events, timeline_events.c.kind == "component_joined") == 1
    await harness.feed("trading-engine-check", OK, OK)
    [incident] = await harness.incidents()
    assert incident.status == IncidentStatus.INVESTIGATING  # order entry still down
    await harness.feed("order-entry-check", OK, OK)
    [incident] = await harness.incidents()
    assert incident.status == IncidentStatus.RESOLVED


async def test_major_outage_count_rule_makes_it_critical(
    database: Database, clock: FakeClock
) -> None:
    h = await started(database, make_config(on_failure="major_outage", major_outage_count=2), clock)
    await h.feed("market-data-check", FAIL, FAIL)
    [incident] = await h.incidents()
    assert incident.severity == Severity.MODERATE
    await h.feed("charts-check", FAIL, FAIL)
    [incident] = await h.incidents()
    assert incident.severity == Severity.CRITICAL
    assert (
        incident.severity_reason == "critical: 2 components are major_outage (market-data, charts)"
    )
    assert await h.count(timeline_events, timeline_events.c.kind == "severity_changed") == 1


async def test_a_restart_continues_without_duplicates(database: Database, clock: FakeClock) -> None:
    first = await started(database, make_config(), clock)
    await first.feed("trading-engine-check", FAIL, FAIL)
    second = Harness(database, make_config(), clock)  # a new process on the same database
    await second.engine.start()
    await second.feed("trading-engine-check", FAIL, FAIL, FAIL)
    assert len(await second.incidents()) == 1
    assert await second.count(alerts) == 1
    await second.feed("trading-engine-check", OK, OK)
    [incident] = await second.incidents()
    assert incident.status == IncidentStatus.RESOLVED


async def test_a_removed_check_closes_its_alert_on_restart(
    database: Database, clock: FakeClock
) -> None:
    h = await started(database, make_config(), clock)
    await h.feed("login-check", FAIL, FAIL)
    smaller = _without(make_config(), "login-check")
    restarted = await started(database, smaller, clock)
    assert await restarted.status("login") == ComponentStatus.OPERATIONAL
    [incident] = await restarted.incidents()
    assert incident.status == IncidentStatus.RESOLVED


async def test_a_database_failure_drops_the_result_not_the_engine(clock: FakeClock) -> None:
    unreachable = Database(UNREACHABLE_DATABASE_URL)
    h = Harness(unreachable, make_config(), clock)
    await h.feed("login-check", FAIL, FAIL)  # logged and dropped, never raised
    assert h.changes == 0
    await unreachable.close()


async def _timeline_kinds(h: Harness) -> list[str]:
    async with h.database.transaction() as s:
        return list(
            (
                await s.execute(select(timeline_events.c.kind).order_by(timeline_events.c.id))
            ).scalars()
        )


async def test_the_incident_is_named_after_the_parent_once_it_fails_too(harness: Harness) -> None:
    await harness.feed("order-entry-check", FAIL, FAIL)
    [incident] = await harness.incidents()
    assert incident.name_en == "order-entry: major outage"
    await harness.feed("trading-engine-check", FAIL, FAIL)
    [incident] = await harness.incidents()
    assert (incident.name_en, incident.name_ja) == (
        "trading-engine: major outage",
        "trading-engine(ja)の大規模障害",
    )
    assert await harness.count(timeline_events, timeline_events.c.kind == "incident_renamed") == 1


def _without(config: Config, check_id: str) -> Config:
    return config.model_copy(update={"checks": tuple(c for c in config.checks if c.id != check_id)})


async def test_a_removed_then_restored_check_alerts_again(
    database: Database, clock: FakeClock
) -> None:
    h = await started(database, make_config(), clock)
    await h.feed("login-check", FAIL, FAIL)
    await Harness(database, _without(make_config(), "login-check"), clock).engine.start()
    restored = await started(database, make_config(), clock)
    await restored.feed("login-check", FAIL, FAIL)
    assert await restored.status("login") == ComponentStatus.MAJOR_OUTAGE
    # The same alert firing again within reopen_window reopens its incident.
    assert [i.status for i in await restored.incidents()] == [IncidentStatus.INVESTIGATING]
    assert "incident_reopened" in await _timeline_kinds(restored)


async def test_a_check_moved_to_another_component_releases_the_old_one(
    database: Database, clock: FakeClock
) -> None:
    h = await started(database, make_config(), clock)
    await h.feed("login-check", FAIL, FAIL)
    config = make_config()
    moved = config.model_copy(
        update={"checks": tuple(c.model_copy(update={"component": "website"}) if c.id == "login-check" else c
                                for c in config.checks)}
    )  # fmt: skip
    restarted = await started(database, moved, clock)
    assert await restarted.status("login") == ComponentStatus.OPERATIONAL
    [incident] = await restarted.incidents()
    assert incident.status == IncidentStatus.RESOLVED


async def test_a_component_removed_from_the_config_does_not_break_its_incident(
    database: Database, clock: FakeClock
) -> None:
    h = await started(database, make_config(), clock)
    await h.feed("order-entry-check", FAIL, FAIL)
    config = _without(make_config(), "order-entry-check")
    smaller = config.model_copy(
        update={"components": tuple(c for c in config.components if c.id != "order-entry")}
    )
    restarted = await started(database, smaller, clock)
    await restarted.feed("trading-engine-check", FAIL, FAIL)
    assert await restarted.status("trading-engine") == ComponentStatus.MAJOR_OUTAGE


async def test_a_burst_of_dependents_posts_one_public_update(harness: Harness) -> None:
    await harness.feed("trading-engine-check", FAIL, FAIL)  # opens the incident: one update
    await harness.feed("order-entry-check", FAIL, FAIL)  # joins seconds later: no new update
    assert await harness.count(incident_updates) == 1
    harness.clock.advance(300)
    await harness.feed("btc-trading-check", FAIL, FAIL)  # joins after a quiet spell: an update
    assert await harness.count(incident_updates) == 2
    assert await harness.count(timeline_events, timeline_events.c.kind == "component_joined") == 2


def regional_config(quorum: int | None = None) -> Config:
    config = make_config()
    checks = tuple(
        c.model_copy(update={"regions": ("local", "tokyo", "osaka"), "quorum": quorum})
        if c.id == "login-check"
        else c
        for c in config.checks
    )
    return config.model_copy(update={"checks": checks})


async def test_a_quorum_of_regions_must_fail_to_alert(database: Database, clock: FakeClock) -> None:
    h = await started(database, regional_config(), clock)  # 3 regions: a majority is 2
    check = next(c for c in h.config.checks if c.id == "login-check")
    for _ in range(3):
        await h.engine.ingest(check, FAIL, region="tokyo")
    assert await h.status("login") == ComponentStatus.OPERATIONAL  # one region alone is held back
    for _ in range(2):
        await h.engine.ingest(check, FAIL, region="osaka")
    assert await h.status("login") == ComponentStatus.MAJOR_OUTAGE
    [incident] = await h.incidents()
    restarted = await started(database, regional_config(), clock)  # per-region state survives
    for _ in range(2):
        await restarted.engine.ingest(check, OK, region="osaka")
    assert await restarted.status("login") == ComponentStatus.OPERATIONAL
    [incident] = await restarted.incidents()
    assert incident.status == IncidentStatus.RESOLVED


async def test_an_explicit_quorum_of_one_alerts_on_any_region(
    database: Database, clock: FakeClock
) -> None:
    h = await started(database, regional_config(quorum=1), clock)
    check = next(c for c in h.config.checks if c.id == "login-check")
    for _ in range(2):
        await h.engine.ingest(check, FAIL, region="osaka")
    assert await h.status("login") == ComponentStatus.MAJOR_OUTAGE


async def test_a_cut_off_region_is_held_back_instead_of_paging_for_everything(
    database: Database, clock: FakeClock
) -> None:
    config = make_config()
    everywhere = config.model_copy(
        update={
            "checks": tuple(
                c.model_copy(update={"regions": ("local", "tokyo"), "quorum": 1})
                for c in config.checks
            )
        }
    )
    h = await started(database, everywhere, clock)
    for check in everywhere.checks:
        await h.engine.ingest(check, OK, region="local")
    for _ in range(3):  # tokyo loses its uplink: every check fails there, at once
        clock.advance(2)  # the guard judges a region at most once a second
        for check in everywhere.checks:
            await h.engine.ingest(check, FAIL, region="tokyo")
    assert await h.incidents() == []
    assert await h.count(timeline_events, timeline_events.c.kind == "region_held_back") == 1
    for _ in range(2):  # tokyo's uplink is back
        clock.advance(2)
        for check in everywhere.checks:
            await h.engine.ingest(check, OK, region="tokyo")
    assert await h.count(timeline_events, timeline_events.c.kind == "region_released") == 1


def three_regions(
    config: Config, regions: tuple[str, ...] = ("local", "tokyo", "osaka"), quorum: int | None = 2
) -> Config:
    checks = tuple(
        c.model_copy(update={"regions": regions, "quorum": quorum}) if c.id == "login-check" else c
        for c in config.checks
    )
    return config.model_copy(update={"checks": checks})


async def test_a_silent_region_blocks_recovery_for_a_while_then_is_forgotten(
    database: Database, clock: FakeClock
) -> None:
    from monitor.engine import FORGET_AFTER, stale_after

    config = three_regions(make_config())
    h = await started(database, config, clock)
    check = next(c for c in config.checks if c.id == "login-check")
    for region in ("local", "tokyo", "local", "tokyo"):
        await h.engine.ingest(check, FAIL, region=region)
    assert await h.status("login") == ComponentStatus.MAJOR_OUTAGE
    clock.advance(stale_after(check) + 1)  # tokyo's agent died while seeing the failure
    for _ in range(3):
        await h.engine.ingest(check, OK, region="local")
    assert await h.status("login") == ComponentStatus.MAJOR_OUTAGE  # silence cannot resolve it
    clock.advance(FORGET_AFTER * stale_after(check))
    await h.engine.ingest(check, OK, region="local")
    assert await h.status("login") == ComponentStatus.OPERATIONAL


async def test_a_backlog_is_stored_but_does_not_page(database: Database, clock: FakeClock) -> None:
    config = three_regions(make_config(), ("local", "tokyo"), quorum=1)
    h = await started(database, config, clock)
    check = next(c for c in config.checks if c.id == "login-check")
    long_ago = clock.now() - timedelta(hours=1)
    for _ in range(3):
        await h.engine.ingest(check, FAIL, region="tokyo", observed_at=long_ago)
    assert await h.status("login") == ComponentStatus.OPERATIONAL
    await h.writer.stop()
    assert await h.count(probe_results, probe_results.c.region == "tokyo") == 3


async def test_a_region_removed_and_added_back_starts_from_ok(
    database: Database, clock: FakeClock
) -> None:
    config = three_regions(make_config(), ("local", "tokyo"), quorum=2)
    h = await started(database, config, clock)
    check = next(c for c in config.checks if c.id == "login-check")
    for _ in range(2):
        await h.engine.ingest(check, FAIL, region="tokyo")  # tokyo firing, quorum not met
    await started(database, three_regions(make_config(), ("local",), quorum=None), clock)
    back = await started(
        database, three_regions(make_config(), ("local", "tokyo"), quorum=1), clock
    )
    await back.engine.ingest(check, OK, region="local")
    assert await back.status("login") == ComponentStatus.OPERATIONAL
